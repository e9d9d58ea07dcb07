// What every forked runtime stage does first, before it creates or joins any
// namespace of the container: become non-dumpable and keep only the fds it
// needs. A dumpable stage in the container's pid namespace lets the
// container's root open its /proc/<pid>/exe (the host's node binary:
// CVE-2019-5736), read its environ (the caller's environment), follow its
// fd, cwd and root links into the host, and ptrace it. An fd left open is a
// way into the host too (CVE-2024-21626). execve of the user's process makes
// it dumpable again (the kernel resets the flag at exec).
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { closeAllFdsExcept, eventfdNumbers, recreateEventfds } from '../../linux/fds';

/**
 * Non-dumpable, default signal handling, and only stdio, the channel to the
 * runtime, the `passFds` fds from 3 on (the caller's, for the container) and
 * `keep` still open: Node's own fds and every other fd of the caller are closed
 * (Node's eventfds are made anew, the stage's own).
 */
export function guardStage(channelFd: number, passFds: number, keep: number[] = []): void {
  sys.prctl(C.PR_SET_DUMPABLE, 0);
  const passed = Array.from({ length: passFds }, (_, i) => 3 + i);
  wakeups = eventfdNumbers();
  closeAllFdsExcept([channelFd, ...passed, ...keep]);
  recreateEventfds(wakeups); // V8 may still post a task: libuv's write must not fail (fds.ts)
  trapActions ??= [C.SIGSEGV, C.SIGBUS].map((sig) => [sig, sys.signalAction(sig)]);
  sys.resetSignals();
}

/** The numbers of Node's eventfds, which guardStage made anew: this process's own (and its children's). */
let wakeups: number[] = [];

/** The eventfds guardStage made anew, which a process that closes every other fd keeps (wasm.ts). */
export function stageEventfds(): number[] {
  return wakeups;
}

/** Node's SIGSEGV and SIGBUS actions, saved before resetSignals. */
let trapActions: [number, Buffer][] | undefined;

/**
 * Puts back Node's SIGSEGV and SIGBUS handlers, for a process that runs a
 * WebAssembly module instead of exec'ing: V8 compiles memory accesses
 * without bounds checks and turns the fault of an out-of-bounds one into a
 * trap (a RuntimeError) in that handler; with the default action the process
 * would die of SIGSEGV instead.
 */
export function restoreWasmTrapHandlers(): void {
  for (const [sig, action] of trapActions ?? []) sys.setSignalAction(sig, action);
}

/**
 * Runs `fn` dumpable, for the moments the runtime's own unprivileged parent
 * (or the stage itself, in a new user namespace) must write this process's
 * /proc files, which the kernel gives to the host's root while the process
 * is non-dumpable. Only for stages no container process can see yet.
 */
export function withDumpable<T>(fn: () => T): T {
  sys.prctl(C.PR_SET_DUMPABLE, 1);
  try {
    return fn();
  } finally {
    sys.prctl(C.PR_SET_DUMPABLE, 0);
  }
}
