// The caller's fds a container process gets beyond stdio, as runc passes
// them: the socket-activation fds ($LISTEN_FDS, create and run only) then the
// --preserve-fds ones, numbered from 3. Each must be an fd the caller really
// passed: an fd number past those is one of Node's own (epoll, eventfd,
// pipes, the channel to the init) and must never reach a container.
// (linux/fds.ts can't tell them apart: node marks every inherited fd
// close-on-exec as it starts, so only the launcher can list them.)
import { RuntimeError } from '../errors';

/** Set by bin/tsrunc: the fds the caller passed, listed before node started (node marks them all close-on-exec at start, so they cannot be told from its own later). */
export const CALLER_FDS_ENV = 'TSRUNC_CALLER_FDS';

let callerFdsRead: Set<number> | null | undefined;

/**
 * The fds >= 3 the caller passed, as the launcher recorded them; null when
 * tsrunc was started without the launcher (a Node program using the library
 * decides itself which of its fds a container gets). Read once, and removed
 * from the environment so no child process inherits the list.
 */
export function callerFds(): Set<number> | null {
  if (callerFdsRead === undefined) {
    const list = process.env[CALLER_FDS_ENV];
    delete process.env[CALLER_FDS_ENV];
    callerFdsRead = list === undefined ? null : new Set(list.split(/\s+/).filter(Boolean).map(Number).filter((n) => n >= 3));
  }
  return callerFdsRead;
}

export interface PassedFds {
  /** How many fds from 3 on the container process keeps. */
  count: number;
  /** Of those, how many are $LISTEN_FDS (the process gets LISTEN_FDS and LISTEN_PID=1). */
  listen: number;
}

/** $LISTEN_FDS when it is meant for this process ($LISTEN_PID is our pid), as sd_listen_fds(3) reads it. */
export function listenFdCount(env: NodeJS.ProcessEnv = process.env): number {
  if (!env.LISTEN_FDS || Number(env.LISTEN_PID) !== process.pid) return 0;
  const n = Number(env.LISTEN_FDS);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** Checks that fds 3 .. 3+listen+preserve-1 were all passed by the caller. */
export function passedFds(preserve: number, listen: number): PassedFds {
  const count = listen + preserve;
  if (count === 0) return { count, listen };
  const inherited = callerFds();
  if (!inherited) return { count, listen };
  for (let fd = 3; fd < 3 + count; fd++) {
    if (inherited.has(fd)) continue;
    const what = fd < 3 + listen ? `LISTEN_FDS=${listen}` : `--preserve-fds ${preserve}`;
    throw new RuntimeError(`${what}: file descriptor ${fd} was not passed to tsrunc (passed: ${[...inherited].sort((a, b) => a - b).join(', ') || 'none beyond stdio'})`);
  }
  return { count, listen };
}
