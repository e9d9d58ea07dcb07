// tsrunc's command line: runc's global flags and subcommands. Each subcommand
// lives in its own module; they are loaded only when used.
import type Yargs = require('yargs');
import type { Argv } from 'yargs';
import { TSRUNC_VERSION, TSRUNC_COMMIT, SPEC_VERSION } from '../version';
import { makeLogger } from './context';
import { reportFatal } from './log';
import { printOut } from './output';
import { COMMAND_NAMES, type CommandName, subcommand, subcommandIndex } from './argv';
import type * as Arity from './arity';
import { helpRequest, mainHelpText, commandHelpText, versionText } from './help';
import type * as Api from '../api';
import { phase } from '../trace';
import { fastArgs } from './fast-args';

/** What a subcommand module exports. */
interface CommandModule {
  builder: (y: Argv) => Argv;
  handler: (argv: Record<string, unknown>) => void | Promise<void>;
}

// Subcommands: the module of the one being run is the only one loaded. The
// requires are spelled out so that scripts/bundle/build.js can follow them.
const COMMANDS: Record<CommandName, [usage: string, describe: string, load: () => CommandModule]> = {
  spec: ['spec', 'create a new specification file (config.json)', () => require('./spec')],
  create: ['create [id]', 'create a container', () => require('./create')],
  start: ['start [id]', 'executes the user defined process in a created container', () => require('./start')],
  run: ['run [id]', 'create and run a container', () => require('./run')],
  state: ['state [id]', 'output the state of a container', () => require('./state')],
  kill: ['kill [id] [signal]', "kill sends the specified signal (default: SIGTERM) to the container's init process", () => require('./kill')],
  delete: ['delete [id]', 'delete any resources held by the container often used with detached container', () => require('./delete')],
  list: ['list', 'lists containers started by tsrunc with the given root', () => require('./list')],
  pause: ['pause [id]', 'pause suspends all processes inside the container', () => require('./pause')],
  resume: ['resume [id]', 'resumes all processes that have been previously paused', () => require('./resume')],
  update: ['update [id]', 'update container resource constraints', () => require('./update')],
  events: ['events [id]', 'display container events such as OOM notifications, cpu, memory, and IO usage statistics', () => require('./events')],
  features: ['features', 'show the enabled features', () => require('./features')],
  exec: ['exec', 'execute new process inside the container', () => require('./exec')],
  ps: ['ps [id]', 'ps displays the processes running inside a container', () => require('./ps')],
  checkpoint: ['checkpoint [id]', 'checkpoint a running container', () => require('./checkpoint')],
  restore: ['restore [id]', 'restore a container from a previous checkpoint', () => require('./restore')],
};

const NAME = 'tsrunc';

/** runc's app.Version: the version, then `key: value` lines. */
const VERSION = () => versionText(TSRUNC_VERSION, [...(TSRUNC_COMMIT ? [`commit: ${TSRUNC_COMMIT}`] : []), `spec: ${SPEC_VERSION}`, `node: ${process.version}`]);

/**
 * Help and version, answered before yargs as runc's urfave/cli answers them
 * (src/cli/help.ts); true when `args` asked for one of them.
 */
function answerHelp(args: string[]): boolean {
  const req = helpRequest(args, COMMAND_NAMES);
  if (!req) return false;
  if (req.kind === 'version') printOut(`${NAME} version ${VERSION()}\n`);
  else if (req.kind === 'main') printOut(mainHelpText(NAME, VERSION(), (require('../api') as typeof Api).defaultRoot()) + '\n'); // the library's modules, for help alone
  else if (req.kind === 'command') printOut(commandHelpText(req.command, NAME) ?? '');
  else {
    // urfave/cli's ExitError, printed with a newline through runc's FatalWriter (to the log): exit status 3
    reportFatal(makeLogger(globalLogArgs(args)), `No help topic for '${req.topic}'\n`);
    process.exitCode = 3;
  }
  return true;
}

/**
 * The flag yargs calls an unknown argument, as Go's flag package names it
 * ("-foo" for --foo or -foo), when it was given as a flag; undefined for other
 * failures (an unknown positional argument, a bad value).
 */
function undefinedFlag(msg: string | undefined, args: string[]): string | undefined {
  const m = /^Unknown arguments?: (.+)$/.exec(msg ?? '');
  if (!m) return undefined;
  const names = m[1].split(', ');
  for (const name of names) {
    if (args.some((a) => a === `-${name}` || a === `--${name}` || a.startsWith(`-${name}=`) || a.startsWith(`--${name}=`))) return `-${name}`;
  }
  // Go's single-dash long flag (-foo), which yargs took for the short flags f, o, o
  const joined = args.find((a) => /^-[^-]/.test(a) && a.slice(1).startsWith(names.join('')));
  return joined ? joined.split('=')[0] : undefined;
}

/** --log and --log-format among the global flags, for the one error the help answers. */
function globalLogArgs(args: string[]): { log?: string; 'log-format'?: string } {
  const out: { log?: string; 'log-format'?: string } = {};
  for (let i = 0; i < args.length && args[i].startsWith('-'); i++) {
    const m = /^--?(log|log-format)(?:=(.*))?$/.exec(args[i]);
    if (m) out[m[1] as 'log' | 'log-format'] = m[2] ?? args[++i];
    else if (/^--?(root|criu|rootless)$/.test(args[i])) i++;
  }
  return out;
}

