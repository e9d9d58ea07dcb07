// Mounting config.json's mounts[] into the root filesystem (stage 2, before
// pivot_root). Every destination is resolved inside the rootfs by fd
// (inroot.ts) and every mount goes onto that fd, never onto a path string
// that a container sharing a volume could swap for a symlink between the
// check and the mount (CVE-2021-30465 class). Bind mounts are detached copies
// (open_tree) whose attributes are set before they are attached (move_mount);
// other filesystems are mounted through /proc/self/fd/N of the target (the
// host's /proc: this runs before pivot_root) and then opened again to check
// that the new mount is where it was meant to be.
// Runs in the forked child: synchronous only.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { SyscallError } from '../../linux/errors';
import { type Mount } from '../../bundle/spec-types';
import { parseMountOptions, type ParsedMountOptions } from '../../bundle/mount-options';
import { openInRoot, mkdirAllInRoot, createFileInRoot, fdPath, fdLink } from '../../linux/inroot';
import { copyTree } from './copytree';
import type { CgroupView } from '../../cgroups/manager';
import type { MountSource } from './bind-sources';

export type { CgroupView };

/** The rootfs mounts go into: its fd (the resolution root) and its host path (for the /proc rules and messages). */
export interface RootRef {
  fd: number;
  path: string;
}

const ATTR_OF_FLAG: [number, number][] = [
  [C.MS_RDONLY, C.MOUNT_ATTR_RDONLY],
  [C.MS_NOSUID, C.MOUNT_ATTR_NOSUID],
  [C.MS_NODEV, C.MOUNT_ATTR_NODEV],
  [C.MS_NOEXEC, C.MOUNT_ATTR_NOEXEC],
  [C.MS_NODIRATIME, C.MOUNT_ATTR_NODIRATIME],
  [C.MS_NOSYMFOLLOW, C.MOUNT_ATTR_NOSYMFOLLOW],
];

const isNoSys = (e: unknown) => e instanceof SyscallError && e.code === 'ENOSYS';

/**
 * Changes per-mount attributes of the mount an fd refers to without touching
 * the others; `recursive` for the whole tree below it.
 */
export function setMountAttrs(fd: number, flags: number, clear: number, recursive = false): void {
  let set = 0;
  let clr = 0;
  for (const [ms, attr] of ATTR_OF_FLAG) {
    if (flags & ms) set |= attr;
    if (clear & ms) clr |= attr;
  }
  if (flags & C.MS_NOATIME) { set |= C.MOUNT_ATTR_NOATIME; clr |= C.MOUNT_ATTR__ATIME; }
  else if (flags & C.MS_STRICTATIME) { set |= C.MOUNT_ATTR_STRICTATIME; clr |= C.MOUNT_ATTR__ATIME; }
  else if (flags & C.MS_RELATIME) { clr |= C.MOUNT_ATTR__ATIME; }
  if (set === 0 && clr === 0) return;
  try {
    sys.mountSetattrFd(fd, recursive, set, clr);
  } catch (e) {
    if (!isNoSys(e) || recursive) throw e;
    // Kernels before 5.12: a bind remount sets the same flags (and clears the unnamed ones).
    sys.mount(null, fdLink(fd), null, C.MS_BIND | C.MS_REMOUNT | (flags & ~C.MS_REC & ~C.MS_BIND), null);
  }
}

/** Sets propagation (MS_SHARED... with MS_REC for the whole tree) on the mount an fd refers to. */
function setPropagation(fd: number, prop: number): void {
  try {
    sys.mountSetattrFd(fd, (prop & C.MS_REC) !== 0, 0, 0, prop & ~C.MS_REC);
  } catch (e) {
    if (!isNoSys(e)) throw e;
    sys.mount(null, fdLink(fd), null, prop, null);
  }
}

/**
 * Bind-mounts the file or directory the `source` fd refers to onto the
 * `target` fd: a detached copy of its mount (tree, with `recursive`) whose
 * attributes are set before it is attached, so the mount is never visible
 * with the wrong ones (and the propagation, MS_PRIVATE... with MS_REC for
 * the tree, when given). Returns an O_PATH fd of the new mount. `reopen`
 * finds the new mount on kernels without open_tree.
 */
