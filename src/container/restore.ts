// `restore`: a new container (the id may be the checkpointed one's or a new
// one) whose processes CRIU restores from an image directory (runc's
// Container.Restore). The bundle's config decides the cgroup (made and set
// as `create` makes it; CRIU runs in it and puts the tasks there), the bind
// mounts and devices given back to the restored mount namespace, the hooks
// run at CRIU's "setup-namespaces"; the state is written at "post-restore"
// with the restored init's pid. Any failure removes what was made.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../linux/sys';
import * as C from '../linux/constants';
import { processStartTime } from '../linux/proc';
import { mkdirAllInRoot, createFileInRoot, fdLink, fdPath } from '../linux/inroot';
import { reopenMounted, type RootRef } from '../runtime/init/mounts';
import { loadBundle } from '../bundle/load';
import { type Spec, type Mount } from '../bundle/spec-types';
import { type StateStore, type SavedState } from '../state/store';
import { cgroupManagerFor, type CgroupManager } from '../cgroups';
import { RuntimeError } from '../errors';
import { runHooks, runPoststopHooks } from '../hooks/run';
import { hookContext } from '../hooks/state';
import { ReqType, type CriuOpts, type CgroupRoot } from '../criu/rpc';
import { criuSwrk, criuVersion, resolveCriu } from '../criu/swrk';
import { type CriuOptions, commonCriuRequest } from './criu-options';
import { restoreExternalMounts, isBind } from './criu-mounts';
import { DESCRIPTORS, externalNsKey, explainCriuFailure, type CriuReporting } from './checkpoint';
import { newContainerState } from './create';
import { writePidFile } from './pidfile';

const RESTORE_LOG = 'restore.log';

export interface RestoreOptions extends CriuReporting {
  id: string;
  bundle?: string;
  store: StateStore;
  criu: CriuOptions;
  pidFile?: string;
  systemdCgroup: boolean;
  /** Gets the pty master of a process.terminal container (CRIU's orphan-pts-master) and owns it. */
  onConsole?: (master: number) => void;
  /** Become the subreaper of the container's orphans (restore in the foreground). */
  subreaper?: boolean;
}

/** The init's stdio names the checkpoint kept (descriptors.json); runc's error when it is missing. */
function readDescriptors(imagePath: string): string[] {
  const file = path.join(imagePath, DESCRIPTORS);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new RuntimeError(`open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message} (not a checkpoint of a container: no ${DESCRIPTORS})`);
  }
  const v: unknown = JSON.parse(text);
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new RuntimeError(`${file}: not a list of strings`);
  return v as string[];
}

/** /proc/<pid>/cgroup as CRIU's cgroup roots: each v1 hierarchy by its controllers, the v2 one as the default root. */
function cgroupRoots(pid: number): CgroupRoot[] {
  const out: CgroupRoot[] = [];
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    out.push(m[1] ? { ctrl: m[1], path: m[2] } : { path: m[2] });
  }
  return out;
}

const normalized = (p: string) => path.posix.normalize(`/${p}`).replace(/(.)\/+$/, '$1');

/**
 * runc's prepareCriuRestoreMounts: the mount points of the config's mounts
 * made in the rootfs as `create` makes them (CRIU needs them), except below a
 * tmpfs (CRIU brings its content back) and for cgroups. Bind sources are
 * mounted meanwhile, so that mount points inside them can be made too;
 * returns those mounts (O_PATH fds) for undoMounts.
 */
function prepareMountpoints(spec: Spec, bundleDir: string, rootFd: number): number[] {
  const root: RootRef = { fd: rootFd, path: fdPath(rootFd) };
  const mounts = spec.mounts ?? [];
  const tmpfs = mounts.filter((m) => m.type === 'tmpfs').map((m) => normalized(m.destination));
  const onTmpfs = (m: Mount) => tmpfs.some((t) => normalized(m.destination).startsWith(t === '/' ? '/' : `${t}/`));
  const made: number[] = [];
  try {
    for (const m of mounts) {
      if (m.type === 'cgroup' || m.type === 'cgroup2' || onTmpfs(m)) continue;
      if (!isBind(m)) {
        sys.close(mkdirAllInRoot(rootFd, m.destination));
        continue;
      }
      const source = path.resolve(bundleDir, m.source ?? '');
      let dir: boolean;
      try {
        dir = fs.statSync(source).isDirectory();
      } catch {
        throw new RuntimeError(`bind mount source ${source} does not exist`);
      }
      const target = dir ? mkdirAllInRoot(rootFd, m.destination) : createFileInRoot(rootFd, m.destination);
      try {
        sys.mount(source, fdLink(target), null, C.MS_BIND | C.MS_REC, null);
        // the new mount, checked to be where it was made (what undoMounts unmounts)
        made.push(reopenMounted(root, m.destination, target));
      } finally {
        sys.close(target);
      }
    }
    return made;
  } catch (e) {
    undoMounts(made);
    throw new RuntimeError(`create criu restore mountpoint: ${(e as Error).message}`, 1, { cause: e });
  }
}