/**
 * A wrong number of arguments (or a flag without its value), answered as
 * runc's checkArgs does: "Incorrect Usage." and the command's help on stdout,
 * the error logged, exit status 1 (src/cli/arity.ts). True when that was the
 * answer.
 */
function answerArity(args: string[], command: CommandName | undefined): boolean {
  if (!command) return false;
  // runc names itself as invoked (os.Args[0]); node gives the launcher's path
  // loaded here: the lines fast-args.ts reads never come this far
  const { arityProblem } = require('./arity') as typeof Arity;
  const problem = arityProblem(command, args.slice(subcommandIndex(args) + 1), process.argv[1] ?? NAME);
  if (!problem) return false;
  printOut(`${problem.heading}\n\n${commandHelpText(command, NAME) ?? ''}`);
  reportFatal(makeLogger(globalLogArgs(args)), problem.error);
  process.exitCode = 1;
  return true;
}

export async function main(args: string[]): Promise<void> {
  phase('cli: bundle modules of main');
  if (answerHelp(args)) return;
  const invoked = subcommand(args);
  // the common command lines, without yargs (src/cli/fast-args.ts)
  const fast = fastArgs(args);
  if (fast) {
    const mod = COMMANDS[fast.command][2]();
    phase(`cli: load the ${fast.command} command's modules (arguments read without yargs)`);
    await mod.handler(fast.argv);
    return;
  }
  // a wrong number of arguments, in runc's words (the lines read above have the right number)
  if (answerArity(args, invoked)) return;
  const parser = yargsParser(args, invoked);
  phase('cli: yargs set-up, the command\'s modules');
  await parser.parseAsync();
  phase('cli: after the command (yargs)');
}

/** Reports a command line yargs refuses, as runc does, and exits 1. */
function refuse(args: string[], invoked: CommandName | undefined, msg: string | undefined, err: Error | undefined): never {
  const logger = makeLogger({});
  // a command's flag it does not have: runc's (urfave/cli's) words, then the command's help
  const flag = undefinedFlag(msg, args);
  const help = flag && invoked ? commandHelpText(invoked, 'tsrunc') : undefined;
  if (flag && help) {
    printOut(`Incorrect Usage: flag provided but not defined: ${flag}\n\n${help}`);
    reportFatal(logger, `flag provided but not defined: ${flag}`);
    process.exit(1);
  }
  reportFatal(logger, msg || (err ? err.message : 'invalid arguments'));
  process.exit(1);
}

/**
 * yargs with the global flags and every command; `invoked`'s with its
 * options, run by `handler` (its module's). `fail` gets what yargs refuses.
 * (test/unit/fast-args.test.js compares it with src/cli/fast-args.ts.)
 */
export function yargsParser(
  args: string[],
  invoked: CommandName | undefined,
  handler?: (argv: Record<string, unknown>) => unknown,
  fail: (msg: string | undefined, err: Error | undefined) => void = (msg, err) => refuse(args, invoked, msg, err),
): Argv {
  // yargs/yargs: the factory alone ('yargs' also builds a parser of process.argv as it loads)
  const yargs = require('yargs/yargs') as typeof Yargs;
  const parser = yargs(args)
    .scriptName('tsrunc')
    .usage('tsrunc [global options] command [command options] [arguments...]\n\nA runc-compatible OCI container runtime.')
    .option('root', { type: 'string', describe: 'root directory for storage of container state (this should be located in tmpfs)', default: undefined })
    .option('log', { type: 'string', describe: 'set the log file to write tsrunc logs to (default is stderr)' })
    .option('log-format', { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'set the log format' })
    .option('debug', { type: 'boolean', describe: 'enable debug logging' })
    .option('systemd-cgroup', { type: 'boolean', describe: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:runc:434234"' })
    .option('rootless', { describe: 'ignore cgroup permission errors (true, false, auto)' })
    .option('criu', { type: 'string', describe: 'path to the criu binary used for checkpoint and restore' })
    .version(false)
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .help('help')
    .alias('help', 'h')
    .strict()
    .demandCommand(0)
    .fail(fail)
    // ids and exec's arguments are words: "123" is a container id and `exec ID echo 0x10` prints 0x10
    .parserConfiguration({ 'boolean-negation': false, 'unknown-options-as-args': false, 'parse-numbers': false, 'parse-positional-numbers': false });

  // words after "--" are arguments (runc counts them): yargs leaves them in argv._, not in the positionals
  if (invoked) {
    const names = [...COMMANDS[invoked][0].matchAll(/\[(\w+)\]/g)].map((m) => m[1]);
    parser.middleware((argv) => {
      const rest = argv._.slice(1);
      for (const name of names) if (argv[name] === undefined && rest.length) argv[name] = String(rest.shift());
      argv._ = [...argv._.slice(0, 1), ...rest];
    });
  }
  skipHelpCache(parser);
  for (const name of COMMAND_NAMES) {
    const [usage, describe, load] = COMMANDS[name];
    if (name === invoked) {
      const mod = load();
      parser.command(usage, describe, mod.builder, (handler ?? mod.handler) as never);
    } else {
      parser.command(usage, describe);
    }
  }
  return parser;
}

/**
 * yargs renders the whole help text after running any command, in case the
 * handler later calls showHelp() (tsrunc's never do): about 15 ms of every
 * command. `--help` still renders it when asked. Uses yargs' internal
 * methods; when they are missing, nothing changes but the speed.
 */
function skipHelpCache(parser: Argv): void {
  const internals = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } })
    .getInternalMethods?.();
  const usage = internals?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}