export function bindOnto(target: number, source: number, recursive: boolean, flags: number, clear: number, reopen: () => number, recursiveAttrs = false, propagation = 0): number {
  let tree: number;
  try {
    tree = sys.openTree(source, '', C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC | C.AT_EMPTY_PATH | (recursive ? C.AT_RECURSIVE : 0));
  } catch (e) {
    if (!isNoSys(e)) throw e;
    // Kernels before 5.2: mount(2) through the fds' magic links, then find the new mount
    sys.mount(fdLink(source), fdLink(target), null, C.MS_BIND | (recursive ? C.MS_REC : 0), null);
    const mounted = reopen();
    if (propagation) setPropagation(mounted, propagation);
    setMountAttrs(mounted, flags, clear, recursiveAttrs);
    return mounted;
  }
  try {
    return attachTree(target, tree, flags, clear, recursiveAttrs, propagation);
  } catch (e) {
    sys.close(tree);
    throw e;
  }
}

/**
 * Attaches a detached mount (tree) onto the `target` fd with its attributes
 * (and propagation, when given) set first; returns `tree`, now the new mount's fd. The caller closes it,
 * also when this throws.
 */
export function attachTree(target: number, tree: number, flags: number, clear: number, recursiveAttrs = false, propagation = 0): number {
  // before 5.12 (no mount_setattr): propagation and attributes are set once attached, through mount(2)
  let propagationSet = !propagation;
  if (propagation) {
    try {
      sys.mountSetattrFd(tree, (propagation & C.MS_REC) !== 0, 0, 0, propagation & ~C.MS_REC);
      propagationSet = true;
    } catch (e) {
      if (!isNoSys(e)) throw e;
    }
  }
  let attrsSet = true;
  try {
    setMountAttrs(tree, flags, clear, recursiveAttrs);
  } catch (e) {
    if (!isNoSys(e)) throw e;
    attrsSet = false; // before 5.12: set once attached, by remount
  }
  sys.moveMount(tree, '', target, '', C.MOVE_MOUNT_F_EMPTY_PATH | C.MOVE_MOUNT_T_EMPTY_PATH);
  if (!propagationSet) setPropagation(tree, propagation);
  if (!attrsSet) setMountAttrs(tree, flags, clear, recursiveAttrs);
  return tree;
}

/** Runs `fn` with an O_PATH fd of a host path (a bind source from the caller: trusted). */
export function withHostPath<T>(file: string, fn: (fd: number) => T): T {
  const fd = sys.open(file, C.O_PATH | C.O_CLOEXEC);
  try {
    return fn(fd);
  } finally {
    sys.close(fd);
  }
}

/**
 * After mounting onto `target`, the new mount at `dest`: resolved again and
 * checked to be a mount root other than the one `target` is on, at the same
 * place (a container that renamed the directory meanwhile makes this fail).
 */
export function reopenMounted(root: RootRef, dest: string, target: number): number {
  const fd = openInRoot(root.fd, dest, C.O_PATH | C.O_NOFOLLOW);
  try {
    const now = sys.fstatx(fd);
    const under = sys.fstatx(target);
    const moved = fdPath(fd) !== fdPath(target);
    const notMounted = now.mountRoot === false || (now.mntId !== undefined && now.mntId === under.mntId);
    if (moved || notMounted) throw new Error(`mountpoint ${dest} was moved while re-opening`);
    return fd;
  } catch (e) {
    sys.close(fd);
    throw e;
  }
}

/** Mounts a filesystem (not a bind) onto the `target` fd; returns an O_PATH fd of the new mount. */
function mountFs(root: RootRef, dest: string, target: number, source: string, type: string | null, flags: number, data: string | null): number {
  sys.mount(source, fdLink(target), type, flags, data);
  return reopenMounted(root, dest, target);
}

// runc's rule (checkProcMount): nothing but procfs over /proc, and below it
// only the files lxcfs emulates.
const PROC_FILES_ALLOWED = new Set([
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/proc/loadavg', '/proc/slabinfo', '/proc/sys/kernel/ns_last_pid', '/proc/sys/crypto/fips_enabled',
]);

/** The path the container will see for an fd inside the rootfs. */
export function pathInRoot(root: RootRef, fd: number): string {
  const p = fdPath(fd);
  if (p === root.path) return '/';
  if (!p.startsWith(root.path + '/')) throw new Error(`mountpoint ${p} is outside of rootfs ${root.path}`);
  return p.slice(root.path.length);
}

