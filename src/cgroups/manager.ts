// One interface over the cgroup drivers: cgroupfs on v1 (v1.ts) and v2
// (v2.ts), and systemd on v2 (systemd/manager.ts).
import { type LinuxResources, type ApplyOptions } from './resources';
import { type OomWatcher } from './oom';
import { type Json } from './stats';

/** A cgroup hierarchy to show at a "cgroup" mount: name under the mount point, host directory of the container's cgroup. */
export interface CgroupView {
  name: string;
  hostDir: string;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  /** Hierarchy name (v1: "cpu", "name=systemd", ...; v2: "") -> the container's cgroup directory. */
  readonly paths: Record<string, string>;
  /** The systemd unit that holds the container's cgroup (the systemd driver), kept in the state. */
  readonly systemd?: { unit: string; slice: string; user: boolean };
  /** Creates the container's cgroup directories (missing parents too; v2: enables the controllers on the way). */
  create(): void;
  /**
   * Checks linux.resources, then writes them (limits, device rules). Bad
   * values are reported before anything is written; a value the kernel
   * refuses is an error naming the file and the value; settings runc ignores
   * on this kernel go to `opts.warn`. The second argument may be just the warn function.
   */
  apply(resources: LinuxResources | Record<string, unknown>, opts?: ApplyOptions | ((msg: string) => void)): void;
  /** Moves a process into the container's cgroups. */
  addProcess(pid: number): void;
  /** Host PIDs of every process in the container's cgroups (nested ones included). */
  processes(): number[];
  /** Whether the container's cgroup is frozen. */
  isFrozen(): boolean;
  /** Freezes every process of the container; returns once the kernel reports the cgroup frozen. */
  freeze(): void;
  /** Thaws the container; returns once the kernel reports it thawed. */
  thaw(): void;
  /** Statistics shaped like runc's `events --stats` data. */
  stats(): Json;
  /** Starts watching for OOM events. */
  oomWatcher(): OomWatcher;
  /** Whether the container's cgroup directory still exists. */
  exists(): boolean;
  /** Removes the container's cgroup directories, nested ones first. */
  destroy(): void;
  /** What a "cgroup" mount inside the container shows. */
  views(): CgroupView[];
}

/** The second argument of apply() in its long form. */
export function applyOptions(opts: ApplyOptions | ((msg: string) => void) | undefined): ApplyOptions {
  if (typeof opts === 'function') return { warn: opts };
  return opts ?? {};
}