function undoMounts(fds: number[]): void {
  for (const fd of fds.reverse()) {
    try {
      sys.umount2(fdLink(fd), C.MNT_DETACH);
    } catch {
      /* gone already */
    }
    sys.close(fd);
  }
}

/** The namespaces the config names by path: CRIU inherits the network and PID ones (extraFds, at 4...), joins the others. */
function joinNamespaces(spec: Spec, rpc: CriuOpts, extraFds: number[], version: number): void {
  for (const ns of spec.linux?.namespaces ?? []) {
    if (!ns.path) continue;
    if (ns.type === 'network' || ns.type === 'pid') {
      if (version < (ns.type === 'network' ? 31100 : 31500)) {
        throw new RuntimeError(`criu lacks support for external ${ns.type === 'network' ? 'net' : 'pid'} namespace during the restoration process (old criu version?)`);
      }
      let fd: number;
      try {
        fd = fs.openSync(ns.path, fs.constants.O_RDONLY);
      } catch {
        throw new RuntimeError(`Requested network namespace ${ns.path} does not exist`);
      }
      extraFds.push(fd);
      (rpc.inheritFd ??= []).push({ key: externalNsKey(ns.type), fd: 3 + extraFds.length });
    } else if (ns.type === 'cgroup') {
      throw new RuntimeError('Do not know how to handle namespace cgroup');
    } else {
      const name = ns.type === 'mount' ? 'mnt' : ns.type;
      (rpc.joinNs ??= []).push({ ns: name, nsFile: ns.path });
    }
  }
}

