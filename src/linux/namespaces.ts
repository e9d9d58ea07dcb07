// The namespace types of config-linux.md and how the kernel names them: the
// clone flag, the /proc/<pid>/ns file, and the order in which to join them.
import * as C from './constants';
import * as fs from 'fs';
import * as sys from './sys';

/** OCI namespace type -> CLONE_NEW* flag (for unshare and setns). */
export const NAMESPACE_FLAGS: Record<string, number> = {
  user: C.CLONE_NEWUSER, ipc: C.CLONE_NEWIPC, uts: C.CLONE_NEWUTS, network: C.CLONE_NEWNET,
  pid: C.CLONE_NEWPID, mount: C.CLONE_NEWNS, cgroup: C.CLONE_NEWCGROUP, time: C.CLONE_NEWTIME,
};

/** OCI namespace type -> its file under /proc/<pid>/ns. */
export const NAMESPACE_FILES: Record<string, string> = {
  pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time',
};

// The user namespace first (it owns the others), mount last (after it, the
// other namespaces' paths may be out of reach).
const JOIN_ORDER = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

/** Sorts namespace types into the order they must be joined in. */
export function byJoinOrder(a: string, b: string): number {
  return JOIN_ORDER.indexOf(a) - JOIN_ORDER.indexOf(b);
}

const NS_GET_NSTYPE = 0xb703; // <linux/nsfs.h>, Linux 4.11
const ENOTTY = 25; // the ioctl of a file that is not a namespace

/**
 * The OCI type of the namespace file at `p` (a /proc/<pid>/ns file or a bind
 * mount of one): null when it is not a namespace file, undefined when that
 * cannot be told (it cannot be opened, or the kernel is older than 4.11).
 */
export function namespaceTypeAt(p: string): string | null | undefined {
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const flag = sys.tryIoctl(fd, NS_GET_NSTYPE, 0);
    if (flag < 0) return -flag === ENOTTY ? null : undefined;
    return Object.keys(NAMESPACE_FLAGS).find((t) => NAMESPACE_FLAGS[t] === flag) ?? undefined;
  } finally {
    fs.closeSync(fd);
  }
}
