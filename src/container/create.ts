// `create`: validates the bundle, claims the id, forks the container's init
// and waits until it is set up and waiting for `start`. On any failure it
// removes everything it made: init, cgroup, state directory.
import * as fs from 'fs';
import * as path from 'path';
import { type Spec, type IdMapping } from '../bundle/spec-types';
import * as sys from '../linux/sys';
import * as C from '../linux/constants';
import { processStartTime } from '../linux/proc';
import { loadBundle, type Bundle } from '../bundle/load';
import { type StateStore, type SavedState } from '../state/store';
import { fault } from '../faults';
import { cgroupManagerFor, type CgroupManager } from '../cgroups';
import { stage1, type InitPlan } from '../runtime/init/stages';
import { RuntimeError } from '../errors';
import { writePidFile } from './pidfile';
import { passedFds } from './passfds';
import { StageSession } from './stage-session';
import { wasmPlan } from './wasm';
import { writeIdMaps } from './idmap';
import { runHooks, runPoststopHooks } from '../hooks/run';
import { hookContext } from '../hooks/state';
import { SPEC_VERSION } from '../version';
import { isoTime } from '../state/time';
import { NAMESPACE_FILES } from '../linux/namespaces';
import { compileSeccomp } from '../seccomp/compile';
import { sendListenerToAgent } from '../seccomp/notify';
import { phase } from '../trace';
import { openCgroupJoin, cgroupJoinFds, addToV2 } from '../cgroups/join';
import { moveNetDevices } from './netdevices';
import { hostRootfsBefore, detachHostRootfs } from './host-rootfs';

export interface CreateOptions {
  id: string;
  bundle?: string;
  store: StateStore;
  pidFile?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  /** --preserve-fds: the caller's fds 3.. (after any LISTEN_FDS ones) the container's process keeps. */
  preserveFds: number;
  /** Socket-activation fds (listenFdCount()): passed first, with LISTEN_FDS and LISTEN_PID=1 in the process's env. */
  listenFds?: number;
  systemdCgroup: boolean;
  /** Called with the pty master when process.terminal is true; must take ownership of the fd. */
  onConsole?: (master: number) => void;
  /** Where warnings go (a cgroup that already holds processes, failed poststop hooks). */
  warn?: (msg: string) => void;
  /** Reparent the init to this process (run in the foreground waits for it). */
  subreaper?: boolean;
  /** Debug lines of the stages' setup (--debug). */
  debug?: (msg: string) => void;
}

export interface Created {
  state: SavedState;
  bundle: Bundle;
}

/** Now in RFC 3339 as Go prints it: the fraction without trailing zeros. */
export function rfc3339Now(): string {
  return isoTime().replace(/\.?0*Z$/, 'Z');
}

/**
 * The fifo the init blocks on until `start`. Writable by the container's
 * root (which is another host uid in a user namespace), readable by us only.
 */
function createExecFifo(fifo: string, spec: Spec): void {
  sys.mkfifo(fifo, 0o622);
  fs.chmodSync(fifo, 0o622); // mkfifo applied our umask
  const rootUid = hostIdOf(0, spec.linux?.uidMappings);
  const rootGid = hostIdOf(0, spec.linux?.gidMappings);
  if (rootUid !== 0 || rootGid !== 0) fs.chownSync(fifo, rootUid, rootGid);
}

/** The host id a container id maps to (itself without mappings). */
function hostIdOf(id: number, maps: IdMapping[] | undefined): number {
  if (!maps || maps.length === 0) return id;
  const m = maps.find((x) => id >= x.containerID && id < x.containerID + x.size);
  return m ? m.hostID + (id - m.containerID) : id;
}

function waitInitGone(pid: number): void {
  for (let i = 0; i < 500 && processStartTime(pid) !== undefined; i++) {
    sys.sleepMs(2);
  }
}

/**
 * Creates the container's cgroup. Without root, a cgroup tree that was not
 * delegated to the caller cannot be written: the container then runs
 * without one of its own, as runc's rootless mode does.
 */
function rootlessCgroup(cgroup: CgroupManager): CgroupManager | undefined {
  try {
    cgroup.create();
    return cgroup;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (process.getuid!() !== 0 && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) return undefined;
    throw e;
  }
}

