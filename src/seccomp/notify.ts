// SCMP_ACT_NOTIFY: the container's init installs its filter with a listener
// and sends the listener fd to the runtime ('seccomp-listener' message,
// runtime/init/become.ts); the runtime hands it to the seccomp agent
// listening on `listenerPath`, with the
// runtime-spec's "container process state" (config-linux.md), one connection
// per container, closed right after.
import * as sys from '../linux/sys';
import { connectUnix, sendMsg } from '../linux/fdpass';
import { RuntimeError } from '../errors';
import type { CompiledFilter } from './load';

export interface ListenerState {
  ociVersion: string;
  id: string;
  /** Host PID of the container's init. */
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** The container process state JSON (config-linux.md "The Container Process State"). */
export function containerProcessState(filter: CompiledFilter, st: ListenerState): Record<string, unknown> {
  const state: Record<string, unknown> = {
    ociVersion: st.ociVersion,
    id: st.id,
    status: 'creating',
    pid: st.pid,
    bundle: st.bundle,
  };
  if (st.annotations && Object.keys(st.annotations).length) state.annotations = st.annotations;
  const out: Record<string, unknown> = {
    ociVersion: st.ociVersion,
    fds: ['seccompFd'],
    pid: st.pid,
  };
  if (filter.listenerMetadata !== undefined) out.metadata = filter.listenerMetadata;
  out.state = state;
  return out;
}

/**
 * Parent side: connects to the agent's socket ("@name": an abstract one, as
 * runc dials it) and sends the state with the listener fd attached
 * (SCM_RIGHTS). Closes `listenerFd` either way. Any failure is the command's
 * error (the spec requires it), in runc's words, which callers look for.
 */
export function sendListenerToAgent(filter: CompiledFilter, listenerFd: number, st: ListenerState): void {
  const path = filter.listenerPath as string;
  let sock = -1;
  try {
    try {
      sock = connectUnix(path);
    } catch (e) {
      throw new RuntimeError(`failed to connect with seccomp agent specified in the seccomp profile: ${(e as Error).message}`, 1, { cause: e });
    }
    try {
      sendMsg(sock, Buffer.from(JSON.stringify(containerProcessState(filter, st))), listenerFd);
    } catch (e) {
      throw new RuntimeError(`cannot send seccomp fd to ${path}: ${(e as Error).message}`, 1, { cause: e });
    }
  } finally {
    if (sock >= 0) sys.close(sock);
    sys.close(listenerFd);
  }
}