export async function restoreContainer(opts: RestoreOptions): Promise<SavedState> {
  const bundle = loadBundle(opts.bundle);
  const { spec } = bundle;
  const o = opts.criu;
  const binary = resolveCriu(o.criu);
  const version = await criuVersion(binary, opts.debug);
  if (version < 30000) throw new RuntimeError(`CRIU version ${version} must be 30000 or higher`);
  if (o.lsmProfile && version < 31600) throw new RuntimeError('--lsm-profile requires at least CRIU 3.16');
  if (o.lsmMountContext && version < 31600) throw new RuntimeError('--lsm-mount-context requires at least CRIU 3.16');
  const descriptors = readDescriptors(o.imagePath);

  if (opts.subreaper) sys.prctl(C.PR_SET_CHILD_SUBREAPER, 1);
  const { owned, record } = opts.store.claimOwned(opts.id, bundle.dir, spec);
  let cgroup: CgroupManager | undefined;
  let restoredPid = 0;
  let state: SavedState | undefined;
  const fds: number[] = [];
  const extraFds: number[] = [];
  let tempMounts: number[] = [];
  let criuRoot: string | undefined;
  let rootMounted = false;
  const unmountAll = () => {
    undoMounts(tempMounts);
    tempMounts = [];
    if (rootMounted) {
      try {
        sys.umount2(criuRoot!, C.MNT_DETACH);
        rootMounted = false;
      } catch (e) {
        opts.warn?.(`unmounting ${criuRoot}: ${(e as Error).message}`);
        return;
      }
    }
    try {
      if (criuRoot) fs.rmdirSync(criuRoot);
    } catch {
      /* not made, or removed already */
    }
  };
  try {
    record();
    const manager = cgroupManagerFor(spec.linux?.cgroupsPath, opts.id, opts.systemdCgroup, spec.annotations);
    if (manager.isFrozen()) throw new RuntimeError("container's cgroup unexpectedly frozen");
    if (!manager.systemd) {
      owned.cgroup = { version: manager.version, paths: manager.paths };
      record();
    }
    manager.create();
    cgroup = manager;
    cgroup.apply(spec.linux?.resources ?? {}, { warn: opts.warn, devices: spec.linux?.devices });

    const { request, logDir } = commonCriuRequest(o, spec, fds);
    // CRIU's root must be a mount point whose parent is not overmounted: the rootfs bound in the state dir
    criuRoot = path.join(opts.store.dir(opts.id), 'criu-root');
    fs.mkdirSync(criuRoot, { mode: 0o755 });
    criuRoot = fs.realpathSync(criuRoot);
    sys.mount(bundle.rootfs, criuRoot, null, C.MS_BIND | C.MS_REC, null);
    rootMounted = true;
    const rpc: CriuOpts = {
      ...request,
      evasiveDevices: true,
      logFile: RESTORE_LOG,
      rstSibling: true,
      root: criuRoot,
      lsmProfile: o.lsmProfile,
      lsmMountContext: o.lsmMountContext,
    };
    joinNamespaces(spec, rpc, extraFds, version);
    const rootFd = sys.open(bundle.rootfs, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
    fds.push(rootFd);
    tempMounts = prepareMountpoints(spec, bundle.dir, rootFd);
    rpc.extMnt = restoreExternalMounts(spec, bundle.dir, rootFd, cgroup.views(), cgroup.version === 2);
    // the init's stdio pipes become ours (CRIU's 0-2, which it has from us)
    descriptors.forEach((d, i) => {
      if (d.includes('pipe:')) (rpc.inheritFd ??= []).push({ key: d, fd: i });
    });

    const saveState = (pid: number) => {
      restoredPid = pid;
      owned.init = { pid, startTime: processStartTime(pid) ?? '' };
      if (cgroup?.systemd) owned.cgroup = { version: cgroup.version, paths: cgroup.paths, systemd: cgroup.systemd };
      record();
      state = newContainerState(opts.id, owned.init, bundle, spec, cgroup);
      opts.store.save(state);
    };
    let resp: Awaited<ReturnType<typeof criuSwrk>>;
    try {
      resp = await criuSwrk({
        binary,
        req: { type: ReqType.RESTORE, opts: rpc },
        stdio: 'inherit',
        extraFds,
        debug: opts.debug,
        beforeRequest: (criuPid, req) => {
          // CRIU restores the tasks into its own cgroup (or, by cg_root, into the one it is in): the container's
          cgroup!.addProcess(criuPid);
          req.opts!.cgRoot = cgroupRoots(criuPid);
          opts.debug?.(`criu options: ${JSON.stringify(req.opts)}`);
        },
        onNotify: (script, pid, fd) => {
          if (script === 'orphan-pts-master') {
            if (fd === undefined) throw new RuntimeError('criu sent no pty master with orphan-pts-master');
            if (opts.onConsole) opts.onConsole(fd);
            else sys.close(fd);
            return;
          }
          if (fd !== undefined) sys.close(fd);
          if (script === 'setup-namespaces' && (spec.hooks?.prestart?.length || spec.hooks?.createRuntime?.length)) {
            owned.hooksStarted = true;
            record();
            const ctx = hookContext(spec, opts.id, pid, bundle.dir);
            runHooks('prestart', spec.hooks?.prestart, ctx);
            runHooks('createRuntime', spec.hooks?.createRuntime, ctx);
          } else if (script === 'post-restore') {
            saveState(pid);
          }
        },
      });
    } catch (e) {
      explainCriuFailure(e, logDir, RESTORE_LOG, opts);
    }
    const pid = resp.restore?.pid ?? restoredPid;
    if (!pid) throw new RuntimeError('criu restored no process');
    if (!state || state.pid !== pid) saveState(pid);
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    return state!;
  } catch (e) {
    // the rootfs bind in the state dir goes before the state dir does
    unmountAll();
    if (restoredPid > 0) {
      try {
        sys.kill(restoredPid, 9);
      } catch {
        /* gone */
      }
    }
    try {
      if (cgroup) {
        for (const p of cgroup.processes()) sys.kill(p, 9);
        cgroup.destroy();
      }
    } catch {
      /* report the original error */
    }
    if (owned.hooksStarted) runPoststopHooks(spec.hooks?.poststop, hookContext(spec, opts.id, restoredPid, bundle.dir), opts.warn ?? (() => undefined));
    if (criuRoot && fs.existsSync(criuRoot)) opts.warn?.(`${criuRoot} is still there (a mount of the rootfs?): the state dir is left, delete --force removes it`);
    else opts.store.remove(opts.id);
    throw e;
  } finally {
    unmountAll();
    for (const fd of [...fds, ...extraFds]) sys.close(fd);
  }
}