export function createContainer(opts: CreateOptions): Created {
  const pass = passedFds(opts.preserveFds, opts.listenFds ?? 0);
  const bundle = loadBundle(opts.bundle);
  const { spec } = bundle;
  // seccomp: compiled before anything exists, so a bad section leaves nothing behind.
  const seccomp = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp) : undefined;
  phase('create: seccomp compile');
  // what the container owns, on disk before it is acquired (see Owned in src/state/store.ts)
  const { owned, record } = opts.store.claimOwned(opts.id, bundle.dir, spec);
  let cgroup: CgroupManager | undefined;
  let initPid = 0;
  let session: StageSession | undefined;
  const fds: number[] = [];
  try {
    record();
    fault('create:claimed');
    owned.hostRootfs = hostRootfsBefore(spec, bundle.rootfs);
    if (owned.hostRootfs) record();
    phase('create: claim the id, record');
    const manager = cgroupManagerFor(spec.linux?.cgroupsPath, opts.id, opts.systemdCgroup, spec.annotations);
    // A cgroup that already holds processes (another container's, a pod's) is used all the same,
    // with runc 1.1.5's warnings (1.2 refuses it).
    // Not with the systemd driver: there the cgroup is a unit, and one that exists is an error of its own.
    const occupants = !opts.systemdCgroup && manager.exists() ? manager.processes().length : 0;
    if (occupants) {
      opts.warn?.(`container's cgroup is not empty: ${occupants} process(es) found`);
      opts.warn?.('DEPRECATED: runc 1.2 refuses to run a container in a non-empty cgroup; https://github.com/opencontainers/runc/issues/3132');
    }
    // An existing cgroup that is frozen would freeze the init mid-setup. Refused, as runc,
    // before anything is made or recorded: the caller's cgroup stays as it was.
    if (manager.isFrozen()) throw new RuntimeError("container's cgroup unexpectedly frozen");
    // a systemd unit is recorded once made (below): its name may be another container's until then
    if (!manager.systemd) {
      owned.cgroup = { version: manager.version, paths: manager.paths };
      record();
    }
    cgroup = rootlessCgroup(manager);
    fault('create:cgroup');
    cgroup?.apply(spec.linux?.resources ?? {}, { warn: opts.warn, devices: spec.linux?.devices });
    phase('create: cgroup create and apply');
    createExecFifo(opts.store.fifoPath(opts.id), spec);
    const fifoFd = sys.open(opts.store.fifoPath(opts.id), C.O_PATH | C.O_NOFOLLOW | C.O_CLOEXEC);
    fds.push(fifoFd);
    // the init is born in its cgroups (src/cgroups/join.ts); systemd's driver has systemd move it (addProcess)
    const cgroupJoin = cgroup && !cgroup.systemd ? openCgroupJoin(cgroup.paths) : undefined;
    fds.push(...cgroupJoinFds(cgroupJoin));
    const plan: InitPlan = {
      id: opts.id,
      spec: withListenEnv(spec, pass.listen),
      bundleDir: bundle.dir,
      rootfs: bundle.rootfs,
      noPivot: opts.noPivot,
      passFds: pass.count,
      cgroupViews: cgroup?.views() ?? [],
      cgroupV2: cgroup?.version === 2,
      fifoFd,
      inUserNs: (spec.linux?.namespaces ?? []).some((n) => n.type === 'user'),
      // runc's name: "_ses." + id (the kernel refuses a name beginning with ".", which ids may)
      keyringName: opts.noNewKeyring ? undefined : `_ses.${opts.id}`,
      seccomp,
      cgroupJoin,
      ...wasmPlan(spec.annotations),
      debug: opts.debug !== undefined,
    };
    phase('create: exec fifo, plan');
    session = StageSession.fork((chan) => stage1(plan, chan), { subreaper: opts.subreaper, debug: opts.debug });
    fault('create:forked');
    phase('create: fork stage-1');
    initPid = session.processPid((stage1Pid) => writeIdMaps(stage1Pid, spec));
    phase('create: wait for stage-1 (namespaces, fork of stage-2, exit)');
    const init = { pid: initPid, startTime: processStartTime(initPid) ?? '' };
    owned.init = init;
    record();
    fault('create:init-pid');
    if (cgroup?.systemd) cgroup.addProcess(initPid);
    else if (cgroupJoin && !session.joinedCgroup) addToV2(cgroupJoin, initPid);
    if (cgroup?.systemd) {
      // until recorded, a kill leaves a scope whose init delete --force kills (owned.init): systemd then removes it
      owned.cgroup = { version: cgroup.version, paths: cgroup.paths, systemd: cgroup.systemd };
      record();
    }
    fault('create:in-cgroup');
    if (spec.linux?.netDevices) {
      moveNetDevices(spec.linux.netDevices, init);
      fault('create:netdevices');
    }
    phase('create: record the init, join its cgroup');
    session.proceed();
    session.untilReady({
      console: (fd) => (opts.onConsole ? opts.onConsole(fd) : sys.close(fd)),
      createHooks: () => {
        const ctx = hookContext(spec, opts.id, initPid, bundle.dir);
        owned.hooksStarted = true;
        record();
        fault('create:hooks');
        try {
          runHooks('prestart', spec.hooks?.prestart, ctx);
          runHooks('createRuntime', spec.hooks?.createRuntime, ctx);
        } catch (e) {
          // as runc: a create-time hook's failure is the container process's
          throw new RuntimeError(`unable to start container process: ${(e as Error).message}`, 1, { cause: e });
        }
      },
      // SCMP_ACT_NOTIFY: the listener goes to the agent at linux.seccomp.listenerPath
      seccompListener: seccomp && ((fd) => sendListenerToAgent(seccomp, fd, hookContext(spec, opts.id, initPid, bundle.dir))),
    });
    fault('create:ready');
    phase('create: wait for stage-2 (set-up until ready)');

    const state: SavedState = {
      ...newContainerState(opts.id, init, bundle, spec, cgroup),
      hostRootfs: owned.hostRootfs,
      sessionKeyring: plan.keyringName,
    };
    opts.store.save(state);
    fault('create:saved');
    if (opts.pidFile) writePidFile(opts.pidFile, initPid);
    phase('create: save the state');
    return { state, bundle };
  } catch (e) {
    if (initPid > 0) {
      try {
        sys.kill(initPid, 9);
      } catch {
        /* already gone */
      }
      waitInitGone(initPid);
    }
    try {
      if (owned.hostRootfs) detachHostRootfs(owned.hostRootfs);
    } catch {
      /* report the original error */
    }
    try {
      cgroup?.destroy();
    } catch {
      /* report the original error */
    }
    // A failed create hook stops the container and goes on with delete's poststop hooks (runtime.md);
    // before the state dir goes, which records them for a delete --force should this process be killed.
    if (owned.hooksStarted || spec.hooks?.createContainer?.length) {
      const ctx = hookContext(spec, opts.id, initPid, bundle.dir);
      runPoststopHooks(spec.hooks?.poststop, ctx, opts.warn ?? (() => undefined));
    }
    opts.store.remove(opts.id);
    throw e;
  } finally {
    session?.close();
    for (const fd of fds) sys.close(fd);
  }
}

