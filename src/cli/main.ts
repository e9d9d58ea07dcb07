// tsrunc's command line: runc's global flags and subcommands. Each subcommand
// lives in its own module; they are loaded only when used.
import yargs from 'yargs';
import { TSRUNC_VERSION, SPEC_VERSION } from '../version';
import { makeLogger } from './context';
import { reportFatal } from './log';

const COMMANDS = ['spec', 'create', 'start', 'run', 'state', 'kill', 'delete', 'list'];

export async function main(args: string[]): Promise<void> {
  const parser = yargs(args)
    .scriptName('tsrunc')
    .usage('tsrunc [global options] command [command options] [arguments...]\n\nA runc-compatible OCI container runtime.')
    .option('root', { type: 'string', describe: 'root directory for storage of container state (this should be located in tmpfs)', default: undefined })
    .option('log', { type: 'string', describe: 'set the log file to write tsrunc logs to (default is stderr)' })
    .option('log-format', { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'set the log format' })
    .option('debug', { type: 'boolean', describe: 'enable debug logging' })
    .option('systemd-cgroup', { type: 'boolean', describe: 'enable systemd cgroup support (not supported yet)' })
    .option('rootless', { type: 'string', describe: 'ignore cgroup permission errors (true, false, auto)' })
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

  for (const name of COMMANDS) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    parser.command(require(`./${name}`));
  }
  const argv = await parser.parseAsync();
  if (argv.version && argv._.length === 0) {
    process.stdout.write(`tsrunc version ${TSRUNC_VERSION}\nspec: ${SPEC_VERSION}\n`);
    return;
  }
  if (argv._.length === 0) parser.showHelp('log');
}
