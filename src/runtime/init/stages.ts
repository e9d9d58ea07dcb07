// The code that runs in the forked children. Rules (shared/notes/process-model.md):
// synchronous only, never return to the event loop, end in execve or _exit,
// report failures to the parent over the channel.
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { type Spec } from '../../bundle/spec-types';
import { inRuntimeMountNs } from '../../bundle/semantic';
import { type Channel, type ChildMessage, type ParentMessage, STEP_CREATE_CONTAINER_HOOKS, STEP_SETUP_PROCESS } from '../protocol';
import { type CgroupView } from './mounts';
import { setupRootfs, makeCwd, protectPaths, enterRootfs, chrootRootfs, finishRootfs, reopenDevNull, finishReadonlyMounts, makeRootReadonly } from './rootfs';
import { moveRoot } from './no-pivot';
import { runContainerHooks } from './hooks';
import { hookContext } from '../../hooks/state';
import { applySysctl } from './sysctl';
import { openPty, attachSlave } from './terminal';
import * as proc from './process';
import { type CompiledFilter } from '../../seccomp/load';
import { prepareProcess, execProcess, wasmPart, type WasmPlan } from './become';
import { bringUpLoopback } from '../../linux/loopback';
import { NAMESPACE_FLAGS, NAMESPACE_FILES, byJoinOrder } from '../../linux/namespaces';
import { openProcfs, writeProcFile } from '../../linux/procfs';
import { guardStage, withDumpable } from './stage-guard';
import { stageLog, nsexecLog, setnsLine } from './stage-log';
import { sourceJobs, startSourceOpener, receiveSources, fdFloor, type MountSource } from './bind-sources';
import { phase, forked, collect } from '../../trace';
import { type CgroupJoin, cgroupJoinFds, joinV1Self, forkJoined } from '../../cgroups/join';

/** Everything the children need, computed by the parent before fork. */
export interface InitPlan extends WasmPlan {
  id: string;
  spec: Spec;
  bundleDir: string;
  rootfs: string;
  noPivot: boolean;
  /** How many fds from 3 on the process keeps: LISTEN_FDS and --preserve-fds, checked by the parent. */
  passFds: number;
  cgroupViews: CgroupView[];
  cgroupV2: boolean;
  /** Session keyring name (the container id), or undefined with --no-new-keyring. */
  keyringName?: string;
  /** The container has a user namespace (new or joined): devices are bind-mounted, not made. */
  inUserNs: boolean;
  /** O_PATH fd of exec.fifo: stage 2 reopens it through /proc/self/fd, so it needs no access to the state directory. */
  fifoFd: number;
  /** linux.seccomp compiled by the parent (src/seccomp/); installed by stage 2 at loadPointFor's point. */
  seccomp?: CompiledFilter;
  /** The container's cgroups, open for the first stage to join (src/cgroups/join.ts); none without a cgroup of its own or with systemd's driver. */
  cgroupJoin?: CgroupJoin;
  /** Per mounts[] entry, the source the host's root opened or idmapped (bind-sources.ts); set by stage 1. */
  mountSources?: (MountSource | undefined)[];
  /** --debug: the stages send their debug lines (stage-log.ts). */
  debug?: boolean;
}

type ChildChannel = Channel<ChildMessage, ParentMessage>;

const STEP_WAIT_START = 'waiting for start';

function report(chan: ChildChannel, stage: string, e: unknown): never {
  const message = e instanceof Error ? e.message : String(e);
  // After `ready` the runtime may be gone: say it where the container's output goes too.
  if (stage === STEP_WAIT_START) fs.writeSync(2, `tsrunc: container init: ${message}\n`);
  try {
    chan.send({ type: 'error', stage, message });
  } catch {
    /* parent gone */
  }
  sys.exit(1);
}

