// /dev inside the container: the default device nodes every container gets,
// linux.devices, and the standard symlinks.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { Device } from '../../bundle/spec-types';
import { secureJoin } from './securejoin';

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

/** The kernel's dev_t encoding as stat(2) reports it in st_rdev. */
function devNumber(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
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

export function createDevice(rootfs: string, d: Device): void {
  const dest = secureJoin(rootfs, d.path);
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
  const mode = (d.fileMode ?? 0o666) & 0o7777;
  let existing: fs.Stats | undefined;
  try {
    existing = fs.lstatSync(dest);
  } catch {
    existing = undefined;
  }
  if (existing) {
    // runtime-spec: an existing file that is not the requested device is an error
    const same = (existing.mode & C.S_IFMT) === typeBits(d.type) &&
      (d.type === 'p' || existing.rdev === devNumber(d.major ?? 0, d.minor ?? 0));
    if (!same) throw new Error(`linux.devices: ${d.path} already exists in the rootfs and is not the requested device`);
    fs.chmodSync(dest, mode);
  } else {
    sys.mknod(dest, typeBits(d.type) | mode, d.major ?? 0, d.minor ?? 0);
  }
  fs.chownSync(dest, d.uid ?? 0, d.gid ?? 0);
}

/** Bind-mounts the host's node at the same path (for user namespaces, where mknod is refused). */
export function bindDevice(rootfs: string, d: Device): void {
  const dest = secureJoin(rootfs, d.path);
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
  if (!fs.existsSync(dest)) fs.closeSync(fs.openSync(dest, 'a', 0o644));
  try {
    sys.mount(d.path, dest, null, C.MS_BIND, null);
  } catch (e) {
    throw new Error(`linux.devices: cannot bind-mount ${d.path} from the host in a user namespace: ${(e as Error).message}`);
  }
}

/** /dev/fd, /dev/std{in,out,err}, /dev/ptmx (to the devpts instance) and /dev/core. */
export function createDevSymlinks(rootfs: string): void {
  const links: [string, string][] = [
    ['/proc/self/fd', 'fd'],
    ['/proc/self/fd/0', 'stdin'],
    ['/proc/self/fd/1', 'stdout'],
    ['/proc/self/fd/2', 'stderr'],
    ['pts/ptmx', 'ptmx'],
  ];
  if (fs.existsSync('/proc/kcore')) links.push(['/proc/kcore', 'core']);
  const dev = secureJoin(rootfs, '/dev');
  fs.mkdirSync(dev, { recursive: true, mode: 0o755 });
  for (const [target, name] of links) {
    const p = path.join(dev, name);
    try {
      fs.rmSync(p, { force: true });
      fs.symlinkSync(target, p);
    } catch (e) {
      // An existing non-empty directory or a mount (a bind-mounted /dev) keeps what it has.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' && (e as NodeJS.ErrnoException).code !== 'EBUSY') throw e;
    }
  }
}
