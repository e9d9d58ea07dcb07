// The parent's side of starting a process in a container, for `create` (the
// init) and `exec` alike: fork the first stage, learn the PID of the second
// (the container's process), let it go on, and answer its messages until it
// is ready. One protocol (src/runtime/protocol.ts), one timeout, one set of
// error messages.
import * as sys from '../linux/sys';
import { type WaitResult } from '../linux/sys';
import * as C from '../linux/constants';
import { Channel, type ChildMessage, type ParentMessage, type Packet, stageErrorText } from '../runtime/protocol';
import { RuntimeError } from '../errors';
import { adopt } from '../trace';

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

/**
 * Debug lines of the exchange, in the words of runc's nsexec (runc --debug):
 * the runtime is stage-0; the stages' own lines come as `log` messages.
 */
export type DebugLog = (msg: string) => void;

export class StageSession {
  private stage2Pid = 0;
  /** The first stage has forwarded the process's pid and not been waited for yet. */
  private stage1Running = false;
  /** Whether the first stage made the process in every cgroup it was given (src/cgroups/join.ts). */
  joinedCgroup = false;
  /** A message (or EOF) read while logging what was sent, not yet handled. */
  private pending?: { packet: Packet<ChildMessage> | undefined };

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
    debug(`nsexec[${process.pid}]: => nsexec container setup`);
    const [parentEnd, childEnd] = sys.socketpair(C.SOCK_SEQPACKET);
    try {
      if (opts.subreaper) sys.prctl(C.PR_SET_CHILD_SUBREAPER, 1);
      sys.prctl(C.PR_SET_DUMPABLE, 0);
      const pid = sys.safeFork();
      if (pid === 0) {
        sys.close(parentEnd);
        main(new Channel<ChildMessage, ParentMessage>(childEnd));
      }
      debug(`nsexec-0[${process.pid}]: spawn stage-1 (${pid})`);
      return new StageSession(new Channel<ParentMessage, ChildMessage>(parentEnd), pid, debug);
    } catch (e) {
      sys.close(parentEnd);
      throw e;
    } finally {
      sys.close(childEnd);
    }
  }

  private say(msg: string): void {
    this.debug(`nsexec-0[${process.pid}]: ${msg}`);
  }

  /** The next message of the exchange; the stages' log lines before it go to the log. */
  private recv(): Packet<ChildMessage> | undefined {
    if (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      return p.packet;
    }
    for (;;) {
      const p = this.chan.recv(STAGE_TIMEOUT_MS);
      if (p?.msg.type !== 'log') return p;
      this.debug(p.msg.msg);
    }
  }

  /** Logs the log lines already sent: stage 1's last ones once it has exited (stage 2 says nothing before `continue`). */
  private logSent(): void {
    while (sys.pollIn(this.chan.fd, 0)) {
      const p = this.chan.recv();
      if (p?.msg.type !== 'log') {
        this.pending = { packet: p }; // for the next recv (EOF: stage 2 is gone)
        return;
      }
      this.debug(p.msg.msg);
    }
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
      this.say('stage-1 requested userns mappings');
      writeIdMaps(this.stage1Pid);
      this.say(`wrote the id maps of stage-1 (${this.stage1Pid})`);
      this.chan.send({ type: 'idmap-done' });
      first = this.recv();
    }
    if (first?.msg.type === 'init-pid') {
      adopt(first.msg.trace);
      this.say(`stage-1 (${this.stage1Pid}) forwarded the pid of stage-2 (${first.msg.pid})${first.msg.joinedCgroup ? ', born in its cgroups' : ''}`);
    }
    if (first?.msg.type !== 'init-pid') {
      const stage1Exit = this.reapStage1();
      if (!first) throw failed(`the first stage exited (${JSON.stringify(stage1Exit)}) without a word`);
      if (first.msg.type === 'error') throw failed(first.msg.message);
      throw failed(`unexpected message from the first stage: ${first.msg.type}`);
    }
    // Its work is done; it exits as the container's process goes on. Tearing down a forked
    // Node's address space takes a few ms, which stage 2's set-up need not wait for: it is
    // reaped once stage 2 is ready (or at close).
    this.stage1Running = true;
    this.stage2Pid = first.msg.pid;
    this.joinedCgroup = first.msg.joinedCgroup === true;
    return first.msg.pid;
  }

  /** Waits for the first stage to exit (once). */
  private reapStage1(): WaitResult | undefined {
    this.stage1Running = false;
    const exit = sys.waitpid(this.stage1Pid);
    this.logSent();
    this.say(exit?.code === 0 ? 'stage-1 complete' : `stage-1 exited (${JSON.stringify(exit)})`);
    return exit;
  }

  /** Lets the container's process go on (it is in its cgroup now). */
  proceed(): void {
    this.say(`signalling stage-2 (${this.stage2Pid}) to run`);
    this.chan.send({ type: 'continue' });
  }

  /** Answers the process's messages until it reports `ready`. */
  untilReady(on: SetupHandlers): void {
    for (;;) {
      const p = this.recv();
      if (!p) throw failed('the container process exited during setup');
      const m = p.msg;
      this.say(m.type === 'ready' ? 'stage-2 complete' : `stage-2 sent ${m.type === 'error' ? 'an error' : m.type}`);
      if (m.type === 'ready') {
        adopt(m.trace);
        // gone from the container's cgroups before the caller counts or freezes their processes
        if (this.stage1Running) this.reapStage1();
        return;
      }
      if (m.type === 'error') throw failed(stageErrorText(m.stage, m.message));
      if (m.type === 'console' || m.type === 'seccomp-listener') {
        const handler = m.type === 'console' ? on.console : on.seccompListener;
        if (p.fd === undefined) throw failed(`the container process sent a ${m.type} message without its fd`);
        if (handler) handler(p.fd);
        else sys.close(p.fd);
      } else if (m.type === 'create-hooks' && on.createHooks) {
        if (this.stage1Running) this.reapStage1(); // the hooks see the container's processes alone
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
    if (this.stage1Running) this.reapStage1(); // it reads stage 1's last log lines: before the channel goes
    sys.close(this.chan.fd);
  }
}
