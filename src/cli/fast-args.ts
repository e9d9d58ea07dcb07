// The command lines callers send most (containerd's shim, conmon, CRI, the
// bench): a lifecycle command (create and run too) on one container, with the
// global flags they pass, all flags before the arguments. Read here without yargs, whose loading
// and set-up cost about 6 ms of commands that take a few ms of their own.
// Anything else (another flag or form of one, a missing or extra argument,
// "--", a flag given twice, help) is not read here: main() gives it to yargs
// as before, so every error keeps its words. What this returns is the argv
// yargs gives the same command's handler; for exec, the flags its second
// reading of the words gives (src/cli/exec.ts).
import type { CommandName } from './argv';

interface CommandFlags {
  /** Flags without a value -> their name in argv. */
  bools?: Record<string, string>;
  /** Flags with a value (`--flag v`, `--flag=v`) -> their name in argv. */
  values?: Record<string, string>;
  /** The positional arguments, in order; the optional ones last. */
  args: { name: string; optional?: boolean }[];
  /** yargs' defaults of the command's options. */
  defaults?: Record<string, string | number>;
  /** Value flags of type number: digits only here, read as a number. */
  numbers?: string[];
  /** Repeatable value flags -> their name in argv, a list of every value. */
  lists?: Record<string, string>;
}

const ID = { name: 'id' };

/** create's flags (src/cli/create-flags.ts), run's too. */
const CREATE: CommandFlags = {
  bools: { '--no-pivot': 'no-pivot', '--no-new-keyring': 'no-new-keyring' },
  values: { '--bundle': 'bundle', '-b': 'bundle', '--console-socket': 'console-socket', '--pid-file': 'pid-file', '--preserve-fds': 'preserve-fds' },
  args: [ID],
  defaults: { 'preserve-fds': 0 },
  numbers: ['preserve-fds'],
};

const FAST: Partial<Record<CommandName, CommandFlags>> = {
  state: { args: [ID] },
  start: { args: [ID] },
  pause: { args: [ID] },
  resume: { args: [ID] },
  delete: { bools: { '--force': 'force', '-f': 'force' }, args: [ID] },
  kill: { bools: { '--all': 'all', '-a': 'all' }, args: [ID, { name: 'signal', optional: true }] },
  list: { bools: { '--quiet': 'quiet', '-q': 'quiet' }, values: { '--format': 'format', '-f': 'format' }, args: [], defaults: { format: 'table' } },
  events: { bools: { '--stats': 'stats' }, values: { '--interval': 'interval' }, args: [ID], defaults: { interval: '5s' } },
  // ps ID alone: words after the id go to ps(1), a line yargs reads
  ps: { values: { '--format': 'format', '-f': 'format' }, args: [ID], defaults: { format: 'table' } },
  create: CREATE,
  run: { ...CREATE, bools: { ...CREATE.bools, '--detach': 'detach', '-d': 'detach', '--keep': 'keep', '--no-subreaper': 'no-subreaper' } },
};

const GLOBAL: CommandFlags = {
  bools: { '--debug': 'debug', '--systemd-cgroup': 'systemd-cgroup' },
  values: { '--root': 'root', '--log': 'log', '--log-format': 'log-format' },
  args: [],
};

/** exec's flags (src/cli/exec.ts): those before the id; every word after it is the command's. */
const EXEC: CommandFlags = {
  bools: { '--detach': 'detach', '-d': 'detach', '--tty': 'tty', '-t': 'tty', '--no-new-privs': 'no-new-privs', '--ignore-paused': 'ignore-paused' },
  values: {
    '--process': 'process', '-p': 'process', '--pid-file': 'pid-file', '--console-socket': 'console-socket', '--cwd': 'cwd',
    '--user': 'user', '-u': 'user', '--preserve-fds': 'preserve-fds', '--apparmor': 'apparmor', '--process-label': 'process-label',
  },
  // repeatable: each one adds to a list
  lists: { '--env': 'env', '-e': 'env', '--cap': 'cap', '-c': 'cap' },
  args: [ID],
  defaults: { 'preserve-fds': 0 },
  numbers: ['preserve-fds'],
};

