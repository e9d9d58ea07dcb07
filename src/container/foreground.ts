// `run` without --detach: the runtime stays until the container's init exits,
// relays the terminal (raw mode, window size) or forwards signals, and
// returns the exit status (128+signal when the init was killed).
import * as fs from 'fs';
import type * as Tty from 'tty';
import * as sys from '../linux/sys';
import type { Sys } from '../linux/sys';
import * as C from '../linux/constants';
import { setWindowSize } from '../linux/tty';

// Not SIGPIPE: once its listener is removed Node would die of the next EPIPE (poststop hooks).
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'];
const SIGNUM: Record<string, number> = require('os').constants.signals;
// only the terminal relay needs it, and loading it (net, streams) costs about 20 ms
const ttyModule = (): typeof Tty => require('tty');

/**
 * Waits for `pid` (our child: we are its subreaper). Only that process is
 * waited for, so no child another part of tsrunc started is reaped from
 * under it; once it is gone, the container's orphans that were reparented to
 * us as zombies are reaped. `os` and `zombies` are parameters so that a unit
 * test can pass fakes.
 */
export function waitForExit(pid: number, os: Pick<Sys, 'waitpid'> = sys, zombies: () => number[] = zombieChildren): Promise<sys.WaitResult> {
  return new Promise((resolve) => {
    const check = () => {
      let r: sys.WaitResult | undefined;
      try {
        r = os.waitpid(pid, C.WNOHANG);
      } catch {
        return; // ECHILD: not ours yet
      }
      if (!r) return;
      process.removeListener('SIGCHLD', check);
      clearInterval(timer);
      for (const z of zombies()) {
        try {
          os.waitpid(z, C.WNOHANG);
        } catch {
          /* reaped meanwhile */
        }
      }
      resolve(r);
    };
    process.on('SIGCHLD', check);
    const timer = setInterval(check, 250); // in case a SIGCHLD was coalesced
    check();
  });
}

/** The zombies among our children: the container's processes that outlived its init, reparented to us. */
function zombieChildren(): number[] {
  let children: string[];
  try {
    children = fs.readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8').split(' ').filter(Boolean);
  } catch {
    return []; // no CONFIG_PROC_CHILDREN: the zombies stay until we exit
  }
  return children.filter((c) => {
    try {
      const stat = fs.readFileSync(`/proc/${c}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return false;
    }
  }).map(Number);
}

export function exitCodeOf(r: sys.WaitResult): number {
  return r.signal !== undefined ? 128 + r.signal : (r.code ?? 0);
}

/** Forwards the runtime's signals to the container's init; returns the undo. */
export function forwardSignals(pid: number, except: NodeJS.Signals[] = [], os: Pick<Sys, 'kill'> = sys): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const s of FORWARDED) {
    if (except.includes(s)) continue;
    const h = () => {
      try {
        os.kill(pid, SIGNUM[s]);
      } catch {
        /* exited */
      }
    };
    handlers.set(s, h);
    process.on(s, h);
  }
  return () => handlers.forEach((h, s) => process.removeListener(s, h));
}

/**
 * Relays between the caller's stdio and the pty master: raw mode on the
 * caller's terminal, window size copied now and on SIGWINCH. The returned
 * function drains the remaining output and restores the terminal.
 */
export function relayTerminal(master: number): () => Promise<void> {
  const tty = ttyModule();
  const stdinIsTty = tty.isatty(0);
  const input = process.stdin;
  const resize = () => {
    const out = process.stdout as Tty.WriteStream;
    if (out.isTTY && out.columns && out.rows) {
      try {
        setWindowSize(master, out.rows, out.columns);
      } catch {
        /* container gone */
      }
    }
  };
  resize();
  process.on('SIGWINCH', resize);
  if (stdinIsTty) (input as Tty.ReadStream).setRawMode(true);
  const write = (chunk: Buffer) => {
    let off = 0;
    while (off < chunk.length) {
      try {
        off += fs.writeSync(master, chunk, off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue;
        return; // EIO: the container side is gone
      }
    }
  };
  input.on('data', write);

  const output = new tty.ReadStream(master);
  let outputEnded = false;
  const ended = new Promise<void>((resolve) => {
    const done = () => {
      outputEnded = true;
      resolve();
    };
    output.on('end', done);
    output.on('close', done);
    output.on('error', done); // EIO once every slave fd is closed
  });
  output.on('data', (d: Buffer) => process.stdout.write(d));

  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (stdinIsTty) {
      try {
        (input as Tty.ReadStream).setRawMode(false);
      } catch {
        /* terminal gone */
      }
    }
  };
  process.on('exit', restore); // even if the runtime dies of an exception

  return async () => {
    // Output still in the pty after the init exited: read it until EIO, briefly.
    if (!outputEnded) await Promise.race([ended, new Promise((r) => setTimeout(r, 200))]);
    process.removeListener('SIGWINCH', resize);
    input.removeListener('data', write);
    input.pause();
    output.destroy();
    restore();
    await new Promise<void>((r) => (process.stdout.write('', () => r()) ? undefined : undefined));
  };
}