/** Stage 1: join and create namespaces, then fork the container's init. */
export function stage1(plan: InitPlan, chan: ChildChannel): never {
  forked('stage-1');
  try {
    // The helper that opens bind sources with the host root's credentials: in a user namespace
    // every bind's, else only idmapped ones (not for a rootless runtime: setns(mnt) needs
    // capabilities it lacks, as runc's shouldSendMountSources; idmapped mounts are refused then).
    const jobs = process.geteuid?.() === 0 ? sourceJobs(plan.spec, plan.bundleDir, plan.inUserNs) : [];
    const floor = jobs.some((j) => j !== undefined) ? fdFloor() : 0; // before guardStage (bind-sources.ts)
    guardStage(chan.fd, plan.passFds, [plan.fifoFd, ...cgroupJoinFds(plan.cgroupJoin)]);
    sys.prctl(C.PR_SET_PDEATHSIG, 9); // die with the runtime while setting up
    joinV1Self(plan.cgroupJoin); // before any namespace: the stage-2 it forks is born in them
    const log = nsexecLog(stageLog(chan, plan.debug), 1);
    log('~> nsexec stage-1');
    // The host's procfs, verified, for this stage's own /proc files.
    const hostProc = openProcfs('/proc');
    phase('guard fds, pdeathsig, open /proc');
    // Before any user namespace: lowering it needs the host's CAP_SYS_RESOURCE. The init inherits it.
    if (plan.spec.process?.oomScoreAdj !== undefined) proc.applyOomScoreAdj(plan.spec.process, hostProc);
    const namespaces = plan.spec.linux?.namespaces ?? [];
    const opener = startSourceOpener(jobs, floor); // before any namespace
    const joins = namespaces
      .filter((n) => n.path)
      .sort((a, b) => byJoinOrder(a.type, b.type))
      .map((n) => ({ ns: n, fd: sys.open(n.path as string, C.O_RDONLY | C.O_CLOEXEC) }));
    for (const { ns, fd } of joins) {
      log(setnsLine(NAMESPACE_FLAGS[ns.type], NAMESPACE_FILES[ns.type], ns.path as string));
      sys.setns(fd, NAMESPACE_FLAGS[ns.type], `${ns.type} ${ns.path}`);
      sys.close(fd);
    }
    const newUserNs = namespaces.some((n) => n.type === 'user' && !n.path);
    if (newUserNs) {
      // The other namespaces must be owned by the new user namespace: create it
      // first, alone, and let the parent (outside it) write its id maps.
      log('unshare user namespace');
      sys.unshare(C.CLONE_NEWUSER);
      // An unprivileged runtime may write /proc/<pid>/uid_map only of a dumpable process.
      // Nothing of the container can see this stage: it is in no namespace of the container's yet.
      withDumpable(() => {
        log('request stage-0 to map user namespace');
        chan.send({ type: 'idmap-request' });
        const reply = chan.recv();
        if (!reply || reply.msg.type !== 'idmap-done') sys.exit(1);
      });
    }
    if (newUserNs || joins.some((j) => j.ns.type === 'user')) {
      // Become root of the user namespace (full capabilities in it).
      sys.setresgid(0);
      sys.setresuid(0);
    }
    let flags = 0;
    for (const n of namespaces) if (!n.path && n.type !== 'cgroup' && n.type !== 'user') flags |= NAMESPACE_FLAGS[n.type];
    log('unshare remaining namespaces (except cgroupns)');
    if (flags) sys.unshare(flags);
    if (opener) plan.mountSources = receiveSources(opener, hostProc, floor, plan.inUserNs);
    // Clock offsets of a new time namespace can be set only before a process enters it.
    const offsets = plan.spec.linux?.timeOffsets;
    if (offsets && flags & C.CLONE_NEWTIME) {
      const text = Object.entries(offsets).map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`).join('');
      // in a new user namespace, the file of a non-dumpable process belongs to the host's root
      withDumpable(() => writeProcFile(hostProc, 'self/timens_offsets', text));
    }
    sys.close(hostProc);
    phase('join and create namespaces');
    // fork(3) when stage 2 forks too (its createContainer and startContainer hooks): the child handlers
    // of libc and libuv must have run in it; a raw clone runs none, and libuv's then closes, in the
    // hook's process, fds that are no longer its own (the hook's stdin became libuv's lock pipe)
    const forks = Boolean(plan.spec.hooks?.createContainer?.length || plan.spec.hooks?.startContainer?.length);
    log('spawn stage-2');
    const { pid, joined } = forkJoined(plan.cgroupJoin, forks || newUserNs || joins.some((j) => j.ns.type === 'user'));
    if (pid === 0) stage2(plan, chan);
    phase('fork stage-2');
    log(`request stage-0 to forward stage-2 pid (${pid})`);
    chan.send({ type: 'init-pid', pid, joinedCgroup: joined, trace: collect() });
    log('<~ nsexec stage-1');
    sys.exit(0);
  } catch (e) {
    report(chan, 'namespaces', e);
  }
}

/** Stage 2: the container's init, PID 1 of its PID namespace. */
function stage2(plan: InitPlan, chan: ChildChannel): never {
  forked('stage-2');
  let step = 'waiting for the runtime';
  try {
    const go = chan.recv();
    if (!go || go.msg.type !== 'continue') sys.exit(1); // the runtime gave up
    phase('wait for continue (parent: cgroup)');
    const debug = stageLog(chan, plan.debug);
    const log = nsexecLog(debug, 2);
    log('~> nsexec stage-2');
    const { spec } = plan;
    const p = spec.process!;
    if ((spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup' && !n.path)) {
      step = 'creating the cgroup namespace';
      log('unshare cgroup namespace');
      sys.unshare(C.CLONE_NEWCGROUP);
    }
    log('<= nsexec container setup');
    debug('child process in init()'); // runc's init (the setup below) starts here
    sys.setsid();
    sys.umask(0);
    if ((spec.linux?.namespaces ?? []).some((n) => n.type === 'network' && !n.path)) {
      step = 'setting up the network namespace';
      bringUpLoopback();
    }
    if (plan.keyringName !== undefined) {
      step = 'joining a new session keyring';
      let serial: number | undefined;
      try {
        serial = sys.joinSessionKeyring(plan.keyringName);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOSYS') throw e; // kernels without keyrings
      }
      // searchable, as runc makes it, so that `exec` finds it by name and joins it:
      // by its user, or in a user namespace by others
      if (serial !== undefined) sys.addKeyPermissions(serial, plan.inUserNs ? C.KEY_OTH_SEARCH : C.KEY_USR_SEARCH);
    }

    phase('session, loopback, keyring');
    step = 'preparing the root filesystem';
    const prepared = setupRootfs(plan);
    makeCwd(prepared.root, p.cwd);
    // The container's own /proc, verified, for every /proc write from here on; a container
    // without one is served by the host's (then only the cwd check keeps its fd out of reach).
    const procFd = prepared.procFd ?? openProcfs('/proc');
    const hooks = spec.hooks ?? {};
    phase('rootfs: mounts, devices, cwd');
    const hookCtx = hookContext(spec, plan.id, 1, plan.bundleDir);
    if (hooks.prestart?.length || hooks.createRuntime?.length) {
      step = 'running createRuntime hooks';
      chan.send({ type: 'create-hooks' });
      const done = chan.recv();
      if (!done || done.msg.type !== 'create-hooks-done') sys.exit(1); // the runtime reports the failure
    }
    step = STEP_CREATE_CONTAINER_HOOKS;
    runContainerHooks('createContainer', hooks.createContainer, { ...hookCtx, pid: sys.getpid() });
    phase('hooks (createRuntime, createContainer)');
    step = 'preparing the root filesystem';
    if (spec.linux?.sysctl) applySysctl(procFd, spec.linux.sysctl); // before /proc/sys turns read-only
    protectPaths(prepared.root, spec);
    if (inRuntimeMountNs(spec)) chrootRootfs(prepared.root);
    else if (plan.noPivot) moveRoot(prepared.root);
    else enterRootfs(prepared.root);
    sys.close(prepared.root.fd);
    finishRootfs(spec);
    reopenDevNull(spec);
    if (spec.hostname !== undefined) sys.sethostname(spec.hostname);
    if (spec.domainname !== undefined) sys.setdomainname(spec.domainname);
    phase('rootfs: sysctl, masked paths, pivot_root, hostname');

    if (p.terminal) {
      step = 'setting up the terminal';
      const pty = openPty(p.consoleSize);
      attachSlave(pty);
      chan.send({ type: 'console' }, pty.master);
      sys.close(pty.master);
    }
    finishReadonlyMounts(prepared);
    makeRootReadonly(spec);
    phase('terminal, read-only mounts');

    step = STEP_SETUP_PROCESS;
    const ready = prepareProcess({
      process: p,
      personality: spec.linux?.personality,
      memoryPolicy: spec.linux?.memoryPolicy,
      seccomp: plan.seccomp,
      procFd,
      passFds: plan.passFds,
      ...wasmPart(plan),
    }, chan);

    phase('process: user, capabilities, rlimits, seccomp, LSM');
    step = STEP_WAIT_START;
    debug('init: closing the pipe to signal completion');
    chan.send({ type: 'ready', trace: collect() });
    // The wait may be long (and 100 created containers are 100 of these): what malloc holds
    // free goes back to the kernel (0.4 MB of this process's private memory, 0.2 ms). A full
    // GC here would give back 1.2 MB more but costs 10-17 ms of CPU, which a `start` that
    // comes at once would wait for (docs/architecture.md, Memory).
    sys.mallocTrim();
    // Blocks until `start` opens the fifo for reading; the byte tells it we got there.
    const fifo = sys.openat(procFd, `self/fd/${plan.fifoFd}`, C.O_WRONLY | C.O_CLOEXEC);
    try {
      runContainerHooks('startContainer', hooks.startContainer, { ...hookCtx, pid: sys.getpid() });
    } catch (e) {
      fs.writeSync(fifo, `E${(e as Error).message}`); // `start` reports it
      sys.exit(1);
    }
    fs.writeSync(fifo, '0');
    sys.close(fifo);
    proc.prepareFds(plan.passFds);
    execProcess(ready);
  } catch (e) {
    report(chan, step, e);
  }
}
