// tsrunc's command line: runc's global flags and subcommands. Each subcommand
// lives in its own module; they are loaded only when used.
import yargs from 'yargs';
import { TSRUNC_VERSION, SPEC_VERSION } from '../version';
import { makeLogger } from './context';
import { reportFatal } from './log';

// Subcommands: the module of the one being run is the only one loaded.
const COMMANDS: [name: string, usage: string, describe: string][] = [
  ['spec', 'spec', 'create a new specification file (config.json)'],
  ['create', 'create [id]', 'create a container'],
  ['start', 'start [id]', 'executes the user defined process in a created container'],
  ['run', 'run [id]', 'create and run a container'],
  ['state', 'state [id]', 'output the state of a container'],
  ['kill', 'kill [id] [signal]', "kill sends the specified signal (default: SIGTERM) to the container's init process"],
  ['delete', 'delete [id]', 'delete any resources held by the container often used with detached container'],
  ['list', 'list', 'lists containers started by tsrunc with the given root'],
  ['pause', 'pause [id]', 'pause suspends all processes inside the container'],
  ['resume', 'resume [id]', 'resumes all processes that have been previously paused'],
  ['update', 'update [id]', 'update container resource constraints'],
  ['events', 'events [id]', 'display container events such as OOM notifications, cpu, memory, and IO usage statistics'],
  ['features', 'features', 'show the enabled features'],
  ['exec', 'exec', 'execute new process inside the container'],
  ['ps', 'ps [id]', 'ps displays the processes running inside a container'],
];

export async function main(args: string[]): Promise<void> {
  const parser = yargs(args)
    .scriptName('tsrunc')
    .usage('tsrunc [global options] command [command options] [arguments...]\n\nA runc-compatible OCI container runtime.')
    .option('root', { type: 'string', describe: 'root directory for storage of container state (this should be located in tmpfs)', default: undefined })
    .option('log', { type: 'string', describe: 'set the log file to write tsrunc logs to (default is stderr)' })
    .option('log-format', { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'set the log format' })
    .option('debug', { type: 'boolean', describe: 'enable debug logging' })
    .option('systemd-cgroup', { type: 'boolean', describe: 'enable systemd cgroup support (not supported yet)' })
    .option('rootless', { describe: 'ignore cgroup permission errors (true, false, auto)' })
    .option('criu', { type: 'string', hidden: true })
    .version(false)
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .help('help')
    .alias('help', 'h')
    .strict()
    .demandCommand(0)
    .fail((msg, err) => {
      const logger = makeLogger({});
      reportFatal(logger, msg || (err ? err.message : 'invalid arguments'));
      process.exit(1);
    })
    .parserConfiguration({ 'boolean-negation': false, 'unknown-options-as-args': false });

  const invoked = args.find((a) => COMMANDS.some(([name]) => name === a));
  for (const [name, usage, describe] of COMMANDS) {
    if (name === invoked) {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const mod = require(`./${name}`);
      parser.command(usage, describe, mod.builder, mod.handler);
    } else {
      parser.command(usage, describe);
    }
  }
  const argv = await parser.parseAsync();
  if (argv.version && argv._.length === 0) {
    process.stdout.write(`tsrunc version ${TSRUNC_VERSION}\nspec: ${SPEC_VERSION}\nnode: ${process.version}\n`);
    return;
  }
  if (argv._.length === 0) parser.showHelp('log');
}
