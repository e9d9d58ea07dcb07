import type YargsFactory = require('yargs/yargs');
import type { Argv } from 'yargs';
import { fastExecFlags } from './fast-args';
import { action, requireId } from './command';
import { openConsoleSocket, checkConsoleSocket } from './create-flags';
import { execInContainer } from '../container/exec';
import { loadWithStatus } from '../container/lifecycle';
import { waitForExit, exitCodeOf, forwardSignals, relayTerminal } from '../container/foreground';
import { type Process, type Spec } from '../bundle/spec-types';
import { processProblems } from '../bundle/semantic';
import { readJsonFile } from '../bundle/json';
import { RuntimeError } from '../errors';
import { type Context } from './context';

interface ExecFlags {
  id?: string;
  command?: string[];
  process?: string;
  cwd?: string;
  env?: string[];
  user?: string;
  'additional-gids'?: number[];
  cap?: string[];
  'no-new-privs'?: boolean;
  apparmor?: string;
  'process-label'?: string;
  tty?: boolean;
  'console-socket'?: string;
  detach?: boolean;
  'pid-file'?: string;
  'preserve-fds'?: number;
  cgroup?: string[];
  'ignore-paused'?: boolean;
}

function execOptions(y: Argv): Argv {
  return y
    .option('process', { alias: 'p', type: 'string', describe: 'path to the process.json' })
    .option('cwd', { type: 'string', describe: 'current working directory in the container' })
    // Repeatable one-value options: not yargs arrays, which would swallow the container id and command.
    .option('env', { alias: 'e', type: 'string', describe: 'set environment variables (repeatable)' })
    .option('user', { alias: 'u', type: 'string', describe: 'UID (format: <uid>[:<gid>])' })
    .option('additional-gids', { alias: 'g', type: 'number', describe: 'additional gids (repeatable)' })
    .option('cap', { alias: 'c', type: 'string', describe: 'add a capability to the bounding set for the process (repeatable)' })
    .option('no-new-privs', { type: 'boolean', describe: 'set the no new privileges value for the process' })
    .option('apparmor', { type: 'string', describe: 'set the apparmor profile for the process' })
    .option('process-label', { type: 'string', describe: 'set the asm process label for the process commonly used with selinux' })
    .option('tty', { alias: 't', type: 'boolean', describe: 'allocate a pseudo-TTY' })
    .option('console-socket', { type: 'string', describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' })
    .option('detach', { alias: 'd', type: 'boolean', describe: 'detach from the container\'s process' })
    .option('pid-file', { type: 'string', describe: 'specify the file to write the process id to' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)' })
    .option('cgroup', { type: 'string', describe: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.' })
    .option('ignore-paused', { type: 'boolean', describe: 'allow exec in a paused container' });
}

// `exec [options] ID COMMAND [ARGS...]`: options end at the container id, and
// everything after it belongs to the command (`sh -c ...` must not be read as
// --cap). yargs only stops at the first positional at top level, so the
// command's words are parsed a second time here.
/** The command's words stay words: `exec ID echo 0x10` prints 0x10 (yargs made it 16). */
const WORDS = { 'parse-numbers': false, 'parse-positional-numbers': false };

export const builder = (y: Argv) =>
  execOptions(y.usage('tsrunc exec [command options] <container-id> <command> [command options]')).parserConfiguration({ 'halt-at-non-option': true, ...WORDS });

/** exec's words: the common ones read without yargs (src/cli/fast-args.ts), the rest by yargs. */
function parseExecArgs(words: string[]): ExecFlags {
  return (fastExecFlags(words) as ExecFlags | undefined) ?? parseExecArgsWithYargs(words);
}

/** exec's words as yargs reads them (test/unit/fast-args.test.js compares the fast reader with it). */
export function parseExecArgsWithYargs(words: string[]): ExecFlags {
  // the factory alone: 'yargs' also parses process.argv as it loads
  const yargs = require('yargs/yargs') as typeof YargsFactory;
  const parsed = execOptions(yargs(words).help(false).version(false))
    .strict()
    .parserConfiguration({ 'halt-at-non-option': true, 'boolean-negation': false, ...WORDS })
    .fail((msg) => {
      throw new RuntimeError(msg);
    })
    .parseSync();
  const [id, ...command] = parsed._.map(String);
  const list = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : ([] as T[]).concat(v));
  const p = parsed as unknown as ExecFlags;
  return { ...p, id, command, env: list(p.env), 'additional-gids': list(p['additional-gids']), cap: list(p.cap), cgroup: list(p.cgroup) };
}

/** The process to run: --process FILE, or the container's process with the flags applied (as runc). */
function buildProcess(argv: ExecFlags, base: Process): Process {
  if (argv.process) {
    let p: Process;
    try {
      p = readJsonFile(argv.process) as Process;
    } catch (e) {
      if (e instanceof RuntimeError) throw e; // it names the file
      throw new RuntimeError(`--process ${argv.process}: ${(e as Error).message}`, 1, { cause: e });
    }
    // runc decodes it into a Go struct: an absent user (or uid, gid) is 0
    const user: unknown = p?.user;
    if (p && typeof p === 'object' && (user === undefined || (typeof user === 'object' && user !== null && !Array.isArray(user)))) {
      p.user = Object.assign({ uid: 0, gid: 0 }, user);
    }
    return p;
  }
  const args = argv.command ?? [];
  if (args.length === 0) throw new RuntimeError('process args cannot be empty'); // runc's words
  const p: Process = JSON.parse(JSON.stringify(base));
  p.args = args.map(String);
  p.terminal = Boolean(argv.tty);
  delete p.consoleSize;
  if (argv.cwd) p.cwd = argv.cwd;
  for (const e of argv.env ?? []) {
    const name = e.split('=')[0];
    p.env = [...(p.env ?? []).filter((x) => x.split('=')[0] !== name), e];
  }
  if (argv.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(argv.user);
    if (!m) throw new RuntimeError(`--user: "${argv.user}" is not of the form uid[:gid]`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] === undefined ? p.user.gid : Number(m[2]) };
  }
  if (argv['additional-gids']?.length) p.user = { ...p.user, additionalGids: argv['additional-gids'] };
  if (argv.cap?.length) {
    const caps = p.capabilities ?? {};
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...new Set([...(caps[set] ?? []), ...argv.cap])];
    p.capabilities = caps;
  }
  if (argv['no-new-privs']) p.noNewPrivileges = true;
  if (argv.apparmor) p.apparmorProfile = argv.apparmor;
  if (argv['process-label']) p.selinuxLabel = argv['process-label'];
  delete p.oomScoreAdj; // the init's setting, not an exec's
  return p;
}

async function run(argv: ExecFlags, ctx: Context): Promise<number> {
  const id = requireId(argv, 'exec');
  const { state } = loadWithStatus(ctx.store, id);
  const base = (state.config as Spec).process;
  if (!base) throw new RuntimeError('container has no process to base the exec on');
  const p = buildProcess(argv, base);
  const problems = processProblems(p);
  if (problems.length) throw new RuntimeError(`invalid process: ${problems.join('; ')}`);
  const detach = Boolean(argv.detach);
  checkConsoleSocket(Boolean(p.terminal), Boolean(detach), argv['console-socket']);
  const preserveFds = argv['preserve-fds'] ?? 0;
  if (detach) {
    const consoleSocket = p.terminal ? openConsoleSocket(argv) : undefined;
    try {
      execInContainer({ store: ctx.store, id, process: p, pidFile: argv['pid-file'], preserveFds, cgroup: argv.cgroup, onConsole: consoleSocket, ignorePaused: argv['ignore-paused'],
        debug: ctx.logger.debugSink });
    } finally {
      consoleSocket?.close();
    }
    return 0;
  }
  let master: number | undefined;
  const pid = execInContainer({
    store: ctx.store, id, process: p, pidFile: argv['pid-file'], preserveFds, cgroup: argv.cgroup,
    onConsole: (fd) => (master = fd), subreaper: true, ignorePaused: argv['ignore-paused'],
    debug: ctx.logger.debugSink,
  });
  const finishTerminal = master !== undefined ? relayTerminal(master) : undefined;
  const unforward = forwardSignals(pid, finishTerminal ? ['SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'] : []);
  try {
    const status = exitCodeOf(await waitForExit(pid));
    ctx.logger.debug('process exited', { pid, status }); // runc's signal handler says the same
    return status;
  } finally {
    unforward();
    if (finishTerminal) await finishTerminal();
  }
}

/** As runc: every failure of exec is "exec failed: ..." with exit status 255, apart from the process's own. */
export const handler = action<ExecFlags & { _: (string | number)[] }>(async (argv, ctx) => {
  // argv._ is ["exec", then the raw words from "exec" on]
  const words = argv._.slice(1).map(String);
  if (words[0] === 'exec') words.shift();
  try {
    return await run(parseExecArgs(words), ctx);
  } catch (e) {
    throw new RuntimeError(`exec failed: ${(e as Error).message}`, 255, { cause: e });
  }
});
