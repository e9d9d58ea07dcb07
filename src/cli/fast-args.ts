// The command lines callers send most (containerd's shim, conmon, CRI, the
// bench): a lifecycle command (create and run too) on one container, with the
// global flags they pass, all flags before the arguments. Read here without yargs, whose loading
// and set-up cost about 6 ms of commands that take a few ms of their own.
// Anything else (another flag or form of one, a missing or extra argument,
// "--", a flag given twice, help) is not read here: main() gives it to yargs
// as before, so every error keeps its words. What this returns is the argv
// yargs gives the same command's handler.
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
