// OOM notifications: v1 registers an eventfd for memory.oom_control through
// cgroup.event_control; v2 has no such interface, the counters in
// memory.events are compared between polls.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../linux/sys';
import * as C from '../linux/constants';
import { readKeyed } from './fsutil';

export interface OomWatcher {
  /** An fd that becomes readable on an OOM (v1), or undefined when the caller must poll (v2). */
  readonly fd: number | undefined;
  /** How many OOM events happened since the last call (0 when none). */
  check(): number;
  close(): void;
}


function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** v1: eventfd registered on `memDir`/memory.oom_control. */
export function oomWatcherV1(memDir: string): OomWatcher {
  let efd: number;
  try {
    efd = sys.eventfd(C.EFD_CLOEXEC | C.EFD_NONBLOCK);
  } catch (e) {
    throw new Error(`cannot create an eventfd for OOM notifications: ${(e as Error).message}`, { cause: e });
  }
  let ofd = -1;
  try {
    ofd = fs.openSync(path.join(memDir, 'memory.oom_control'), fs.constants.O_RDONLY | 0o2000000 /* O_CLOEXEC */);
    fs.writeFileSync(path.join(memDir, 'cgroup.event_control'), `${efd} ${ofd}`);
  } catch (e) {
    closeQuietly(efd);
    if (ofd >= 0) closeQuietly(ofd);
    throw new Error(`cannot register for OOM notifications in ${memDir}: ${(e as Error).message}`, { cause: e });
  }
  const buf = Buffer.alloc(8);
  return {
    fd: efd,
    check(): number {
      try {
        const n = fs.readSync(efd, buf, 0, 8, null);
        return n === 8 ? Number(buf.readBigUInt64LE(0)) : 0;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
        throw e;
      }
    },
    close(): void {
      closeQuietly(efd);
      closeQuietly(ofd);
    },
  };
}

/** v2: the oom and oom_kill counters of memory.events. */
export function oomWatcherV2(dir: string): OomWatcher {
  const read = () => {
    const ev = readKeyed(dir, 'memory.events');
    return { oom: ev.get('oom') ?? 0n, kill: ev.get('oom_kill') ?? 0n };
  };
  let last = read();
  return {
    fd: undefined,
    check(): number {
      const now = read();
      const n = Math.max(Number(now.oom - last.oom), Number(now.kill - last.kill), 0);
      last = now;
      return n;
    },
    close(): void {
      /* nothing held */
    },
  };
}
