// The container's root filesystem (stage 2): propagation, mounts, devices,
// masked and read-only paths, all by fd below the rootfs while the host's
// /proc is still there; then pivot_root, and what is left stacked over the
// new root is detached.
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { SyscallError } from '../../linux/errors';
import { type Spec } from '../../bundle/spec-types';
import { inRuntimeMountNs } from '../../bundle/semantic';
import { parseMountOptions } from '../../bundle/mount-options';
import { mountOne, readonlyLater, setMountAttrs, bindOnto, reopenMounted, pathInRoot, type CgroupView, type RootRef } from './mounts';
import { openInRoot, mkdirAllInRoot, fdPath, fdLink } from '../../linux/inroot';
import { devicesToCreate, createDevice, bindDevice, createDevSymlinks } from './devices';
import { type MountSource } from './bind-sources';

export interface RootfsPlan {
  rootfs: string;
  bundleDir: string;
  spec: Spec;
  noPivot: boolean;
  cgroupViews: CgroupView[];
  cgroupV2: boolean;
  inUserNs: boolean;
  /** Per mounts[] entry, the source the host's root opened or idmapped (bind-sources.ts); closed once used. */
  mountSources?: (MountSource | undefined)[];
}

/** What the rootfs steps hand on: the rootfs (fd and host path) and, if the config mounts one, its verified /proc. */
export interface PreparedRoot {
  root: RootRef;
  procFd?: number;
  /** O_PATH fds of the mounts made read-only at the end (readonlyLater), in mounts[] order. */
  readonlyLater: number[];
}

const PROPAGATION: Record<string, number> = {
  private: C.MS_PRIVATE, rprivate: C.MS_PRIVATE | C.MS_REC,
  shared: C.MS_SHARED, rshared: C.MS_SHARED | C.MS_REC,
  slave: C.MS_SLAVE, rslave: C.MS_SLAVE | C.MS_REC,
  unbindable: C.MS_UNBINDABLE, runbindable: C.MS_UNBINDABLE | C.MS_REC,
};

function devIsBindMounted(spec: Spec): boolean {
  return (spec.mounts ?? []).some((m) => m.destination.replace(/\/+$/, '') === '/dev' && parseMountOptions(m.options, m.type).bind);
}

const isMissing = (e: unknown) => e instanceof SyscallError && e.code === 'ENOENT';

/** Propagation, the rootfs made a mount of its own, mounts[] and /dev, below the rootfs by fd. */
export function setupRootfs(plan: RootfsPlan): PreparedRoot {
  const { rootfs, spec } = plan;
  const root = inRuntimeMountNs(spec) ? bindRootfsPrivately(rootfs) : bindRootfsInOwnNs(rootfs, spec);
  let procFd: number | undefined;
  const roLater: number[] = [];
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    let mounted: number | undefined;
    const src = plan.mountSources?.[i];
    try {
      mounted = mountOne(root, plan.bundleDir, m, plan.cgroupViews, plan.cgroupV2, src);
    } catch (e) {
      throw new Error(`mounting ${m.source ?? m.type} to ${m.destination}: ${(e as Error).message}`, { cause: e });
    } finally {
      // an attached tree's fd is the new mount's, returned as `mounted`
      if (src && src.kind !== 'error' && src.fd !== mounted) sys.close(src.fd);
    }
    // the container's /proc, proven procfs by mountOne, serves the init's /proc writes
    if (m.type === 'proc' && pathInRoot(root, mounted) === '/proc') {
      if (procFd !== undefined) sys.close(procFd);
      procFd = mounted;
    } else if (readonlyLater(m)) {
      roLater.push(mounted);
    } else {
      sys.close(mounted);
    }
  }

  const devices = devIsBindMounted(spec) ? spec.linux?.devices ?? [] : devicesToCreate(spec.linux?.devices);
  // A user namespace cannot mknod: the host's device nodes are bind-mounted instead.
  for (const d of devices) {
    if (plan.inUserNs) bindDevice(root, d);
    else createDevice(root.fd, d);
  }
  createDevSymlinks(root.fd);
  return { root, procFd, readonlyLater: roLater };
}

