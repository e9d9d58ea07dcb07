// Hooks that run in the container's namespaces, started by its init
// (createContainer before pivot_root, startContainer after `start`). The init
// is a forked child: this is fork + execve + waitpid, all synchronous.
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import { SyscallError } from '../../linux/errors';
import { type Hook } from '../../bundle/spec-types';
import { type HookName, type HookContext, hookState, hookArgs } from '../../hooks/state';
import { HOOK_OUTPUT_LIMIT, clipOutput, hookErrorText, hookExitedText, hookStartText, hookTimeoutText } from '../../hooks/messages';

const SIGPIPE = 13;

/** Reads what a pipe holds now (never blocks), keeping up to HOOK_OUTPUT_LIMIT bytes. */
class Capture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  cut = false;
  constructor(readonly fd: number) {}

  drain(): void {
    const buf = Buffer.alloc(4096);
    while (sys.pollIn(this.fd, 0)) {
      const n = fs.readSync(this.fd, buf, 0, buf.length, null);
      if (n <= 0) return;
      const room = HOOK_OUTPUT_LIMIT - this.kept;
      if (n > room) this.cut = true;
      if (room > 0) {
        this.chunks.push(Buffer.from(buf.subarray(0, Math.min(n, room))));
        this.kept += Math.min(n, room);
      }
    }
  }

  text(): string {
    return clipOutput(Buffer.concat(this.chunks).toString('utf8'), this.cut);
  }
}

/**
 * Forks the hook. The child execs it with the state pipe on stdin and its own
 * pipes for stdout and stderr; when it cannot, it writes why on `report`
 * (close-on-exec: a successful execve closes it with nothing written).
 */
function forkHook(h: Hook, stdin: number, stdout: number, stderr: number, report: number): number {
  const pid = sys.safeFork();
  if (pid !== 0) return pid;
  let why = `fork/exec ${h.path}: execve returned`;
  try {
    sys.dup3(stdin, 0);
    sys.dup3(stdout, 1);
    sys.dup3(stderr, 2);
    sys.closeRangeCloexec(3);
    sys.resetSignals(); // the hook starts as any exec'd program does, not with the init's dispositions
    try {
      sys.execve(h.path, hookArgs(h), h.env ?? []);
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      why = hookStartText(h.path, sys.strerror(e.errno));
    }
  } catch (e) {
    why = `fork/exec ${h.path}: ${(e as Error).message}`;
  }
  try {
    fs.writeSync(report, why);
  } catch {
    /* the init is gone */
  }
  sys.exit(127);
}

function runOne(name: HookName, index: number, h: Hook, ctx: HookContext): void {
  const fail = (inner: string) => new Error(hookErrorText(name, index, inner));
  const [readEnd, writeEnd] = sys.pipe();
  const [outRead, outWrite] = sys.pipe();
  const [errRead, errWrite] = sys.pipe();
  const [reportRead, reportWrite] = sys.pipe();
  let pid: number;
  try {
    pid = forkHook(h, readEnd, outWrite, errWrite, reportWrite);
  } finally {
    for (const fd of [readEnd, outWrite, errWrite, reportWrite]) sys.close(fd);
  }
  const out = new Capture(outRead);
  const err = new Capture(errRead);
  let stateOpen = true;
  try {
    // As Go's os/exec: the start fails (and nothing is waited for) when execve did.
    const buf = Buffer.alloc(4096);
    const n = fs.readSync(reportRead, buf, 0, buf.length, null);
    if (n > 0) {
      sys.waitpid(pid);
      throw fail(buf.toString('utf8', 0, n));
    }
    // A hook that never reads its stdin must not kill the init with SIGPIPE.
    sys.ignoreSignal(SIGPIPE, true);
    try {
      fs.writeSync(writeEnd, hookState(name, ctx));
    } catch {
      /* the hook closed its stdin */
    } finally {
      stateOpen = false;
      sys.close(writeEnd);
      sys.ignoreSignal(SIGPIPE, false);
    }
    const deadline = h.timeout ? Date.now() + h.timeout * 1000 : Infinity;
    for (;;) {
      // keep the pipes from filling up while the hook runs
      out.drain();
      err.drain();
      const r = sys.waitpid(pid, 1 /* WNOHANG */);
      if (r) {
        out.drain();
        err.drain();
        if (r.signal === undefined && r.code === 0) return;
        throw fail(hookExitedText(r, out.text(), err.text()));
      }
      if (Date.now() > deadline) {
        sys.kill(pid, 9);
        sys.waitpid(pid);
        throw fail(hookTimeoutText(h.timeout!));
      }
      sys.sleepMs(2);
    }
  } finally {
    for (const fd of [outRead, errRead, reportRead]) sys.close(fd);
    if (stateOpen) sys.close(writeEnd);
  }
}

export function runContainerHooks(name: HookName, hooks: Hook[] | undefined, ctx: HookContext): void {
  (hooks ?? []).forEach((h, i) => runOne(name, i, h, ctx));
}
