// /dev inside the container: the default device nodes every container gets,
// linux.devices, and the standard symlinks.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { type Device } from '../../bundle/spec-types';
import { mkdirAllInRoot, createFileInRoot } from '../../linux/inroot';
import { type RootRef, bindOnto, reopenMounted, withHostPath } from './mounts';

/** Devices every container has (runtime-spec config-linux.md "Default Devices"). */
export const DEFAULT_DEVICES: Device[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

/** The default devices merged with linux.devices (a configured path wins). */
export function devicesToCreate(configured: Device[] | undefined): Device[] {
  const list = configured ?? [];
  const given = new Set(list.map((d) => path.normalize(d.path)));
  return [...DEFAULT_DEVICES.filter((d) => !given.has(d.path)), ...list];
}

function typeBits(type: string): number {
  switch (type) {
    case 'c':
    case 'u':
      return C.S_IFCHR;
    case 'b':
      return C.S_IFBLK;
    case 'p':
      return C.S_IFIFO;
    default:
      throw new Error(`device type "${type}" is not one of c, b, u, p`);
  }
}

/** The directory fd and name a device path lands in, the directory made (inside the root) if missing. */
function parentOf(rootFd: number, devPath: string): { dir: number; name: string } {
  const name = path.posix.basename(devPath);
  if (!name || name === '.' || name === '..') throw new Error(`linux.devices: "${devPath}" is not a file path`);
  return { dir: mkdirAllInRoot(rootFd, path.posix.dirname(devPath)), name };
}

export function createDevice(rootFd: number, d: Device): void {
  const { dir, name } = parentOf(rootFd, d.path);
  try {
    const mode = (d.fileMode ?? 0o666) & 0o7777;
    const made = sys.tryMknodat(dir, name, typeBits(d.type) | mode, d.major ?? 0, d.minor ?? 0);
    if (made === -17 /* EEXIST */) {
      // runtime-spec: an existing file that is not the requested device is an error
      const st = sys.statx(dir, name, C.AT_SYMLINK_NOFOLLOW);
      const same = (st.mode & C.S_IFMT) === typeBits(d.type) &&
        (d.type === 'p' || (st.rdevMajor === (d.major ?? 0) && st.rdevMinor === (d.minor ?? 0)));
      if (!same) throw new Error(`linux.devices: ${d.path} already exists in the rootfs and is not the requested device`);
      const fd = sys.openat(dir, name, C.O_PATH | C.O_NOFOLLOW | C.O_CLOEXEC);
      try {
        sys.fchmodFd(fd, mode);
      } finally {
        sys.close(fd);
      }
    } else if (made < 0) {
      sys.throwErrno('mknodat', [d.path, '0' + mode.toString(8), `${d.major ?? 0}:${d.minor ?? 0}`], -made);
    }
    sys.fchownat(dir, name, d.uid ?? 0, d.gid ?? 0, C.AT_SYMLINK_NOFOLLOW);
  } finally {
    sys.close(dir);
  }
}

/** Bind-mounts the host's node at the same path (for user namespaces, where mknod is refused). */
export function bindDevice(root: RootRef, d: Device): void {
  let target: number;
  try {
    target = createFileInRoot(root.fd, d.path);
  } catch (e) {
    throw new Error(`linux.devices: cannot make a mount point for ${d.path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    sys.close(withHostPath(d.path, (src) => bindOnto(target, src, false, 0, 0, () => reopenMounted(root, d.path, target))));
  } catch (e) {
    throw new Error(`linux.devices: cannot bind-mount ${d.path} from the host in a user namespace: ${(e as Error).message}`, { cause: e });
  } finally {
    sys.close(target);
  }
}

/** /dev/fd, /dev/std{in,out,err}, /dev/ptmx (to the devpts instance) and /dev/core, made in the rootfs's /dev by fd. */
export function createDevSymlinks(rootFd: number): void {
  const links: [string, string][] = [
    ['/proc/self/fd', 'fd'],
    ['/proc/self/fd/0', 'stdin'],
    ['/proc/self/fd/1', 'stdout'],
    ['/proc/self/fd/2', 'stderr'],
    ['pts/ptmx', 'ptmx'],
  ];
  if (fs.existsSync('/proc/kcore')) links.push(['/proc/kcore', 'core']);
  const dev = mkdirAllInRoot(rootFd, '/dev');
  try {
    for (const [target, name] of links) {
      // what is there goes (a file or a link); a directory or a mount (a bind-mounted /dev) keeps what it has
      const gone = sys.tryUnlinkat(dev, name);
      if (gone < 0 && gone !== -2 /* ENOENT */ && gone !== -21 /* EISDIR */ && gone !== -16 /* EBUSY */) sys.throwErrno('unlinkat', ['/dev', name], -gone);
      try {
        sys.symlinkat(target, dev, name);
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST') throw e;
      }
    }
  } finally {
    sys.close(dev);
  }
}