/** In the container's own mount namespace: the propagation of "/", then the rootfs bound onto itself. */
function bindRootfsInOwnNs(rootfs: string, spec: Spec): RootRef {
  // As runc's prepareRoot: "/" gets the spec's propagation (rslave when none),
  // so a bind of a shared host mount under "rshared" stays the host mount's
  // peer (Kubernetes' Bidirectional); only the mount holding the rootfs is made
  // private, so that the rootfs bind does not reach the host and pivot_root
  // accepts it. runc fails with "unbindable" here (a bind from an unbindable
  // "/"): that one starts from rslave and is applied after pivot_root.
  const propagation = spec.linux?.rootfsPropagation;
  const initial = propagation && !propagation.includes('unbindable') && PROPAGATION[propagation] !== undefined
    ? PROPAGATION[propagation] : C.MS_SLAVE | C.MS_REC;
  sys.mount(null, '/', null, initial, null);
  rootfsParentMountPrivate(rootfs);
  sys.mount(rootfs, rootfs, null, C.MS_BIND | C.MS_REC, null);
  const fd = sys.open(rootfs, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
  return { fd, path: fdPath(fd) };
}

/**
 * Without a mount namespace of its own the container's mounts are made in
 * the runtime's, and the runtime's propagation stays as it is: the rootfs is
 * bound onto itself as a private tree, so that nothing mounted in it reaches
 * another mount or namespace, and its mounts go with it at delete
 * (src/container/host-rootfs.ts).
 */
function bindRootfsPrivately(rootfs: string): RootRef {
  const dir = sys.open(rootfs, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
  try {
    const fd = bindOnto(dir, dir, true, 0, 0, () => sys.open(rootfs, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC), false, C.MS_PRIVATE | C.MS_REC);
    return { fd, path: fdPath(fd) };
  } finally {
    sys.close(dir);
  }
}

/**
 * The mount holding the rootfs (the caller's path, on the host's side),
 * made private if it is shared (runc's rootfsParentMountPrivate). Found by
 * its mount id in mountinfo, its mount point opened and checked to be that
 * same mount before the change.
 */
function rootfsParentMountPrivate(rootfs: string): void {
  const id = sys.statx(C.AT_FDCWD, rootfs, 0).mntId;
  if (id === undefined) return; // kernels before 5.8: left as it is
  const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.startsWith(`${id} `));
  if (!line) return;
  const fields = line.split(' ');
  const optional = fields.slice(6, fields.indexOf('-'));
  if (!optional.some((o) => o.startsWith('shared:'))) return;
  const mountpoint = fields[4].replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  const fd = sys.open(mountpoint, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
  try {
    const st = sys.fstatx(fd);
    if (st.mntId !== id || st.mountRoot === false) throw new Error(`the mount holding the rootfs (${mountpoint}) is not where mountinfo says it is`);
    sys.mount(null, fdLink(fd), null, C.MS_PRIVATE, null);
  } finally {
    sys.close(fd);
  }
}

/** The process's cwd as a directory of the rootfs (made if missing, inside the root). */
export function makeCwd(root: RootRef, cwd: string): void {
  sys.close(mkdirAllInRoot(root.fd, cwd, 0o755));
}

/**
 * The container's /dev/null, which masks files: it must be the real char
 * device 1:3, not a file or link a hostile image or a container sharing /dev
 * put there (CVE-2025-31133).
 */
function openDevNull(root: RootRef): number {
  let fd: number;
  try {
    fd = openInRoot(root.fd, '/dev/null', C.O_PATH | C.O_NOFOLLOW);
  } catch (e) {
    throw new Error(`linux.maskedPaths: container's /dev/null is invalid: ${(e as Error).message}`, { cause: e });
  }
  const st = sys.fstatx(fd);
  if ((st.mode & C.S_IFMT) !== C.S_IFCHR || st.rdevMajor !== 1 || st.rdevMinor !== 3) {
    sys.close(fd);
    throw new Error("linux.maskedPaths: container's /dev/null is invalid: not the character device 1:3");
  }
  return fd;
}

/** Runs `fn` on the fd of a path in the root; a missing path is skipped (masked and read-only paths are optional). */
function eachExisting(root: RootRef, paths: string[], fn: (fd: number, p: string) => void): void {
  for (const p of paths) {
    let fd: number;
    try {
      fd = openInRoot(root.fd, p, C.O_PATH);
    } catch (e) {
      if (isMissing(e)) continue;
      throw e;
    }
    try {
      fn(fd, p);
    } finally {
      sys.close(fd);
    }
  }
}

/** maskedPaths: a read-only tmpfs over directories, the verified /dev/null over files. */
function maskPaths(root: RootRef, paths: string[]): void {
  let devNull: number | undefined;
  try {
    eachExisting(root, paths, (fd, p) => {
      if (sys.tryFileType(fd) === C.S_IFDIR) {
        sys.mount('tmpfs', fdLink(fd), 'tmpfs', C.MS_RDONLY, null);
      } else {
        devNull ??= openDevNull(root);
        sys.close(bindOnto(fd, devNull, false, 0, 0, () => reopenMounted(root, p, fd)));
      }
    });
  } finally {
    if (devNull !== undefined) sys.close(devNull);
  }
}

/** readonlyPaths: each a read-only bind of itself, the mounts below it read-only too. */
function readonlyPaths(root: RootRef, paths: string[]): void {
  eachExisting(root, paths, (fd, p) => {
    sys.close(bindOnto(fd, fd, true, C.MS_RDONLY, 0, () => reopenMounted(root, p, fd), true));
  });
}

/** Masked and read-only paths, by fd in the rootfs (the config's /proc already mounted there). */
export function protectPaths(root: RootRef, spec: Spec): void {
  maskPaths(root, spec.linux?.maskedPaths ?? []);
  readonlyPaths(root, spec.linux?.readonlyPaths ?? []);
}

/** Without a mount namespace of its own: chroot into the rootfs bind (runc's chroot; --no-pivot changes nothing). */
export function chrootRootfs(root: RootRef): void {
  sys.fchdir(root.fd);
  sys.chroot('.');
  process.chdir('/');
}

const isDevNull = (st: sys.Statx) => (st.mode & C.S_IFMT) === C.S_IFCHR && st.rdevMajor === 1 && st.rdevMinor === 3;

/**
 * runc's reOpenDevNull, once in the container's root: stdio that is the
 * host's /dev/null (a detached container's, conmon's stdin) becomes the
 * container's own, so that CRIU can checkpoint the container (it cannot dump
 * a file of a mount outside the container's namespace). Only where the
 * runtime made /dev; that /dev/null must be the real device 1:3.
 */
export function reopenDevNull(spec: Spec): void {
  if (devIsBindMounted(spec)) return;
  let devNull: number | undefined;
  try {
    for (const fd of [0, 1, 2]) {
      let st: sys.Statx;
      try {
        st = sys.fstatx(fd);
      } catch {
        continue; // not open
      }
      if (!isDevNull(st)) continue;
      if (devNull === undefined) {
        devNull = sys.open('/dev/null', C.O_RDWR | C.O_NOFOLLOW | C.O_CLOEXEC);
        if (!isDevNull(sys.fstatx(devNull))) throw new Error("the container's /dev/null is not the character device 1:3");
      }
      sys.dup3(devNull, fd, 0);
    }
  } finally {
    if (devNull !== undefined) sys.close(devNull);
  }
}

/** Makes the prepared rootfs "/" of the container with pivot_root (--no-pivot: no-pivot.ts). */
export function enterRootfs(root: RootRef): void {
  const oldRoot = sys.open('/', C.O_DIRECTORY | C.O_RDONLY | C.O_CLOEXEC);
  try {
    sys.fchdir(root.fd);
    // pivot_root(".", ".") stacks the old root on top of the new one; it is then unmounted.
    sys.pivotRoot('.', '.');
    sys.fchdir(oldRoot);
    sys.mount(null, '.', null, C.MS_SLAVE | C.MS_REC, null);
    sys.umount2('.', C.MNT_DETACH);
  } finally {
    sys.close(oldRoot);
  }
  process.chdir('/');
  detachStackedRoots();
}

const MAX_STACKED = 16;

/**
 * Where the host's root fs is mounted more than once on "/", a copy of it is
 * left stacked over the new root after pivot_root: "/" is the rootfs, but
 * "/.." (which the kernel resolves to the topmost mount on the root) and a
 * process that joins the mount namespace (`exec`) land in the host's "/".
 * Detach every such mount, checking before each (one more would detach the
 * container's own root), until "/.." is the mount "/" is. Each stops
 * propagating first, so that the unmounts of its tree never reach the host.
 */
export function detachStackedRoots(): void {
  for (let i = 0; !sameMount('/', '/..'); i++) {
    if (i === MAX_STACKED) throw new Error('a mount stacked over the container\'s root cannot be detached: "/.." is not "/"');
    sys.mount(null, '/..', null, C.MS_SLAVE | C.MS_REC, null);
    sys.umount2('/..', C.MNT_DETACH);
  }
}

export function sameMount(a: string, b: string): boolean {
  const x = sys.statx(C.AT_FDCWD, a, 0);
  const y = sys.statx(C.AT_FDCWD, b, 0);
  if (x.mntId !== undefined && y.mntId !== undefined) return x.mntId === y.mntId;
  return x.devMajor === y.devMajor && x.devMinor === y.devMinor && x.ino === y.ino; // kernels before 5.8
}

/**
 * After pivot_root: the root's propagation, as the spec asks (runc 1.1.5
 * leaves "/" private when rootfsPropagation is shared: the rootfs bind was
 * made from a private mount). Mounts already shared keep their peers.
 */
export function finishRootfs(spec: Spec): void {
  const propagation = spec.linux?.rootfsPropagation;
  if (propagation && PROPAGATION[propagation] !== undefined) {
    sys.mount(null, '/', null, PROPAGATION[propagation], null);
  }
}

/** The read-only tmpfs and /dev mounts (readonlyLater) made read-only, their fds closed; after the terminal. */
export function finishReadonlyMounts(prepared: PreparedRoot): void {
  for (const fd of prepared.readonlyLater.splice(0)) {
    try {
      setMountAttrs(fd, C.MS_RDONLY, 0);
    } finally {
      sys.close(fd);
    }
  }
}

/** Remounts "/" read-only when root.readonly; last, after everything that writes into the rootfs. */
export function makeRootReadonly(spec: Spec): void {
  if (!spec.root?.readonly) return;
  const fd = sys.open('/', C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
  try {
    setMountAttrs(fd, C.MS_RDONLY, 0);
  } finally {
    sys.close(fd);
  }
}
