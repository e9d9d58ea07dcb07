// The container's mounts CRIU must not dump or restore itself (runc's
// addCriuDumpMount / addCriuRestoreMount): bind mounts, the cgroup mount
// (tsrunc bind-mounts the container's cgroup directories), device nodes and
// the /dev/null over masked files are "external": named by a key at dump, and
// given a host source at restore. A restore into a new cgroup gets that
// cgroup at /sys/fs/cgroup this way.
import * as path from 'path';
import * as sys from '../linux/sys';
import * as C from '../linux/constants';
import { openInRoot, fdPath } from '../linux/inroot';
import { parseMountOptions } from '../bundle/mount-options';
import { type Spec, type Mount } from '../bundle/spec-types';
import { type CgroupView } from '../cgroups/manager';
import { type ExtMountMap } from '../criu/rpc';

const isCgroup = (m: Mount) => m.type === 'cgroup' || m.type === 'cgroup2';
export const isBind = (m: Mount) => Boolean(parseMountOptions(m.options, m.type).bind);

/**
 * Where `dest` is in the container: resolved in the rootfs (symlinks inside
 * it followed, never out of it), or as written, cleaned, when it is not there
 * (below another mount).
 */
export function mountKey(rootFd: number, dest: string): string {
  const lexical = path.posix.normalize(`/${dest}`).replace(/(.)\/+$/, '$1');
  let fd: number;
  try {
    fd = openInRoot(rootFd, dest, C.O_PATH);
  } catch {
    return lexical;
  }
  try {
    const root = fdPath(rootFd);
    const p = fdPath(fd);
    if (p === root) return '/';
    return p.startsWith(root + '/') ? p.slice(root.length) : lexical;
  } finally {
    sys.close(fd);
  }
}

/** The bind mounts of the cgroup mount: the whole mount on v2, one per hierarchy below it on v1. */
function cgroupBinds(m: Mount, views: CgroupView[], v2: boolean): { dest: string; source: string }[] {
  if (v2) return views[0] ? [{ dest: m.destination, source: views[0].hostDir }] : [];
  return views.map((v) => ({ dest: path.posix.join(m.destination, v.name), source: v.hostDir }));
}

/** The external mounts of a dump: key = value = where each is in the container. */
export function dumpExternalMounts(spec: Spec, rootFd: number, views: CgroupView[], v2: boolean): ExtMountMap[] {
  const out: ExtMountMap[] = [];
  const add = (dest: string) => {
    const key = mountKey(rootFd, dest);
    out.push({ key, val: key });
  };
  for (const m of spec.mounts ?? []) {
    if (isCgroup(m)) for (const b of cgroupBinds(m, views, v2)) add(b.dest);
    else if (isBind(m)) add(m.destination);
  }
  for (const d of spec.linux?.devices ?? []) add(d.path);
  return out;
}

/** The external mounts of a restore: each dump key with the host source to mount there now. */
export function restoreExternalMounts(spec: Spec, bundleDir: string, rootFd: number, views: CgroupView[], v2: boolean): ExtMountMap[] {
  const out: ExtMountMap[] = [];
  const add = (dest: string, source: string) => out.push({ key: mountKey(rootFd, dest), val: source });
  for (const m of spec.mounts ?? []) {
    if (isCgroup(m)) for (const b of cgroupBinds(m, views, v2)) add(b.dest, b.source);
    else if (isBind(m)) add(m.destination, path.resolve(bundleDir, m.source ?? ''));
  }
  // the masked files' mounts were dumped as "/dev/null" (maskedFileKeys)
  if (spec.linux?.maskedPaths?.length) out.push({ key: '/dev/null', val: '/dev/null' });
  for (const d of spec.linux?.devices ?? []) add(d.path, d.path);
  return out;
}

/**
 * The masked paths that are files (a /dev/null mounted over each), as the
 * running container has them: seen from its root (`/proc/<pid>/root`),
 * resolved inside it. Dumped as external mounts named "/dev/null".
 */
export function maskedFileMounts(spec: Spec, initPid: number): ExtMountMap[] {
  const out: ExtMountMap[] = [];
  const masked = spec.linux?.maskedPaths ?? [];
  if (!masked.length) return out;
  const root = sys.open(`/proc/${initPid}/root`, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
  try {
    for (const p of masked) {
      let fd: number;
      try {
        fd = openInRoot(root, p, C.O_PATH);
      } catch {
        continue; // not in this container
      }
      try {
        if (sys.tryFileType(fd) !== C.S_IFDIR) out.push({ key: p, val: '/dev/null' });
      } finally {
        sys.close(fd);
      }
    }
  } finally {
    sys.close(root);
  }
  return out;
}
