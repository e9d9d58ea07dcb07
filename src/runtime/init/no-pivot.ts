// --no-pivot (stage 2): the rootfs is moved over "/" and chrooted into instead
// of pivot_root. The host's mounts then stay in the container's mount
// namespace. No path reaches them (the rootfs covers the old root), but the
// kernel still counts them: a process that makes a user namespace may mount a
// fresh proc or sysfs, without the masked paths and with /proc/sys and
// /proc/sysrq-trigger writable, wherever its mount namespace holds one full
// mount of that filesystem (fs/namespace.c, mount_too_revealing). As runc's
// msMoveRoot, every full proc and sysfs mount outside the rootfs is unmounted
// first, or covered with a tmpfs where it cannot be (a mount a user namespace
// locked); before that, every copy of the host's root stacked over "/" (a host
// whose root fs is mounted twice), whose proc and sysfs no path reaches.
// Mounts are acted on through an fd checked to be the mount mountinfo names,
// and each stops propagating first, as does its parent: the unmount must not
// reach the host's copies (rootfsPropagation "shared" leaves them peers).
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { SyscallError } from '../../linux/errors';
import { type RootRef } from './mounts';
import { detachStackedRoots } from './rootfs';

interface MountEntry {
  id: number;
  parent: number;
  devMajor: number;
  devMinor: number;
  /** the directory of the filesystem mounted there ("/": the whole filesystem) */
  root: string;
  mountpoint: string;
  fstype: string;
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** /proc/self/mountinfo's lines (proc(5)). */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (f.length < 10 || sep < 6) continue;
    const [major, minor] = f[2].split(':').map(Number);
    out.push({ id: Number(f[0]), parent: Number(f[1]), devMajor: major, devMinor: minor, root: unescape(f[3]), mountpoint: unescape(f[4]), fstype: f[sep + 1] });
  }
  return out;
}

/** Moves the prepared rootfs over "/" and chroots into it, the host's proc and sysfs gone from the namespace first. */
export function moveRoot(root: RootRef): void {
  sys.mount(null, '/', null, C.MS_SLAVE, null); // the parent of the lowest copy stacked over "/"
  detachStackedRoots();
  hideHostPseudoFilesystems(root);
  sys.fchdir(root.fd);
  // "." (the rootfs's own mount, by the fd) rather than its path on the host
  sys.mount('.', '/', null, C.MS_MOVE, null);
  sys.chroot('.');
  process.chdir('/');
}

/**
 * The full proc and sysfs mounts outside the rootfs, unmounted (or covered).
 * One that no path reaches, or not as itself (something mounted over it),
 * fails the container: the kernel would let the container mount a fresh one.
 */
function hideHostPseudoFilesystems(root: RootRef): void {
  const entries = parseMountinfo(fs.readFileSync('/proc/thread-self/mountinfo', 'utf8'));
  const byId = new Map(entries.map((e) => [e.id, e]));
  const rootId = rootfsMountId(root, entries);
  const ancestors = (e: MountEntry): number[] => {
    const out: number[] = [];
    for (let p = byId.get(e.parent); p && !out.includes(p.id); p = byId.get(p.parent)) out.push(p.id);
    return out;
  };
  let pending = entries.filter((e) => (e.fstype === 'proc' || e.fstype === 'sysfs') && e.root === '/'
    && e.id !== rootId && !ancestors(e).includes(rootId));
  const detached = new Set<number>();
  // Passes until none is left: one mount over another (two procs on /proc)
  // hides the lower until the upper is gone.
  while (pending.length) {
    const left: MountEntry[] = [];
    for (const e of pending) {
      if (ancestors(e).some((id) => detached.has(id))) continue; // gone with its parent
      const fd = openMount(e);
      if (fd === undefined) {
        left.push(e);
        continue;
      }
      try {
        const parent = byId.get(e.parent);
        const parentFd = parent && !detached.has(parent.id) ? openMount(parent) : undefined;
        if (parentFd !== undefined) {
          sys.fchdir(parentFd);
          sys.close(parentFd);
          sys.mount(null, '.', null, C.MS_SLAVE, null);
        }
        sys.fchdir(fd);
        sys.mount(null, '.', null, C.MS_SLAVE | C.MS_REC, null);
        if (unmountOrCover(e)) detached.add(e.id);
      } finally {
        sys.close(fd);
      }
    }
    if (left.length === pending.length) {
      const e = left[0];
      throw new Error(`--no-pivot: the host's ${e.fstype} at ${e.mountpoint} (mount ${e.id}) cannot be reached to unmount it, and a container could mount a fresh ${e.fstype} while it is there`);
    }
    pending = left;
  }
}

/** The mount id of the rootfs (the bind of itself that setupRootfs made). */
function rootfsMountId(root: RootRef, entries: MountEntry[]): number {
  const id = sys.fstatx(root.fd).mntId;
  if (id !== undefined) return Number(id);
  const at = entries.filter((e) => e.mountpoint === root.path); // kernels before 5.8: the topmost there
  if (!at.length) throw new Error(`--no-pivot: the rootfs ${root.path} is not in mountinfo`);
  return at[at.length - 1].id;
}

/** An O_PATH fd of the root of mount `e` through its mount point, or undefined where the path leads elsewhere. */
function openMount(e: MountEntry): number | undefined {
  const fd = sys.tryOpenat(C.AT_FDCWD, e.mountpoint, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC);
  if (fd < 0) return undefined;
  const st = sys.fstatx(fd);
  const same = st.mntId !== undefined ? Number(st.mntId) === e.id : st.devMajor === e.devMajor && st.devMinor === e.devMinor;
  if (same && st.mountRoot !== false) return fd;
  sys.close(fd);
  return undefined;
}

/**
 * Unmounts the mount the cwd is the root of (true); where a user namespace
 * locked it, covers it with an empty read-only tmpfs (false), which the
 * kernel counts as hiding it from a user namespace made below this one.
 */
function unmountOrCover(e: MountEntry): boolean {
  try {
    sys.umount2('.', C.MNT_DETACH);
    return true;
  } catch (err) {
    if (!(err instanceof SyscallError) || (err.code !== 'EINVAL' && err.code !== 'EPERM')) {
      throw new Error(`--no-pivot: unmounting the host's ${e.fstype} at ${e.mountpoint}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    sys.mount('tmpfs', '.', 'tmpfs', C.MS_RDONLY | C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC, 'size=0');
    return false;
  }
}
