import type { CgroupManager } from './manager';
import type * as V1 from './v1';
import type * as V2 from './v2';
import type * as Systemd from './systemd/manager';
import type * as Paths from './paths';
import type { SystemdUnit } from './systemd/manager';
import * as sys from '../linux/sys';

export type { CgroupManager };
export type { LinuxResources, ApplyOptions } from './resources';

// Each driver is loaded when a container uses it: `state` and `start` of a
// cgroupfs v1 container need neither v2's nor systemd's modules (D-Bus, unit
// names, properties), `state` of a missing one none of them.
const v1 = (): typeof V1 => require('./v1');
const v2 = (): typeof V2 => require('./v2');
const systemdDriver = (): typeof Systemd => require('./systemd/manager');

/** The manager for a new container, by what this host mounts and the driver asked for (`systemd`: --systemd-cgroup). */
export function cgroupManagerFor(cgroupsPath: string | undefined, id: string, systemd: boolean, annotations?: Record<string, string>): CgroupManager {
  if (systemd) return systemdDriver().SystemdCgroup.forContainer(cgroupsPath, { id, annotations });
  const paths = require('./paths') as typeof Paths;
  const own = paths.ownCgroups();
  if (paths.isUnifiedHost()) return v2().CgroupV2.forContainer(own, cgroupsPath, id);
  return new (v1().CgroupV1)(paths.v1Hierarchies(), own, cgroupsPath, id);
}

/** The manager for an existing container, from the paths saved in its state. */
export function cgroupManagerFromState(saved: { version: 1 | 2; paths: Record<string, string>; systemd?: SystemdUnit }): CgroupManager {
  if (saved.systemd) return new (systemdDriver().SystemdCgroup)(saved.version, saved.paths, saved.systemd);
  return saved.version === 2 ? new (v2().CgroupV2)(saved.paths['']) : v1().CgroupV1.fromPaths(saved.paths);
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
