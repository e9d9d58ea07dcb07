// The messages between the runtime (the parent) and the container's init
// processes (the children), over an AF_UNIX SOCK_SEQPACKET socketpair made
// before fork: one JSON object per packet, file descriptors attached with
// SCM_RIGHTS. The exchange, in order:
//
//   stage 1 (forked child: joins and creates namespaces, then forks stage 2)
//     -> { type: 'idmap-request' }       only for a new user namespace: it exists now
//   parent: writes /proc/<stage 1>/uid_map and gid_map
//     <- { type: 'idmap-done' }
//     -> { type: 'init-pid', pid, joinedCgroup }  host PID of stage 2, the container's init, and
//                                        whether it was born in all of its cgroups (src/cgroups/join.ts;
//                                        with TSRUNC_TRACE, stage 1's phases: src/trace.ts)
//   parent: places that PID in the container's cgroups it is not in yet
//     <- { type: 'continue' }
//   stage 2 (PID 1 of the container: rootfs, terminal, process setup)
//     -> { type: 'create-hooks' }        only with prestart/createRuntime hooks: mounts are done
//   parent: runs them in the runtime namespace
//     <- { type: 'create-hooks-done' }
//     -> { type: 'console' } + pty master fd   only when process.terminal
//     -> { type: 'seccomp-listener' } + fd   only with SCMP_ACT_NOTIFY rules: the seccomp
//                                        listener, for the agent at linux.seccomp.listenerPath
//     -> { type: 'ready' }               set up (and stage 2's phases); now waits on the exec fifo for `start`
//
// `start` opens the exec fifo; the init then runs the startContainer hooks
// and writes "0" into it (or "E" and the error) before it execs.
//
// Either stage may instead send { type: 'error', ... } and exit: the parent
// turns it into the command's error and removes what was made.
//
// With --debug, either stage also sends { type: 'log', msg } at any point
// (runc's log pipe): the parent writes the line to its log, in order, while
// it waits for the next message of the exchange.
import { sendMsg, recvMsg } from '../linux/fdpass';
import { pollIn } from '../linux/sys';
import { RuntimeError } from '../errors';
import type { TraceSpan } from '../trace';

export type ChildMessage =
  | { type: 'idmap-request' }
  | { type: 'init-pid'; pid: number; joinedCgroup: boolean; trace?: TraceSpan[] }
  | { type: 'create-hooks' }
  | { type: 'console' }
  | { type: 'seccomp-listener' }
  | { type: 'ready'; trace?: TraceSpan[] }
  | { type: 'error'; stage: string; message: string }
  | { type: 'log'; msg: string };

/** Steps of stage 2 whose errors say all on their own ("error running createContainer hook #0: ..."). */
export const STEP_SETUP_PROCESS = 'setting up the process';
export const STEP_CREATE_CONTAINER_HOOKS = 'running createContainer hooks';

/** The text of a stage's error: "error <step>: <message>", or the message alone where it says all. */
export function stageErrorText(stage: string, message: string): string {
  return stage === STEP_SETUP_PROCESS || stage === STEP_CREATE_CONTAINER_HOOKS ? message : `error ${stage}: ${message}`;
}

export type ParentMessage = { type: 'continue' } | { type: 'idmap-done' } | { type: 'create-hooks-done' };

export interface Packet<T> {
  msg: T;
  fd?: number;
}

/** One end of the socketpair, typed by what it sends and receives. */
export class Channel<Out, In> {
  constructor(readonly fd: number) {}

  send(msg: Out, fd?: number): void {
    sendMsg(this.fd, Buffer.from(JSON.stringify(msg)), fd);
  }

  /** Next message, or undefined when the other end has closed. Throws on timeout. */
  recv(timeoutMs = -1): Packet<In> | undefined {
    if (timeoutMs >= 0 && !pollIn(this.fd, timeoutMs)) {
      throw new RuntimeError(`timed out after ${timeoutMs} ms waiting for the container's init`);
    }
    const r = recvMsg(this.fd);
    if (r.data.length === 0) return undefined;
    return { msg: JSON.parse(r.data.toString('utf8')) as In, fd: r.fd };
  }
}
