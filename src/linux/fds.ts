// Closing every fd of a process but a kept set in a forked child (CVE-2024-21626 class:
// a runtime fd left open is a door into the host for the container).
import * as fs from 'fs';
import { lib } from './ffi';
import * as sys from './sys';
import * as C from './constants';

const MAX_FD = 0xffffffff;

/**
 * Closes every fd of the process except stdio and `keep`: close_range(2)
 * over each gap, or, on kernels without it (before 5.9), each open fd found
 * in /proc/self/fd.
 */
export function closeAllFdsExcept(keep: number[]): void {
  const kept = [...new Set([0, 1, 2, ...keep])].sort((a, b) => a - b);
  let from = 0;
  let supported = true;
  for (const fd of [...kept, MAX_FD + 1]) {
    if (fd > from && supported && lib().close_range(from, Math.min(fd - 1, MAX_FD), 0) !== 0) supported = false;
    from = fd + 1;
  }
  if (supported) return;
  const keepSet = new Set(kept);
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (!keepSet.has(fd)) lib().close(fd); // EBADF for the readdir's own fd: harmless
  }
}

/** This process's eventfds (libuv's loop wakeups, in Node), by number. */
export function eventfdNumbers(): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${name}`) === 'anon_inode:[eventfd]') out.push(Number(name));
    } catch {
      /* the readdir's own fd, closed by now */
    }
  }
  return out;
}

/**
 * New eventfds of this process's own at `numbers`, the numbers of Node's
 * (eventfdNumbers) in a forked stage that closed them (they are the
 * runtime's). Node still wakes its loop through them (uv_async_send, when V8
 * posts a foreground task: a GC's, a wasm memory's allocation), and libuv
 * aborts when that write fails. No loop runs in the stage: what is written is
 * never read. Close-on-exec: the container's process never has them.
 */
export function recreateEventfds(numbers: number[]): void {
  for (const n of numbers) {
    const fd = sys.eventfd(C.EFD_CLOEXEC | C.EFD_NONBLOCK);
    if (fd === n) continue;
    sys.dup3(fd, n, C.O_CLOEXEC);
    sys.close(fd);
  }
}
