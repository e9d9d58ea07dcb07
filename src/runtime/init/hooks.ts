// Hooks that run in the container's namespaces, started by its init
// (createContainer before pivot_root, startContainer after `start`). The init
// is a forked child: this is fork + execve + waitpid, all synchronous.
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import { type Hook } from '../../bundle/spec-types';
import { type HookName, type HookContext, hookState, hookArgs, describeHook } from '../../hooks/state';

const SIGPIPE = 13;

function runOne(name: HookName, index: number, h: Hook, ctx: HookContext): void {
  const what = describeHook(name, index, h);
  const [readEnd, writeEnd] = sys.pipe();
  // The hook's stdout and stderr are collected for the error message (as the runtime's hooks).
  const [outRead, outWrite] = sys.pipe();
  const pid = sys.safeFork();
  if (pid === 0) {
    try {
      sys.dup3(readEnd, 0);
      sys.dup3(outWrite, 1);
      sys.dup3(outWrite, 2);
      sys.closeRangeCloexec(3);
      sys.execve(h.path, hookArgs(h), h.env ?? []);
    } catch (e) {
      fs.writeSync(2, `${(e as Error).message}\n`);
    }
    sys.exit(127);
  }
  sys.close(readEnd);
  sys.close(outWrite);
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
  let output = '';
  const drain = () => {
    const buf = Buffer.alloc(4096);
    while (sys.pollIn(outRead, 0)) {
      const n = fs.readSync(outRead, buf, 0, buf.length, null);
      if (n <= 0) break;
      if (output.length < 4000) output += buf.toString('utf8', 0, n);
    }
  };
  const deadline = h.timeout ? Date.now() + h.timeout * 1000 : Infinity;
  try {
    for (;;) {
      drain(); // keep the pipe from filling up while the hook runs
      const r = sys.waitpid(pid, 1 /* WNOHANG */);
      if (r) {
        drain();
        const shown = output.trim() ? `: ${output.trim()}` : '';
        if (r.signal !== undefined) throw new Error(`${what} was killed by signal ${r.signal}${shown}`);
        if (r.code === 127 && !fs.existsSync(h.path)) throw new Error(`${what}: ${h.path} does not exist`);
        if (r.code !== 0) throw new Error(`${what} exited with status ${r.code}${shown}`);
        return;
      }
      if (Date.now() > deadline) {
        sys.kill(pid, 9);
        sys.waitpid(pid);
        throw new Error(`${what} timed out after ${h.timeout} s`);
      }
      sys.sleepMs(2);
    }
  } finally {
    sys.close(outRead);
  }
}

export function runContainerHooks(name: HookName, hooks: Hook[] | undefined, ctx: HookContext): void {
  (hooks ?? []).forEach((h, i) => runOne(name, i, h, ctx));
}