/** The init's process gets LISTEN_FDS and LISTEN_PID (as runc), not the config kept for `exec`. */
function withListenEnv(spec: Spec, listen: number): Spec {
  if (!listen || !spec.process) return spec;
  return { ...spec, process: { ...spec.process, env: [...(spec.process.env ?? []), `LISTEN_FDS=${listen}`, 'LISTEN_PID=1'] } };
}

/** The state a new container is saved with: made by create, or restored from a checkpoint. */
export function newContainerState(id: string, init: { pid: number; startTime: string }, bundle: Pick<Bundle, 'dir' | 'rootfs'>, spec: Spec, cgroup: CgroupManager | undefined): SavedState {
  return {
    ociVersion: SPEC_VERSION,
    id,
    pid: init.pid,
    pidStartTime: init.startTime,
    bundle: bundle.dir,
    rootfs: bundle.rootfs,
    created: rfc3339Now(),
    owner: '',
    annotations: spec.annotations,
    cgroup: cgroup ? { version: cgroup.version, paths: cgroup.paths, created: true, systemd: cgroup.systemd } : undefined,
    namespacePaths: namespacePaths(init.pid, spec.linux?.namespaces?.map((n) => n.type) ?? []),
    config: spec,
  };
}

/** The init's namespace files by type (exec joins them). */
export function namespacePaths(pid: number, types: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of types) out[t] = path.join('/proc', String(pid), 'ns', NAMESPACE_FILES[t]);
  return out;
}

