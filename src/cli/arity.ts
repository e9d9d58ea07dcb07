// How many arguments each command takes, checked as runc's checkArgs does
// before the command runs: "Incorrect Usage." and the command's help on
// stdout, `PROGRAM: "start" requires exactly 1 argument(s)` logged as the
// error (PROGRAM as invoked: runc's os.Args[0]), exit status 1. A flag whose
// value is missing at the end is Go's "flag needs an argument: -cwd", said
// the same way after "Incorrect Usage: ". Decided on the command line before
// yargs, like the help (help.ts): a flag the command does not have is left
// to yargs, which reports it first, as urfave/cli does.
import { type CommandName } from './argv';
import { commandFlags } from './help';

type Arity = { exactly: number } | { min: number; max?: number };

// runc 1.1.5's checkArgs calls; ps passes what follows the id to ps(1), exec runs it
const ARITY: Record<CommandName, Arity> = {
  create: { exactly: 1 }, start: { exactly: 1 }, run: { exactly: 1 }, state: { exactly: 1 },
  delete: { exactly: 1 }, pause: { exactly: 1 }, resume: { exactly: 1 }, events: { exactly: 1 },
  update: { exactly: 1 }, checkpoint: { exactly: 1 }, restore: { exactly: 1 }, kill: { min: 1, max: 2 }, ps: { min: 1 }, exec: { min: 1 },
  list: { exactly: 0 }, spec: { exactly: 0 }, features: { exactly: 0 },
};

/** Commands whose flags end at the first argument (the rest is the process's or ps(1)'s). */
const FLAGS_FIRST = new Set<CommandName>(['exec', 'ps']);

/**
 * The arguments of `command` in `rest` (the words after it), a flag whose
 * value is missing, or undefined when a word is a flag it does not have
 * (yargs reports that).
 */
function countArgs(command: CommandName, rest: string[]): number | { needsValue: string } | undefined {
  const { all, takesValue } = commandFlags(command);
  let n = 0;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (w === '--') return n + rest.length - i - 1;
    if (!w.startsWith('-') || w === '-') {
      if (FLAGS_FIRST.has(command)) return n + rest.length - i;
      n++;
      continue;
    }
    const flag = w.split('=')[0];
    if (!all.has(flag)) return undefined;
    if (takesValue.has(flag) && !w.includes('=')) {
      if (i + 1 === rest.length) return { needsValue: `-${flag.replace(/^-+/, '')}` };
      i++;
    }
  }
  return n;
}

/** What runc prints on stdout before the help, and logs as the error. */
export interface UsageProblem {
  heading: string;
  error: string;
}

/** runc's words for a wrong number of arguments to `command` (or a flag without its value), or undefined when all is right. */
export function arityProblem(command: CommandName, rest: string[], program: string): UsageProblem | undefined {
  const n = countArgs(command, rest);
  if (n === undefined) return undefined;
  if (typeof n === 'object') return { heading: `Incorrect Usage: flag needs an argument: ${n.needsValue}`, error: `flag needs an argument: ${n.needsValue}` };
  const error = arityError(command, n, program);
  return error === undefined ? undefined : { heading: 'Incorrect Usage.', error };
}

function arityError(command: CommandName, n: number, program: string): string | undefined {
  const a = ARITY[command];
  const says = (how: string, k: number) => `${program}: "${command}" requires ${how} ${k} argument(s)`;
  if ('exactly' in a) return n === a.exactly ? undefined : says('exactly', a.exactly);
  if (n < a.min) return says('a minimum of', a.min);
  if (a.max !== undefined && n > a.max) return says('a maximum of', a.max);
  return undefined;
}
