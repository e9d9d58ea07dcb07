// Mounting config.json's mounts[] into the root filesystem (stage 2, before
// pivot_root). Runs in the forked child: synchronous only.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { SyscallError } from '../../linux/errors';
import { Mount } from '../../bundle/spec-types';
import { parseMountOptions, ParsedMountOptions } from '../../bundle/mount-options';
import { secureJoin } from './securejoin';

/** A cgroup hierarchy to show at a "cgroup" mount: name under the mount point, host directory of the container's cgroup. */
export interface CgroupView {
  name: string;
  hostDir: string;
}

const ATTR_OF_FLAG: [number, number][] = [
  [C.MS_RDONLY, C.MOUNT_ATTR_RDONLY],
  [C.MS_NOSUID, C.MOUNT_ATTR_NOSUID],
  [C.MS_NODEV, C.MOUNT_ATTR_NODEV],
  [C.MS_NOEXEC, C.MOUNT_ATTR_NOEXEC],
  [C.MS_NODIRATIME, C.MOUNT_ATTR_NODIRATIME],
  [C.MS_NOSYMFOLLOW, C.MOUNT_ATTR_NOSYMFOLLOW],
];

/** Changes per-mount attributes of an existing mount without touching the others. */
export function setMountAttrs(dest: string, flags: number, clear: number, recursive = false): void {
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
    sys.mountSetattr(dest, recursive, set, clr);
  } catch (e) {
    if (!(e instanceof SyscallError) || e.code !== 'ENOSYS' || recursive) throw e;
    // Kernels before 5.12: a bind remount sets the same flags (and clears the unnamed ones).
    sys.mount(null, dest, null, C.MS_BIND | C.MS_REMOUNT | (flags & ~C.MS_REC & ~C.MS_BIND), null);
  }
}

/** Creates the mount point: a directory, or an empty file when mounting a file. */
function createMountpoint(dest: string, isDir: boolean): void {
  if (isDir) {
    fs.mkdirSync(dest, { recursive: true, mode: 0o755 });
    return;
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
  if (!fs.existsSync(dest)) fs.closeSync(fs.openSync(dest, 'a', 0o644));
}

function mountBind(source: string, dest: string, o: ParsedMountOptions): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new Error(`bind mount source ${source} does not exist`);
  }
  createMountpoint(dest, st.isDirectory());
  sys.mount(source, dest, null, C.MS_BIND | (o.flags & C.MS_REC), null);
  setMountAttrs(dest, o.flags & ~C.MS_BIND & ~C.MS_REC, o.clearFlags);
}

function mountCgroup(dest: string, o: ParsedMountOptions, views: CgroupView[], v2: boolean): void {
  createMountpoint(dest, true);
  const flags = o.flags & ~C.MS_RDONLY;
  if (v2) {
    const view = views[0];
    if (!view) throw new Error('no cgroup v2 directory for the container');
    sys.mount(view.hostDir, dest, null, C.MS_BIND | C.MS_REC, null);
    setMountAttrs(dest, o.flags, o.clearFlags);
    return;
  }
  // cgroup v1: a tmpfs holding one bind mount of the container's cgroup per hierarchy
  sys.mount('tmpfs', dest, 'tmpfs', flags, 'mode=755');
  for (const view of views) {
    const sub = path.join(dest, view.name);
    fs.mkdirSync(sub, { recursive: true, mode: 0o755 });
    sys.mount(view.hostDir, sub, null, C.MS_BIND | C.MS_REC, null);
    setMountAttrs(sub, o.flags | C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC, o.clearFlags);
  }
  if (o.flags & C.MS_RDONLY) setMountAttrs(dest, C.MS_RDONLY, 0);
}

/**
 * tmpcopyup: the new tmpfs starts with what the image had at the destination.
 * It is filled at a staging point first, then moved over the destination.
 */
function mountTmpfsCopyUp(dest: string, m: Mount, o: ParsedMountOptions): void {
  createMountpoint(dest, true);
  const staging = fs.mkdtempSync('/tmp/.tsrunc-copyup-');
  try {
    sys.mount(m.source ?? 'tmpfs', staging, 'tmpfs', o.flags & ~C.MS_REMOUNT & ~C.MS_RDONLY, o.data.length ? o.data.join(',') : null);
    const st = fs.statSync(dest);
    for (const entry of fs.readdirSync(dest)) {
      fs.cpSync(path.join(dest, entry), path.join(staging, entry), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    }
    fs.chmodSync(staging, st.mode & 0o7777);
    fs.chownSync(staging, st.uid, st.gid);
    sys.mount(staging, dest, null, C.MS_MOVE, null);
    if (o.flags & C.MS_RDONLY) setMountAttrs(dest, C.MS_RDONLY, 0);
  } finally {
    fs.rmdirSync(staging);
  }
}

/** Mounts one entry of mounts[] below `rootfs`. */
export function mountOne(rootfs: string, bundleDir: string, m: Mount, cgroups: CgroupView[], cgroupV2: boolean): void {
  const o = parseMountOptions(m.options, m.type);
  const dest = secureJoin(rootfs, m.destination);
  if (o.bind) {
    const source = path.resolve(bundleDir, m.source ?? '');
    mountBind(source, dest, o);
  } else if (m.type === 'cgroup' || m.type === 'cgroup2') {
    mountCgroup(dest, o, cgroups, cgroupV2);
  } else if (o.tmpcopyup && m.type === 'tmpfs') {
    mountTmpfsCopyUp(dest, m, o);
  } else {
    createMountpoint(dest, true);
    const flags = o.flags & ~C.MS_REMOUNT;
    sys.mount(m.source ?? m.type ?? 'none', dest, m.type ?? null, flags, o.data.length ? o.data.join(',') : null);
  }
  for (const prop of o.propagation) sys.mount(null, dest, null, prop, null);
  if (o.recursiveSet || o.recursiveClear) sys.mountSetattr(dest, true, o.recursiveSet, o.recursiveClear);
}
