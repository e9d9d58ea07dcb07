// The systemd cgroup driver (--systemd-cgroup) on cgroup v2: the container's
// cgroup is a transient scope that systemd makes with the init in it
// (Delegate=yes, so the container may manage what is below), its resources
// are unit properties where systemd has them, and the cgroup files are
// written afterwards with the cgroupfs code, as runc does. Everything that
// only reads or signals (processes, freeze, stats, OOM) is the cgroupfs
// manager's, on the scope's directory.
import * as path from 'path';
import { type CgroupManager, type CgroupView, applyOptions } from '../manager';
import { CgroupV2, UNIFIED_MOUNT } from '../v2';
import { type LinuxResources, type ApplyOptions, resourceProblems } from '../resources';
import { type OomWatcher } from '../oom';
import { type Json } from '../stats';
import { isUnifiedHost } from '../paths';
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
  readonly version = 2 as const;
  readonly paths: Record<string, string>;
  private readonly fsm: CgroupV2;
  private pending?: { resources: LinuxResources; opts: ApplyOptions; extra: Property[] };
  private client?: Systemd;
  /** This manager made the unit (a new container's, once addProcess succeeded). */
  private started = false;

  /** `create`: a container being made, whose unit starts with its init; without it, an existing container's unit. */
  constructor(dir: string, readonly systemd: SystemdUnit, private readonly creating?: SystemdCreate) {
    this.paths = { '': dir };
    this.fsm = new CgroupV2(dir);
  }

  /** The manager for a new container: its unit and directory from linux.cgroupsPath. */
  static forContainer(cgroupsPath: string | undefined, c: SystemdCreate): SystemdCgroup {
    const user = process.getuid!() !== 0;
    const place = systemdPlace(cgroupsPath, c.id, user);
    const extra = annotationProperties(c.annotations); // refused before anything is made
    if (!user && !systemdRunning()) throw systemdNotRunning();
    if (!isUnifiedHost()) throw new RuntimeError('--systemd-cgroup: tsrunc\'s systemd driver needs cgroup v2 (this host mounts cgroup v1): use the cgroupfs driver (omit --systemd-cgroup)');
    let parent = expandSlice(place.slice);
    let client: Systemd | undefined;
    if (user) {
      client = Systemd.connect(true);
      parent = path.posix.join(client.controlGroup(), parent);
    }
    const m = new SystemdCgroup(path.join(UNIFIED_MOUNT, parent, place.unit), { unit: place.unit, slice: place.slice, user }, c);
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
      const problems = resourceProblems(r, opts.where ?? 'linux.resources');
      if (problems.length) throw new RuntimeError(problems.join('; '));
      this.properties(r, opts);
      this.pending = { ...this.pending, resources: r, opts };
      return;
    }
    this.sd.setUnitProperties(this.systemd.unit, this.properties(r, opts));
    this.fsm.apply(r, opts);
  }

  private properties(r: LinuxResources, opts: ApplyOptions): Property[] {
    const props = resourceProperties(r, { version: 2, systemdVersion: this.sd.version(), devices: opts.devices, warn: opts.warn ?? (() => undefined) });
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
      ...unitProperties({ id: this.creating?.id ?? unit, unit, slice, pid: unit.endsWith('.slice') ? undefined : pid, version: 2 }),
      ...this.properties(resources, opts),
      ...extra,
    ]);
    this.pending = undefined;
    this.started = true;
    // a slice cannot be given PIDs: the init joins it through the files
    if (unit.endsWith('.slice')) this.fsm.addProcess(pid);
    // the controllers on the way down, and every value (also those systemd has no property for)
    this.fsm.create();
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

  /** The unit's property `prop` (for checks and tests). */
  unitProperty(iface: string, prop: string, type: string): string | number | bigint | boolean | undefined {
    return this.sd.unitProperty(this.systemd.unit, iface, prop, type);
  }
}