/**
 * The rule applies to the destination as written and as resolved (a symlink
 * in the image must not lead a mount into /proc); the message names the
 * destination as the config gives it.
 */
function checkProcMount(dest: string, inRoot: string, isProcfs: () => boolean): void {
  const shown = inRoot === dest ? `"${dest}"` : `"${dest}" (${inRoot} in the rootfs)`;
  if (inRoot === '/proc') {
    if (!isProcfs()) throw new Error(`${shown} cannot be mounted because it is not of type proc`);
  } else if (inRoot.startsWith('/proc/') && !PROC_FILES_ALLOWED.has(inRoot)) {
    throw new Error(`${shown} cannot be mounted because it is inside /proc`);
  }
}

/** proc and sysfs go only onto a real directory: never through a symlink or onto a file (CVE-2019-19921, CVE-2023-27561). */
function checkOrdinaryDir(root: RootRef, dest: string, type: string): void {
  let fd: number;
  try {
    fd = openInRoot(root.fd, dest, C.O_PATH | C.O_NOFOLLOW);
  } catch (e) {
    if ((e as SyscallError).code === 'ENOENT') return; // made as a directory next
    throw e;
  }
  const kind = sys.tryFileType(fd);
  sys.close(fd);
  if (kind !== C.S_IFDIR) throw new Error(`filesystem "${type}" must be mounted on ordinary directory`);
}

const FS_MAGIC: Record<string, number> = { proc: C.PROC_SUPER_MAGIC, sysfs: C.SYSFS_MAGIC };

/** A mount of one filesystem type is that type (procfs at /proc before anything is written there). */
function checkFsType(fd: number, type: string | undefined): void {
  const want = type && FS_MAGIC[type];
  if (want && sys.fstatfsType(fd) !== want) throw new Error(`the new ${type} mount is not of type ${type}`);
}

function mountCgroup(root: RootRef, dest: string, target: number, o: ParsedMountOptions, views: CgroupView[], v2: boolean): number {
  const reopen = () => reopenMounted(root, dest, target);
  if (v2) {
    const view = views[0];
    if (!view) throw new Error('no cgroup v2 directory for the container');
    return withHostPath(view.hostDir, (src) => bindOnto(target, src, true, o.flags, o.clearFlags, reopen));
  }
  // cgroup v1: a tmpfs holding one bind mount of the container's cgroup per hierarchy
  const tmpfs = mountFs(root, dest, target, 'tmpfs', 'tmpfs', o.flags & ~C.MS_RDONLY, 'mode=755');
  for (const view of views) {
    const name = view.name;
    const err = sys.tryMkdirat(tmpfs, name, 0o755);
    if (err < 0 && err !== -17 /* EEXIST */) sys.throwErrno('mkdirat', [dest, name], -err);
    const sub = sys.openat(tmpfs, name, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC);
    try {
      const subDest = path.posix.join(dest, name);
      const attrs = o.flags | C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC;
      sys.close(withHostPath(view.hostDir, (src) => bindOnto(sub, src, true, attrs, o.clearFlags, () => reopenMounted(root, subDest, sub))));
    } finally {
      sys.close(sub);
    }
  }
  if (o.flags & C.MS_RDONLY) setMountAttrs(tmpfs, C.MS_RDONLY, 0);
  return tmpfs;
}

/**
 * tmpcopyup: the new tmpfs starts with what the image had at the
 * destination. It is made at a private staging point on the host's /tmp (in
 * this mount namespace only), filled from the destination by fd, then moved
 * over it.
 */
function mountTmpfsCopyUp(root: RootRef, dest: string, target: number, m: Mount, o: ParsedMountOptions): number {
  const staging = fs.mkdtempSync('/tmp/.tsrunc-copyup-');
  try {
    sys.mount(m.source ?? 'tmpfs', staging, 'tmpfs', o.flags & ~C.MS_REMOUNT & ~C.MS_RDONLY, o.data.length ? o.data.join(',') : null);
    const stagingFd = sys.open(staging, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC);
    try {
      copyTree(target, stagingFd);
      const st = sys.fstatx(target);
      sys.fchmodFd(stagingFd, st.mode & 0o7777);
      sys.fchownat(stagingFd, '', st.uid, st.gid, C.AT_EMPTY_PATH);
    } finally {
      sys.close(stagingFd);
    }
    sys.mount(staging, fdLink(target), null, C.MS_MOVE, null);
  } finally {
    fs.rmdirSync(staging);
  }
  const mounted = reopenMounted(root, dest, target);
  if (o.flags & C.MS_RDONLY) setMountAttrs(mounted, C.MS_RDONLY, 0);
  return mounted;
}

