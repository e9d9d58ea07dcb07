// The parent's side of starting a process in a container, for `create` (the
// init) and `exec` alike: fork the first stage, learn the PID of the second
// (the container's process), let it go on, and answer its messages until it
// is ready. One protocol (src/runtime/protocol.ts), one timeout, one set of
// error messages.
import * as sys from '../linux/sys';
import * as C from '../linux/constants';
import { Channel, type ChildMessage, type ParentMessage, stageErrorText } from '../runtime/protocol';
import { RuntimeError } from '../errors';

/** How long the parent waits for any message of a stage: a stage that says nothing for that long is stuck. */
export const STAGE_TIMEOUT_MS = 120_000;

type ParentChannel = Channel<ParentMessage, ChildMessage>;

const failed = (message: string) => new RuntimeError(`unable to start container process: ${message}`);

/** What the parent does for the messages a stage may send while it sets up. */
export interface SetupHandlers {
  /** The pty master (process.terminal); the handler owns the fd. */
  console?: (fd: number) => void;
  /** The seccomp notify listener (SCMP_ACT_NOTIFY); the handler owns the fd. */
  seccompListener?: (fd: number) => void;
  /** prestart and createRuntime hooks, run in the runtime's namespaces once the mounts are done. */
  createHooks?: () => void;
}

/** Debug lines of the exchange (runc --debug logs its nsexec stages the same way). */
export type DebugLog = (msg: string) => void;

export class StageSession {
  private stage2Pid = 0;

  private constructor(
    readonly chan: ParentChannel,
    private readonly stage1Pid: number,
    private readonly debug: DebugLog,
  ) {}

  /**
   * Forks the first stage, which runs `main` with its end of a new
   * socketpair. The parent becomes non-dumpable first: containers that share
   * the host's pid namespace see it, and nothing of it may be read through
   * /proc. With `subreaper`, orphans of the container come back to us.
   */
  static fork(main: (chan: Channel<ChildMessage, ParentMessage>) => never, opts: { subreaper?: boolean; debug?: DebugLog } = {}): StageSession {
    const debug = opts.debug ?? (() => undefined);
    const [parentEnd, childEnd] = sys.socketpair(C.SOCK_SEQPACKET);
    try {
      if (opts.subreaper) sys.prctl(C.PR_SET_CHILD_SUBREAPER, 1);
      sys.prctl(C.PR_SET_DUMPABLE, 0);
      const pid = sys.safeFork();
      if (pid === 0) {
        sys.close(parentEnd);
        main(new Channel<ChildMessage, ParentMessage>(childEnd));
      }
      debug(`stage-0[${process.pid}]: spawned stage-1 (${pid})`);
      return new StageSession(new Channel<ParentMessage, ChildMessage>(parentEnd), pid, debug);
    } catch (e) {
      sys.close(parentEnd);
      throw e;
    } finally {
      sys.close(childEnd);
    }
  }

  private recv() {
    return this.chan.recv(STAGE_TIMEOUT_MS);
  }

  /**
   * The host PID of the container's process, once the first stage has
   * forked it (and exited). `writeIdMaps` answers a first stage that made a
   * new user namespace and waits for its id maps.
   */
  processPid(writeIdMaps?: (stage1Pid: number) => void): number {
    let first = this.recv();
    if (first?.msg.type === 'idmap-request') {
      if (!writeIdMaps) throw failed('unexpected id map request');
      this.debug(`stage-1[${this.stage1Pid}]: requested the id maps of its new user namespace`);
      writeIdMaps(this.stage1Pid);
      this.debug(`stage-0[${process.pid}]: wrote the id maps of stage-1 (${this.stage1Pid})`);
      this.chan.send({ type: 'idmap-done' });
      first = this.recv();
    }
    if (first?.msg.type === 'init-pid') {
      this.debug(`stage-1[${this.stage1Pid}]: joined and created the namespaces, forwarded the pid of stage-2 (${first.msg.pid})`);
    }
    const stage1Exit = sys.waitpid(this.stage1Pid);
    this.debug(`stage-1[${this.stage1Pid}]: exited (${JSON.stringify(stage1Exit)})`);
    if (!first) throw failed(`the first stage exited (${JSON.stringify(stage1Exit)}) without a word`);
    if (first.msg.type === 'error') throw failed(first.msg.message);
    if (first.msg.type !== 'init-pid') throw failed(`unexpected message from the first stage: ${first.msg.type}`);
    this.stage2Pid = first.msg.pid;
    return first.msg.pid;
  }

  /** Lets the container's process go on (it is in its cgroup now). */
  proceed(): void {
    this.debug(`stage-0[${process.pid}]: signalling stage-2 (${this.stage2Pid}) to run`);
    this.chan.send({ type: 'continue' });
  }

  /** Answers the process's messages until it reports `ready`. */
  untilReady(on: SetupHandlers): void {
    for (;;) {
      const p = this.recv();
      if (!p) throw failed('the container process exited during setup');
      const m = p.msg;
      this.debug(`stage-2[${this.stage2Pid}]: ${m.type}${m.type === 'ready' ? ': setup complete' : ''}`);
      if (m.type === 'ready') return;
      if (m.type === 'error') throw failed(stageErrorText(m.stage, m.message));
      if (m.type === 'console' || m.type === 'seccomp-listener') {
        const handler = m.type === 'console' ? on.console : on.seccompListener;
        if (p.fd === undefined) throw failed(`the container process sent a ${m.type} message without its fd`);
        if (handler) handler(p.fd);
        else sys.close(p.fd);
      } else if (m.type === 'create-hooks' && on.createHooks) {
        on.createHooks();
        this.chan.send({ type: 'create-hooks-done' });
      } else {
        throw failed(`unexpected message from the container process: ${m.type}`);
      }
    }
  }

  /** After `ready`, an exec'd process closes the channel when it execs (close-on-exec), or says why it could not. */
  untilExec(): void {
    const after = this.recv();
    if (after?.msg.type === 'error') throw failed(after.msg.message);
  }

  close(): void {
    sys.close(this.chan.fd);
  }
}