/**
 * exec's words after "exec" (flags, the id, the command) as its yargs
 * reading gives them, or undefined to leave them to yargs: a flag not in
 * EXEC, or no command and no --process (runc's error comes from there).
 */
export function fastExecFlags(words: string[]): Record<string, unknown> | undefined {
  const argv: Record<string, unknown> = { ...EXEC.defaults };
  const i = readFlags(words, 0, EXEC, argv, new Set());
  if (i < 0) return undefined;
  const [id, ...command] = words.slice(i);
  if (id === undefined || id.startsWith('-') || command.includes('--') || (command.length === 0 && argv.process === undefined)) return undefined;
  return { ...argv, id, command };
}

export interface FastArgs {
  command: CommandName;
  argv: Record<string, unknown>;
}

/**
 * Reads flags of `flags` from args[i] on into `argv`; returns the index of the
 * first other word, or -1 when a word is a form this reader leaves to yargs.
 */
function readFlags(args: string[], i: number, flags: CommandFlags, argv: Record<string, unknown>, seen: Set<string>): number {
  for (; i < args.length && args[i].startsWith('-'); i++) {
    const eq = args[i].indexOf('=');
    const flag = eq < 0 ? args[i] : args[i].slice(0, eq);
    const list = flags.lists?.[flag];
    if (list !== undefined) {
      const v = eq >= 0 ? args[i].slice(eq + 1) : args[++i];
      if (v === undefined || v === '' || v.startsWith('-')) return -1;
      argv[list] = [...((argv[list] as string[] | undefined) ?? []), v];
      continue;
    }
    const bool = flags.bools?.[flag];
    const value = flags.values?.[flag];
    const name = bool ?? value;
    if (name === undefined || seen.has(name)) return -1;
    seen.add(name);
    if (bool !== undefined) {
      // yargs reads `--flag=x` and a following "true"/"false" as the flag's value
      if (eq >= 0 || args[i + 1] === 'true' || args[i + 1] === 'false') return -1;
      argv[bool] = true;
      continue;
    }
    const v = eq >= 0 ? args[i].slice(eq + 1) : args[++i];
    if (v === undefined || v === '' || v.startsWith('-')) return -1;
    if (flags.numbers?.includes(name)) {
      if (!/^\d{1,9}$/.test(v)) return -1; // yargs' own reading of anything else (NaN, 1e3, 0x10)
      argv[name] = Number(v);
    } else {
      argv[name] = v;
    }
  }
  return i;
}

/** The argv yargs would give the command's handler, or undefined to let yargs read `args`. */
export function fastArgs(args: string[]): FastArgs | undefined {
  const argv: Record<string, unknown> = { 'log-format': 'text' };
  const seen = new Set<string>();
  let i = readFlags(args, 0, GLOBAL, argv, seen);
  if (i < 0 || i >= args.length) return undefined;
  const command = args[i] as CommandName;
  if (command === 'exec') {
    if (argv['log-format'] !== 'text' && argv['log-format'] !== 'json') return undefined;
    const words = args.slice(i + 1);
    if (!fastExecFlags(words)) return undefined;
    // as yargs leaves them (halt-at-non-option): the handler reads the words again
    return { command, argv: { ...argv, 'preserve-fds': 0, _: [command, command, ...words], $0: 'tsrunc' } };
  }
  const flags = Object.prototype.hasOwnProperty.call(FAST, command) ? FAST[command] : undefined;
  if (!flags) return undefined;
  if (argv['log-format'] !== 'text' && argv['log-format'] !== 'json') return undefined; // yargs' choices error
  Object.assign(argv, flags.defaults);
  i = readFlags(args, i + 1, flags, argv, seen);
  if (i < 0) return undefined;
  const rest = args.slice(i);
  const required = flags.args.filter((a) => !a.optional).length;
  if (rest.length < required || rest.length > flags.args.length || rest.some((w) => w.startsWith('-'))) return undefined;
  rest.forEach((w, k) => (argv[flags.args[k].name] = w));
  argv._ = [command];
  argv.$0 = 'tsrunc';
  return { command, argv };
}