/**
 * A read-only tmpfs, or a read-only filesystem on /dev, is mounted writable
 * and made read-only only once everything below it exists (/dev/pts,
 * /dev/shm, device nodes, symlinks, /dev/console, a tmpfs's mode): runc's
 * mountPropagate and finalizeRootfs.
 */
export function readonlyLater(m: Mount): boolean {
  if (m.type !== 'tmpfs' && path.posix.normalize(`/${m.destination}`).replace(/\/+$/, '') !== '/dev') return false;
  const o = parseMountOptions(m.options, m.type);
  return !o.bind && (o.flags & C.MS_RDONLY) !== 0;
}

/**
 * Mounts one entry of mounts[] below the root; returns an O_PATH fd of the
 * new mount (the caller closes it). `source`: what the host's root made for
 * a bind (bind-sources.ts), an idmapped tree is attached as it is.
 */
export function mountOne(root: RootRef, bundleDir: string, m: Mount, cgroups: CgroupView[], cgroupV2: boolean, source?: MountSource): number {
  if (source?.kind === 'error') throw new Error(source.message);
  const sourceFd = source?.fd;
  const o = parseMountOptions(m.options, m.type);
  if (readonlyLater(m)) o.flags &= ~C.MS_RDONLY;
  const dest = m.destination;
  // as written first: a destination inside /proc is refused before anything is made there
  const written = path.posix.normalize(`/${dest}`);
  checkProcMount(dest, written, () => m.type === 'proc' || Boolean(o.bind));
  if (m.type === 'proc' || m.type === 'sysfs') checkOrdinaryDir(root, dest, m.type);
  let bindSource: string | undefined;
  let bindsDir = true;
  if (o.bind) {
    bindSource = path.resolve(bundleDir, m.source ?? '');
    try {
      bindsDir = sourceFd !== undefined ? sys.tryFileType(sourceFd) === C.S_IFDIR : fs.statSync(bindSource).isDirectory();
    } catch {
      throw new Error(`bind mount source ${bindSource} does not exist`); // before the mount point is made
    }
  }
  const target = bindsDir ? mkdirAllInRoot(root.fd, dest) : createFileInRoot(root.fd, dest);
  try {
    const inRoot = pathInRoot(root, target);
    const reopen = () => reopenMounted(root, dest, target);
    let mounted: number;
    if (bindSource !== undefined) {
      const withSource = <T>(fn: (fd: number) => T): T => (sourceFd !== undefined ? fn(sourceFd) : withHostPath(bindSource as string, fn));
      mounted = withSource((src) => {
        // over /proc only a procfs, checked on the very file that is mounted
        checkProcMount(dest, inRoot, () => sys.fstatfsType(src) === C.PROC_SUPER_MAGIC);
        const attrs = o.flags & ~C.MS_BIND & ~C.MS_REC;
        if (source?.kind === 'tree') return attachTree(target, src, attrs, o.clearFlags);
        return bindOnto(target, src, (o.flags & C.MS_REC) !== 0, attrs, o.clearFlags, reopen);
      });
    } else {
      checkProcMount(dest, inRoot, () => m.type === 'proc');
      if (m.type === 'cgroup' || m.type === 'cgroup2') mounted = mountCgroup(root, dest, target, o, cgroups, cgroupV2);
      else if (o.tmpcopyup && m.type === 'tmpfs') mounted = mountTmpfsCopyUp(root, dest, target, m, o);
      else mounted = mountFs(root, dest, target, m.source ?? m.type ?? 'none', m.type ?? null, o.flags & ~C.MS_REMOUNT, o.data.length ? o.data.join(',') : null);
      checkFsType(mounted, m.type);
    }
    try {
      for (const prop of o.propagation) setPropagation(mounted, prop);
      if (o.recursiveSet || o.recursiveClear) sys.mountSetattrFd(mounted, true, o.recursiveSet, o.recursiveClear);
    } catch (e) {
      sys.close(mounted);
      throw e;
    }
    return mounted;
  } finally {
    sys.close(target);
  }
}
