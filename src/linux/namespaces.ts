// The namespace types of config-linux.md and how the kernel names them: the
// clone flag, the /proc/<pid>/ns file, and the order in which to join them.
import * as C from './constants';

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
