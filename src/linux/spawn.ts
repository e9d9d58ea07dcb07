// Runs a program and collects its output through posix_spawnp(3), for the
// runtime's own short helpers (`ps`): Node's child_process module takes about
// 8 ms to load (it brings net, dgram and the streams), more than ps itself
// runs. posix_spawn forks with CLONE_VM|CLONE_VFORK, which is safe from a
// multi-threaded Node, and reports a failed exec as its own error. The program
// gets stdin /dev/null, two pipes, and no other fd.
import * as fs from 'fs';
import { lib } from './ffi';
import * as sys from './sys';
import * as C from './constants';

/** sizeof(posix_spawn_file_actions_t) in glibc on 64-bit Linux (80), with room to spare. */
const FILE_ACTIONS_SIZE = 128;
const POLLIN = 0x1;

export interface Captured {
  /** Exit code, or undefined when killed by a signal. */
  code?: number;
  signal?: number;
  stdout: string;
  stderr: string;
}

/**
 * posix_spawn_file_actions_addclosefrom_np (glibc 2.34 on); without it (an
 * older glibc) the program also gets the caller's fds that are not
 * close-on-exec, as it did through child_process.
 */
function closeFromAction(): ((actions: Buffer, from: number) => number) | undefined {
  try {
    return lib().posix_spawn_file_actions_addclosefrom_np as (actions: Buffer, from: number) => number;
  } catch {
    return undefined; // koffi: no such symbol in this libc
  }
}

/** posix_spawn's functions return an errno value (0 on success), not -1. */
function checkReturned(call: string, args: unknown[], r: number): void {
  if (r !== 0) sys.throwErrno(call, args, r);
}

/**
 * Runs `file` (looked up in `env`'s PATH, as execvp) with `args`, stdin
 * /dev/null, and returns its exit status and what it wrote to stdout and
 * stderr.
 */
export function spawnCapture(file: string, args: string[], env: string[]): Captured {
  const libc = lib();
  const [outR, outW] = sys.pipe();
  const [errR, errW] = sys.pipe();
  const actions = Buffer.alloc(FILE_ACTIONS_SIZE);
  let pid: number;
  try {
    checkReturned('posix_spawn_file_actions_init', [], libc.posix_spawn_file_actions_init(actions));
    try {
      checkReturned('posix_spawn_file_actions_addopen', [0, '/dev/null'], libc.posix_spawn_file_actions_addopen(actions, 0, '/dev/null', C.O_RDONLY, 0));
      checkReturned('posix_spawn_file_actions_adddup2', [outW, 1], libc.posix_spawn_file_actions_adddup2(actions, outW, 1));
      checkReturned('posix_spawn_file_actions_adddup2', [errW, 2], libc.posix_spawn_file_actions_adddup2(actions, errW, 2));
      // fds the caller passed without close-on-exec (Node leaves them so) are not the program's
      const closeFrom = closeFromAction();
      if (closeFrom) checkReturned('posix_spawn_file_actions_addclosefrom_np', [3], closeFrom(actions, 3));
      const out = [0];
      // posix_spawnp searches the PATH of this process's environment: the caller's env is the child's only
      checkReturned('posix_spawnp', [file], libc.posix_spawnp(out, file, actions, null, [file, ...args, null], [...env, null]));
      pid = out[0];
    } finally {
      libc.posix_spawn_file_actions_destroy(actions);
    }
  } catch (e) {
    for (const fd of [outR, errR]) sys.close(fd);
    throw e;
  } finally {
    for (const fd of [outW, errW]) sys.close(fd);
  }
  const [stdout, stderr] = readAll([outR, errR]);
  const w = sys.waitpid(pid);
  return { code: w?.code, signal: w?.signal, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') };
}

/** Reads every fd until EOF, together (a full pipe must not stall the program), and closes them. */
function readAll(fds: number[]): Buffer[] {
  const chunks: Buffer[][] = fds.map(() => []);
  const open = new Set(fds.map((_, k) => k));
  const buf = Buffer.alloc(64 * 1024);
  try {
    while (open.size) {
      const ks = [...open];
      const pfd = Buffer.alloc(8 * ks.length);
      ks.forEach((k, i) => {
        pfd.writeInt32LE(fds[k], i * 8);
        pfd.writeInt16LE(POLLIN, i * 8 + 4);
      });
      sys.pollFds(pfd, ks.length);
      ks.forEach((k, i) => {
        if (pfd.readInt16LE(i * 8 + 6) === 0) return;
        const n = fs.readSync(fds[k], buf, 0, buf.length, null);
        if (n === 0) open.delete(k);
        else chunks[k].push(Buffer.from(buf.subarray(0, n)));
      });
    }
  } finally {
    for (const fd of fds) sys.close(fd);
  }
  return chunks.map((c) => Buffer.concat(c));
}
