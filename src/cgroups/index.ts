import { CgroupManager } from './manager';
import { CgroupV1 } from './v1';
import { CgroupV2 } from './v2';
import { isUnifiedHost, v1Hierarchies, ownCgroups } from './paths';
import { SystemdCgroup, type SystemdUnit } from './systemd/manager';
import * as sys from '../linux/sys';

export { CgroupManager };
export { LinuxResources, ApplyOptions, resourceProblems, mergeResources } from './resources';

/** The manager for a new container, by what this host mounts and the driver asked for (`systemd`: --systemd-cgroup). */
export function cgroupManagerFor(cgroupsPath: string | undefined, id: string, systemd: boolean, annotations?: Record<string, string>): CgroupManager {
  if (systemd) return SystemdCgroup.forContainer(cgroupsPath, { id, annotations });
  const own = ownCgroups();
  if (isUnifiedHost()) return CgroupV2.forContainer(own, cgroupsPath, id);
  return new CgroupV1(v1Hierarchies(), own, cgroupsPath, id);
}

/** The manager for an existing container, from the paths saved in its state. */
export function cgroupManagerFromState(saved: { version: 1 | 2; paths: Record<string, string>; systemd?: SystemdUnit }): CgroupManager {
  if (saved.systemd) return new SystemdCgroup(saved.version, saved.paths, saved.systemd);
  return saved.version === 2 ? new CgroupV2(saved.paths['']) : CgroupV1.fromPaths(saved.paths);
}

/**
 * Sends `signal` to every process in the cgroup with the cgroup frozen, so
 * nothing forks out of reach meanwhile (as runc's kill --all does). A cgroup
 * that was paused stays paused, unless the signal is SIGKILL, which only
 * takes effect once the processes run again. Returns the PIDs signalled.
 */
export function signalAllProcesses(cgroup: CgroupManager, signal: number): number[] {
  const wasFrozen = cgroup.isFrozen();
  let froze = false;
  if (!wasFrozen) {
    try {
      cgroup.freeze();
      froze = true;
    } catch {
      /* no freezer: signal them anyway */
    }
  }
  const pids = cgroup.processes();
  try {
    for (const pid of pids) {
      try {
        sys.kill(pid, signal);
      } catch {
        /* exited meanwhile */
      }
    }
  } finally {
    if (froze || (wasFrozen && signal === 9)) {
      try {
        cgroup.thaw();
      } catch {
        /* the cgroup went away */
      }
    }
  }
  return pids;
}
