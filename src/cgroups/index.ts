import { CgroupManager } from './manager';
import { CgroupV1 } from './v1';
import { CgroupV2 } from './v2';
import { isUnifiedHost, v1Hierarchies, ownCgroups } from './paths';
import { RuntimeError } from '../errors';

export { CgroupManager };

/** The manager for a new container, by what this host mounts. */
export function cgroupManagerFor(cgroupsPath: string | undefined, id: string, systemd: boolean): CgroupManager {
  if (systemd) throw new RuntimeError('--systemd-cgroup is not supported yet: use the cgroupfs driver (omit --systemd-cgroup)');
  const own = ownCgroups();
  if (isUnifiedHost()) return CgroupV2.forContainer(own, cgroupsPath, id);
  return new CgroupV1(v1Hierarchies(), own, cgroupsPath, id);
}

/** The manager for an existing container, from the paths saved in its state. */
export function cgroupManagerFromState(saved: { version: 1 | 2; paths: Record<string, string> }): CgroupManager {
  return saved.version === 2 ? new CgroupV2(saved.paths['']) : CgroupV1.fromPaths(saved.paths);
}
