// Hooks that run in the container's namespaces, started by its init
// (createContainer before pivot_root, startContainer after `start`). The init
// is a forked child: this is fork + execve + waitpid, all synchronous.
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import { Hook } from '../../bundle/spec-types';
import { HookName, HookContext, hookState, hookArgs, describeHook } from '../../hooks/state';

const SIGPIPE = 13;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function runOne(name: HookName, index: number, h: Hook, ctx: HookContext): void {
  const what = describeHook(name, index, h);
  const [readEnd, writeEnd] = sys.pipe();
  const pid = sys.safeFork();
  if (pid === 0) {
    try {
      sys.dup3(readEnd, 0);
      // Node marks stdio close-on-exec: the hook writes where the runtime's output goes.
      sys.setCloexec(1, false);
      sys.setCloexec(2, false);
      sys.closeRangeCloexec(3);
      sys.execve(h.path, hookArgs(h), h.env ?? []);
    } catch (e) {
      fs.writeSync(2, `${what}: ${(e as Error).message}\n`);
    }
    sys.exit(127);
  }
  sys.close(readEnd);
  // A hook that never reads its stdin must not kill the init with SIGPIPE.
  sys.ignoreSignal(SIGPIPE, true);
  try {
    fs.writeSync(writeEnd, hookState(name, ctx));
  } catch {
    /* the hook closed its stdin */
  } finally {
    sys.close(writeEnd);
    sys.ignoreSignal(SIGPIPE, false);
  }
  const deadline = h.timeout ? Date.now() + h.timeout * 1000 : Infinity;
  for (;;) {
    const r = sys.waitpid(pid, 1 /* WNOHANG */);
    if (r) {
      if (r.signal !== undefined) throw new Error(`${what} was killed by signal ${r.signal}`);
      if (r.code === 127 && !fs.existsSync(h.path)) throw new Error(`${what}: ${h.path} does not exist`);
      if (r.code !== 0) throw new Error(`${what} exited with status ${r.code}`);
      return;
    }
    if (Date.now() > deadline) {
      sys.kill(pid, 9);
      sys.waitpid(pid);
      throw new Error(`${what} timed out after ${h.timeout} s`);
    }
    sleepMs(2);
  }
}

export function runContainerHooks(name: HookName, hooks: Hook[] | undefined, ctx: HookContext): void {
  (hooks ?? []).forEach((h, i) => runOne(name, i, h, ctx));
}
