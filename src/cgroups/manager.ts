// One interface over cgroup v1 and v2. The cgroupfs driver is the only one;
// a systemd driver would be another implementation of CgroupManager.
import { CgroupView } from '../runtime/init/mounts';

export interface CgroupManager {
  readonly version: 1 | 2;
  /** Hierarchy name (v1: "cpu", "name=systemd", ...; v2: "") -> the container's cgroup directory. */
  readonly paths: Record<string, string>;
  /** Creates the container's cgroup directories (missing parents too). */
  create(): void;
  /** Moves a process into the container's cgroups. */
  addProcess(pid: number): void;
  /** Host PIDs of every process in the container's cgroups (nested ones included). */
  processes(): number[];
  /** Whether the container's cgroup is frozen. */
  isFrozen(): boolean;
  /** Removes the container's cgroup directories, nested ones first. */
  destroy(): void;
  /** What a "cgroup" mount inside the container shows. */
  views(): CgroupView[];
}
