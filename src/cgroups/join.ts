// Putting the container's process (the init, or an exec'd one) into its
// cgroups without the kernel's slow path. Writing a PID to cgroup.procs takes
// the global cgroup_threadgroup_rwsem for writing, whose first writer waits
// for an RCU grace period: 10-15 ms of every create, run and exec. The first
// stage (single-threaded, forked) avoids it before it forks that process:
// - v1: a single thread that writes "0" to a hierarchy's `tasks` file moves
//   itself without that lock (Linux 6.1 on; older kernels take it, as
//   before), and the process it forks next is born in the cgroup.
// - v2 (the v2 hierarchy of a hybrid host too): clone3(CLONE_INTO_CGROUP)
//   creates the process in the cgroup (the fork path takes the lock for
//   reading only). Where the kernel lacks it (before 5.7) or a seccomp
//   filter refuses it, in a user namespace (whose root may not write the
//   host's cgroup), and for an init that runs hooks (it forks them with
//   fork(3), see sys.tryForkIntoCgroup), the stage forks as before and the
//   runtime writes cgroup.procs.
// The runtime opens the files, the stage only writes through them: the kernel
// checks the opener's credentials, and the stage needs no path of the host.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../linux/sys';
import { errnoName } from '../linux/errors';

export interface CgroupJoin {
  /** v1: an O_WRONLY fd of each hierarchy's `tasks` file, with the container's directory there. */
  tasks: { fd: number; dir: string }[];
  /** v2: an O_DIRECTORY fd of the container's cgroup, and its path. */
  v2?: { fd: number; dir: string };
}

/**
 * Opens what the first stage needs to join `paths` (a CgroupManager's: the
 * v1 hierarchies by name, "" the v2 one). Closes what it opened on failure.
 */
export function openCgroupJoin(paths: Record<string, string>): CgroupJoin {
  const join: CgroupJoin = { tasks: [] };
  try {
    for (const [name, dir] of Object.entries(paths)) {
      if (name === '') join.v2 = { fd: fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY), dir };
      else join.tasks.push({ fd: fs.openSync(path.join(dir, 'tasks'), fs.constants.O_WRONLY), dir });
    }
  } catch (e) {
    closeCgroupJoin(join);
    throw e;
  }
  return join;
}

export function cgroupJoinFds(join: CgroupJoin | undefined): number[] {
  if (!join) return [];
  return [...join.tasks.map((t) => t.fd), ...(join.v2 ? [join.v2.fd] : [])];
}

export function closeCgroupJoin(join: CgroupJoin | undefined): void {
  for (const fd of cgroupJoinFds(join)) {
    try {
      fs.closeSync(fd);
    } catch {
      /* closed already */
    }
  }
}

/** In the first stage: moves this (single-threaded) process into each v1 hierarchy's cgroup; closes those fds. */
export function joinV1Self(join: CgroupJoin | undefined): void {
  for (const { fd, dir } of join?.tasks ?? []) {
    try {
      fs.writeSync(fd, '0');
    } catch (e) {
      throw new Error(`cannot add process to cgroup ${dir}: ${(e as Error).message}`, { cause: e });
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** clone3 errors that come before the kernel makes anything: no clone3 or no CLONE_INTO_CGROUP, a seccomp filter. */
const UNSUPPORTED = new Set([38 /* ENOSYS */, 22 /* EINVAL */, 7 /* E2BIG */, 1 /* EPERM */]);

/**
 * In the first stage, after joinV1Self(): forks the container's process,
 * born in the v2 cgroup unless `plainFork` (the stage is in a user
 * namespace, or the process will fork with fork(3): see tryForkIntoCgroup)
 * or the kernel cannot. `joined`: it is in every cgroup of `join`
 * (false: the runtime must still add it to the v2 one). The v2 fd is closed
 * in both processes.
 * A clone3 refused for the cgroup itself is an error, not a reason to fork:
 * the kernel had allocated the process's PID by then, and in a new PID
 * namespace the failure of its first process leaves one where no process can
 * ever be made (fork fails with ENOMEM). The runtime's own write would fail
 * the same way.
 */
export function forkJoined(join: CgroupJoin | undefined, plainFork: boolean): { pid: number; joined: boolean } {
  const v2 = join?.v2;
  let pid = v2 && !plainFork ? sys.tryForkIntoCgroup(v2.fd) : undefined;
  if (v2 && pid !== undefined && pid < 0 && !UNSUPPORTED.has(-pid)) {
    throw new Error(`cannot add process to cgroup ${v2.dir}: clone3: ${errnoName(-pid)}`);
  }
  const joined = !v2 || (pid !== undefined && pid >= 0);
  if (pid === undefined || pid < 0) pid = sys.safeFork();
  if (v2) fs.closeSync(v2.fd);
  return { pid, joined };
}

/** In the runtime, when the stage could not create the process in the v2 cgroup. */
export function addToV2(join: CgroupJoin, pid: number): void {
  if (!join.v2) return;
  try {
    fs.writeFileSync(path.join(join.v2.dir, 'cgroup.procs'), String(pid));
  } catch (e) {
    throw new Error(`cannot add process ${pid} to cgroup ${join.v2.dir}: ${(e as Error).message}`, { cause: e });
  }
}
