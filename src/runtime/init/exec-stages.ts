// The children of `exec`: stage 1 joins every namespace of the running
// container and forks (so the new process is inside its PID namespace too);
// stage 2 becomes the process. Same protocol and rules as the init's stages
// (src/runtime/init/stages.ts), without rootfs setup and without the exec fifo.
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { type Process, type Linux } from '../../bundle/spec-types';
import { type Channel, type ChildMessage, type ParentMessage } from '../protocol';
import { type CompiledFilter } from '../../seccomp/load';
import { NAMESPACE_FLAGS, NAMESPACE_FILES, byJoinOrder } from '../../linux/namespaces';
import { openPty, attachSlave } from './terminal';
import { prepareProcess, execProcess, wasmPart, type WasmPlan } from './become';
import * as proc from './process';
import { setAffinity, parseCpuList } from '../../linux/sched';
import { guardStage } from './stage-guard';
import { stageLog, nsexecLog, setnsLine } from './stage-log';
import { openProcfs } from '../../linux/procfs';
import { phase, forked, collect } from '../../trace';
import { type CgroupJoin, cgroupJoinFds, joinV1Self, forkJoined } from '../../cgroups/join';

export interface ExecPlan extends WasmPlan {
  /** Namespace type -> /proc/<init>/ns/<file> of the container's init. */
  namespaces: Record<string, string>;
  process: Process;
  personality?: Linux['personality'];
  memoryPolicy?: Linux['memoryPolicy'];
  seccomp?: CompiledFilter;
  /** How many fds from 3 on the process keeps (--preserve-fds, checked by the parent). */
  passFds: number;
  /** The cgroups to join, open for the first stage (src/cgroups/join.ts). */
  cgroupJoin?: CgroupJoin;
  /** /proc/<init>/root, for a container without a mount namespace: its root is a chroot, entered here. */
  root?: string;
  /** The init's session keyring ("_ses.<id>"), joined as runc's exec does; none with --no-new-keyring. */
  sessionKeyring?: string;
  /** --debug: the stages send their debug lines (stage-log.ts). */
  debug?: boolean;
}

type ChildChannel = Channel<ChildMessage, ParentMessage>;

function report(chan: ChildChannel, stage: string, e: unknown): never {
  try {
    chan.send({ type: 'error', stage, message: e instanceof Error ? e.message : String(e) });
  } catch {
    /* parent gone */
  }
  sys.exit(1);
}

/** The container's /proc (we are in its mount namespace), verified; undefined when it has none. */
function containerProcfs(): number | undefined {
  try {
    return openProcfs('/proc');
  } catch {
    return undefined; // only an LSM label needs it, and says so
  }
}

/** No mount namespace to join: the container's root is the init's chroot, entered through its /proc/<pid>/root. */
function enterRootOf(link: string): void {
  const fd = sys.open(link, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
  try {
    sys.fchdir(fd);
  } finally {
    sys.close(fd);
  }
  sys.chroot('.');
  process.chdir('/');
}

/** The init's session keyring, found by its name (runc's exec joins it too): not the caller's. */
function joinKeyring(name: string): void {
  try {
    sys.joinSessionKeyring(name);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOSYS') throw e; // kernels without keyrings
  }
}

export function execStage1(plan: ExecPlan, chan: ChildChannel): never {
  forked('stage-1');
  try {
    guardStage(chan.fd, plan.passFds, cgroupJoinFds(plan.cgroupJoin));
    sys.prctl(C.PR_SET_PDEATHSIG, 9);
    joinV1Self(plan.cgroupJoin); // before any namespace: the stage-2 it forks is born in them
    const log = nsexecLog(stageLog(chan, plan.debug), 1);
    log('~> nsexec stage-1');
    // execCPUAffinity.initial: where the process runs before it joins the container's cgroup
    const initial = plan.process.execCPUAffinity?.initial;
    if (initial) setAffinity(parseCpuList(initial) ?? []);
    const types = Object.keys(plan.namespaces).sort(byJoinOrder);
    // Open them all first: once in the container's mount namespace, /proc/<init> may not be reachable.
    const fds = types.map((t) => ({ t, fd: sys.open(plan.namespaces[t], C.O_RDONLY | C.O_CLOEXEC) }));
    if (plan.root) enterRootOf(plan.root);
    for (const { t, fd } of fds) {
      log(setnsLine(NAMESPACE_FLAGS[t], NAMESPACE_FILES[t], plan.namespaces[t]));
      sys.setns(fd, NAMESPACE_FLAGS[t], `${t} ${plan.namespaces[t]}`);
      sys.close(fd);
      if (t === 'user') {
        sys.setresgid(0);
        sys.setresuid(0);
      }
    }
    phase('guard fds, join the namespaces');
    log('spawn stage-2');
    const { pid, joined } = forkJoined(plan.cgroupJoin, 'user' in plan.namespaces);
    if (pid === 0) execStage2(plan, chan);
    phase('fork stage-2');
    log(`request stage-0 to forward stage-2 pid (${pid})`);
    chan.send({ type: 'init-pid', pid, joinedCgroup: joined, trace: collect() });
    log('<~ nsexec stage-1');
    sys.exit(0);
  } catch (e) {
    report(chan, 'joining the container', e);
  }
}

function execStage2(plan: ExecPlan, chan: ChildChannel): never {
  forked('stage-2');
  try {
    const go = chan.recv();
    if (!go || go.msg.type !== 'continue') sys.exit(1);
    phase('wait for continue (parent: cgroup)');
    const debug = stageLog(chan, plan.debug);
    const log = nsexecLog(debug, 2);
    log('~> nsexec stage-2');
    log('<= nsexec container setup');
    debug('child process in init()'); // runc's setns init (the setup below) starts here
    const p = plan.process;
    if (plan.sessionKeyring !== undefined) joinKeyring(plan.sessionKeyring);
    // execCPUAffinity.final: once in the container's cgroup
    const final = p.execCPUAffinity?.final;
    if (final) setAffinity(parseCpuList(final) ?? []);
    if (p.terminal) {
      sys.setsid();
      const pty = openPty(p.consoleSize);
      attachSlave(pty, false);
      chan.send({ type: 'console' }, pty.master);
      sys.close(pty.master);
    }
    const ready = prepareProcess({
      process: p,
      personality: plan.personality,
      memoryPolicy: plan.memoryPolicy,
      seccomp: plan.seccomp,
      procFd: containerProcfs(),
      passFds: plan.passFds,
      ...wasmPart(plan),
    }, chan);
    phase('process: terminal, user, capabilities, rlimits, seccomp, LSM');
    chan.send({ type: 'ready', trace: collect() });
    debug('setns_init: about to exec');
    proc.prepareFds(plan.passFds); // closes the channel at exec: EOF tells the runtime it worked
    execProcess(ready);
  } catch (e) {
    report(chan, 'setting up the process', e);
  }
}
