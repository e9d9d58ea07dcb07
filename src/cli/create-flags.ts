// Flags `create` and `run` share, and the console socket they may hand the terminal to.
import * as path from 'path';
import type { Argv } from 'yargs';
import { type Context } from './context';
import { connectUnix, sendMsg } from '../linux/fdpass';
import * as sys from '../linux/sys';
import { RuntimeError } from '../errors';
import { type CreateOptions } from '../container/create';
import { listenFdCount } from '../container/passfds';
import { readJsonFile } from '../bundle/json';

export interface CreateFlags {
  id?: string;
  bundle?: string;
  'console-socket'?: string;
  'pid-file'?: string;
  'no-pivot'?: boolean;
  'no-new-keyring'?: boolean;
  'preserve-fds'?: number;
  detach?: boolean;
  keep?: boolean;
  debug?: boolean;
}

export function createFlags(y: Argv): Argv {
  return y
    .option('bundle', { alias: 'b', type: 'string', describe: 'path to the root of the bundle directory, defaults to the current directory' })
    .option('console-socket', { type: 'string', describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' })
    .option('pid-file', { type: 'string', describe: 'specify the file to write the process id to' })
    .option('no-pivot', { type: 'boolean', describe: 'do not use pivot root to jail process inside rootfs' })
    .option('no-new-keyring', { type: 'boolean', describe: 'do not create a new session keyring for the container' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)' });
}

export function createOptions(argv: CreateFlags, ctx: Context): Omit<CreateOptions, 'id'> {
  const preserve = argv['preserve-fds'] ?? 0;
  if (!Number.isInteger(preserve) || preserve < 0) throw new RuntimeError(`--preserve-fds: must be a non-negative integer (got ${preserve})`);
  return {
    bundle: argv.bundle,
    store: ctx.store,
    pidFile: argv['pid-file'],
    noPivot: Boolean(argv['no-pivot']),
    noNewKeyring: Boolean(argv['no-new-keyring']),
    preserveFds: preserve,
    listenFds: listenFdCount(),
    systemdCgroup: ctx.systemdCgroup,
    warn: (m) => ctx.logger.warn(m),
    debug: ctx.logger.debugSink,
  };
}

/** Reads process.terminal from the bundle and checks it against the flags, as runc does. */
export function checkTerminalFlags(argv: CreateFlags, detached: boolean): boolean {
  let terminal = false;
  try {
    const cfg = readJsonFile(path.join(path.resolve(argv.bundle || '.'), 'config.json')) as { process?: { terminal?: unknown } } | null;
    terminal = Boolean(cfg?.process?.terminal);
  } catch {
    return false; // the bundle loader reports the real problem
  }
  checkConsoleSocket(terminal, detached, argv['console-socket']);
  return terminal;
}

/** A terminal of a detached process needs --console-socket, which makes sense only then (runc's rule and words). */
export function checkConsoleSocket(terminal: boolean, detached: boolean, sock: string | undefined): void {
  if (detached && terminal && !sock) throw new RuntimeError('cannot allocate tty if runc will detach without setting console socket');
  if ((!detached || !terminal) && sock) throw new RuntimeError('cannot use console socket if runc will not detach or allocate tty');
}

export interface ConsoleSocket {
  (master: number): void;
  close(): void;
}

/** Connects to --console-socket now (to fail before any container exists); sends the pty master later. */
export function openConsoleSocket(argv: CreateFlags): ConsoleSocket | undefined {
  const sockPath = argv['console-socket'];
  if (!sockPath) return undefined;
  let fd: number;
  try {
    fd = connectUnix(path.resolve(sockPath));
  } catch (e) {
    throw new RuntimeError(`cannot connect to console socket ${sockPath}: ${(e as Error).message}`, 1, { cause: e });
  }
  const send = ((master: number) => {
    try {
      sendMsg(fd, Buffer.from('/dev/ptmx'), master);
    } finally {
      sys.close(master);
    }
  }) as ConsoleSocket;
  send.close = () => sys.close(fd);
  return send;
}
