// The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a
// transient scope that systemd makes with the init in it (Delegate=yes, so
// the container may manage what is below), its resources are unit
// properties where systemd has them, and the cgroup files are written
// afterwards with the cgroupfs code, as runc does. On cgroup v1 (legacy or
// hybrid) the scope has a directory in every hierarchy, the init joins the
// ones systemd does not manage through the files. Everything that only reads
// or signals (processes, freeze, stats, OOM) is the cgroupfs manager's, on
// the scope's directories.
import * as path from 'path';
import { type CgroupManager, type CgroupView, applyOptions } from '../manager';
import { CgroupV2, UNIFIED_MOUNT } from '../v2';
import { CgroupV1 } from '../v1';
import { type LinuxResources, type ApplyOptions, resourceProblems, unifiedOnV1Error } from '../resources';
import { type OomWatcher } from '../oom';
import { type Json } from '../stats';
import { isUnifiedHost, v1Hierarchies } from '../paths';
import { RuntimeError } from '../../errors';
import { systemdPlace, expandSlice } from './unit-name';
import { unitProperties, resourceProperties, type Property } from './properties';
import { annotationProperties } from './annotations';
import { Systemd, systemdRunning, systemdNotRunning } from './dbus';

/** What the state keeps of a container made with the systemd driver. */
export interface SystemdUnit {
  unit: string;
  slice: string;
  /** Made by the calling user's systemd (rootless), not the system's. */
  user: boolean;
}

/** What create passes before the init exists. */
export interface SystemdCreate {
  id: string;
  annotations?: Record<string, string>;
}

export class SystemdCgroup implements CgroupManager {
  readonly paths: Record<string, string>;
  private readonly fsm: CgroupV1 | CgroupV2;
  private pending?: { resources: LinuxResources; opts: ApplyOptions; extra: Property[] };
  private client?: Systemd;
  /** This manager made the unit (a new container's, once addProcess succeeded). */
  private started = false;

  /** `creating`: a container being made, whose unit starts with its init; without it, an existing container's unit. */
  constructor(readonly version: 1 | 2, paths: Record<string, string>, readonly systemd: SystemdUnit, private readonly creating?: SystemdCreate) {
    this.fsm = version === 2 ? new CgroupV2(paths['']) : CgroupV1.fromPaths(paths);
    this.paths = this.fsm.paths;
  }

  /** The manager for a new container: its unit and directory from linux.cgroupsPath. */
  static forContainer(cgroupsPath: string | undefined, c: SystemdCreate): SystemdCgroup {
    const user = process.getuid!() !== 0;
    const place = systemdPlace(cgroupsPath, c.id, user);
    const extra = annotationProperties(c.annotations); // refused before anything is made
    if (!user && !systemdRunning()) throw systemdNotRunning();
    const v2 = isUnifiedHost();
    if (!v2 && user) throw new RuntimeError('cannot use rootless systemd cgroups manager on cgroup v1');
    let parent = expandSlice(place.slice);
    let client: Systemd | undefined;
    if (user) {
      client = Systemd.connect(true);
      parent = path.posix.join(client.controlGroup(), parent);
    }
    const unit = { unit: place.unit, slice: place.slice, user };
    const dir = (mountpoint: string) => path.join(mountpoint, parent, place.unit);
    const m = v2
      ? new SystemdCgroup(2, { '': dir(UNIFIED_MOUNT) }, unit, c)
      : new SystemdCgroup(1, Object.fromEntries(v1Hierarchies().map((h) => [h.name, dir(h.mountpoint)])), unit, c);
    m.client = client;
    m.pending = { resources: {}, opts: {}, extra };
    return m;
  }

  private get sd(): Systemd {
    return (this.client ??= Systemd.connect(this.systemd.user));
  }

  create(): void {
    // systemd makes the directory, with the init in it (addProcess)
  }

  apply(resources: LinuxResources | Record<string, unknown>, o?: ApplyOptions | ((msg: string) => void)): void {
    const r = resources as LinuxResources;
    const opts = applyOptions(o);
    if (this.pending) {
      // before the unit exists: checked now, applied with the init
      const where = opts.where ?? 'linux.resources';
      const problems = resourceProblems(r, where);
      if (problems.length) throw new RuntimeError(problems.join('; '));
      if (this.version === 1 && r.unified && Object.keys(r.unified).length) {
        throw unifiedOnV1Error(r.unified, where);
      }
      this.properties(r, opts);
      this.pending = { ...this.pending, resources: r, opts };
      return;
    }
    this.sd.setUnitProperties(this.systemd.unit, this.properties(r, opts));
    this.fsm.apply(r, opts);
  }

  private properties(r: LinuxResources, opts: ApplyOptions): Property[] {
    const props = resourceProperties(r, { version: this.version, systemdVersion: this.sd.version(), devices: opts.devices, warn: opts.warn ?? (() => undefined) });
    // an update leaves the device rules as they are (as the cgroupfs side does)
    return opts.update ? props.filter(([name]) => !name.startsWith('Device')) : props;
  }

  addProcess(pid: number): void {
    if (!this.pending) {
      this.fsm.addProcess(pid);
      return;
    }
    const { resources, opts, extra } = this.pending;
    const { unit, slice } = this.systemd;
    this.sd.startTransientUnit(unit, [
      ...unitProperties({ id: this.creating?.id ?? unit, unit, slice, pid: unit.endsWith('.slice') ? undefined : pid, version: this.version }),
      ...this.properties(resources, opts),
      ...extra,
    ]);
    this.pending = undefined;
    this.started = true;
    // v2: the controllers on the way down; v1: the directories in the hierarchies systemd does not manage
    this.fsm.create();
    // a slice cannot be given PIDs, and on v1 systemd places the init in the hierarchies it manages only
    if (unit.endsWith('.slice') || this.version === 1) this.fsm.addProcess(pid);
    // every value, also those systemd has no property for
    this.fsm.apply(resources, opts);
  }

  processes(): number[] {
    return this.fsm.processes();
  }

  isFrozen(): boolean {
    return this.fsm.isFrozen();
  }

  freeze(): void {
    this.fsm.freeze();
  }

  thaw(): void {
    this.fsm.thaw();
  }

  stats(): Json {
    return this.fsm.stats();
  }

  oomWatcher(): OomWatcher {
    return this.fsm.oomWatcher();
  }

  exists(): boolean {
    return this.fsm.exists();
  }

  /**
   * Stops the unit (systemd kills what is left and removes the directory),
   * then removes what remains. Without systemd (it is gone, or this is a
   * delete --force on a broken host) the directories are removed directly.
   * A create whose unit was never made owns nothing: a unit of that name
   * (another container's) is left alone.
   */
  destroy(): void {
    if (this.creating && !this.started) return;
    let stopError: Error | undefined;
    try {
      this.sd.stopUnit(this.systemd.unit);
    } catch (e) {
      stopError = e as Error;
    }
    this.fsm.destroy();
    if (stopError && this.fsm.exists()) throw stopError;
  }

  views(): CgroupView[] {
    return this.fsm.views();
  }
}
