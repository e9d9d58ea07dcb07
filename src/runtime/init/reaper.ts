// PID 1 of a container whose process is a WebAssembly module. The kernel
// delivers to a pid namespace's init only the signals it has a handler for
// (and SIGKILL from outside), and a WASI preview1 module cannot install one:
// as PID 1 it would ignore SIGTERM. So the init forks, the module runs in
// the child with every signal's default action, and the init, with every
// signal blocked, forwards what it receives to the child, reaps the orphans
// the namespace hands it, and exits with the child's status.
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';

/**
 * Forwards signals to `child` until it ends, then exits with its code, or
 * 128 + the signal that killed it (what `run`, a shell and containerd
 * report for a native process killed by a signal). Every signal must be
 * blocked since before the fork (sys.blockAllSignals), so none is lost.
 */
export function superviseChild(child: number): never {
  for (;;) {
    const sig = sys.waitSignal();
    if (sig !== C.SIGCHLD) {
      try {
        sys.kill(child, sig);
      } catch {
        /* it is exiting: its SIGCHLD follows */
      }
      continue;
    }
    for (;;) {
      let r: sys.WaitResult | undefined;
      try {
        r = sys.waitpid(-1, C.WNOHANG);
      } catch {
        break; // ECHILD: no child left to reap
      }
      if (!r) break;
      if (r.pid === child) sys.exit(r.code ?? 128 + (r.signal ?? 0));
    }
  }
}
