// The calls the driver makes to systemd's manager (org.freedesktop.systemd1)
// over D-Bus, each waiting for its job as runc does: a transient unit is made
// (or stopped) once its job has left systemd's queue, checked by the unit's
// ActiveState afterwards. Jobs are polled rather than awaited as JobRemoved
// signals: no match rule or callback is needed, and a scope's job is usually
// done by the time the call returns.
import * as fs from 'fs';
import { Bus, DBusError } from '../../linux/sdbus';
import { sleepMs } from '../../linux/sys';
import { RuntimeError } from '../../errors';
import { type Property } from './properties';

const SYSTEMD = 'org.freedesktop.systemd1';
const MANAGER_PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const PROPERTIES = 'org.freedesktop.DBus.Properties';
const JOB_TIMEOUT_MS = 30_000;

/** Whether systemd is this host's init (runc's test: /run/systemd/system is a directory). */
export function systemdRunning(): boolean {
  try {
    return fs.lstatSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
}

export function systemdNotRunning(): RuntimeError {
  return new RuntimeError('systemd not running on this host, cannot use systemd cgroups manager');
}

export class Systemd {
  private constructor(private readonly bus: Bus, readonly user: boolean) {}

  /** Connects to the system's systemd, or the calling user's own (`user`). */
  static connect(user: boolean): Systemd {
    if (!user && !systemdRunning()) throw systemdNotRunning();
    try {
      return new Systemd(user ? Bus.user() : Bus.system(), user);
    } catch (e) {
      throw new RuntimeError(`systemd cgroup driver: cannot connect to the ${user ? "user's" : 'system'} D-Bus: ${(e as Error).message}`, 1, { cause: e });
    }
  }

  close(): void {
    this.bus.close();
  }

  private managerProperty(name: string, type: string): string | number | bigint | boolean {
    const r = this.bus.call(SYSTEMD, MANAGER_PATH, PROPERTIES, 'Get', 'ss', [MANAGER, name]);
    try {
      return r.readVariant(type);
    } finally {
      r.free();
    }
  }

  private knownVersion?: number;

  /** systemd's version number ("252.38-1~deb12u1" -> 252); asked once per connection. */
  version(): number {
    if (this.knownVersion === undefined) {
      const m = /(\d+)/.exec(String(this.managerProperty('Version', 's')));
      this.knownVersion = m ? Number(m[1]) : 0;
    }
    return this.knownVersion;
  }

  /** The cgroup of the manager itself (a user's systemd: /user.slice/user-1000.slice/user@1000.service). */
  controlGroup(): string {
    return String(this.managerProperty('ControlGroup', 's'));
  }

  /** Makes the transient unit `name` and waits until it is active. */
  startTransientUnit(name: string, props: Property[]): void {
    let job: string;
    try {
      const r = this.bus.call(SYSTEMD, MANAGER_PATH, MANAGER, 'StartTransientUnit', 'ssa(sv)a(sa(sv))', [name, 'replace', props, []]);
      job = String(r.read('o'));
      r.free();
    } catch (e) {
      if (e instanceof DBusError && e.dbusName === 'org.freedesktop.systemd1.UnitExists') {
        throw new RuntimeError(`unable to start unit "${name}": the unit already exists (a container with this cgroupsPath is running, or one was not deleted: \`systemctl stop ${name}\`)`, 1, { cause: e });
      }
      throw new RuntimeError(`unable to start unit "${name}": ${(e as Error).message}`, 1, { cause: e });
    }
    this.waitJob(job, name, 'create');
    const state = this.unitState(name);
    if (state !== 'active') {
      this.resetFailed(name);
      throw new RuntimeError(`error creating systemd unit \`${name}\`: got \`${state ?? 'no unit'}\``);
    }
  }

  /** Stops unit `name` (gone already: nothing to do) and waits for it; a failed unit is reset so its name is free again. */
  stopUnit(name: string): void {
    let job: string;
    try {
      const r = this.bus.call(SYSTEMD, MANAGER_PATH, MANAGER, 'StopUnit', 'ss', [name, 'replace']);
      job = String(r.read('o'));
      r.free();
    } catch (e) {
      if (e instanceof DBusError && e.dbusName === 'org.freedesktop.systemd1.NoSuchUnit') return;
      throw new RuntimeError(`unable to stop unit "${name}": ${(e as Error).message}`, 1, { cause: e });
    }
    this.waitJob(job, name, 'remove');
    if (this.unitState(name) === 'failed') this.resetFailed(name);
  }

  /** Sets properties of a running unit (not persisted: runtime only). */
  setUnitProperties(name: string, props: Property[]): void {
    if (!props.length) return;
    try {
      this.bus.call(SYSTEMD, MANAGER_PATH, MANAGER, 'SetUnitProperties', 'sba(sv)', [name, true, props]).free();
    } catch (e) {
      throw new RuntimeError(`unable to set properties of unit "${name}": ${(e as Error).message}`, 1, { cause: e });
    }
  }

  /** A property of unit `name`, read through its object (for tests and checks). */
  unitProperty(name: string, iface: string, prop: string, type: string): string | number | bigint | boolean | undefined {
    const path = this.unitPath(name);
    if (!path) return undefined;
    const r = this.bus.call(SYSTEMD, path, PROPERTIES, 'Get', 'ss', [iface, prop]);
    try {
      return r.readVariant(type);
    } finally {
      r.free();
    }
  }

  private unitPath(name: string): string | undefined {
    try {
      const r = this.bus.call(SYSTEMD, MANAGER_PATH, MANAGER, 'GetUnit', 's', [name]);
      const p = String(r.read('o'));
      r.free();
      return p;
    } catch (e) {
      if (e instanceof DBusError && e.dbusName === 'org.freedesktop.systemd1.NoSuchUnit') return undefined;
      throw e;
    }
  }

  /** ActiveState of unit `name`, or undefined when systemd no longer has it. */
  unitState(name: string): string | undefined {
    return this.unitProperty(name, 'org.freedesktop.systemd1.Unit', 'ActiveState', 's') as string | undefined;
  }

  private resetFailed(name: string): void {
    try {
      this.bus.call(SYSTEMD, MANAGER_PATH, MANAGER, 'ResetFailedUnit', 's', [name]).free();
    } catch {
      /* not failed, or gone */
    }
  }

  /** Waits until job `path` has left systemd's queue (its object is gone). */
  private waitJob(path: string, unit: string, what: string): void {
    const end = Date.now() + JOB_TIMEOUT_MS;
    for (;;) {
      try {
        this.bus.call(SYSTEMD, path, PROPERTIES, 'Get', 'ss', ['org.freedesktop.systemd1.Job', 'State']).free();
      } catch (e) {
        if (e instanceof DBusError && e.dbusName === 'org.freedesktop.DBus.Error.UnknownObject') return;
        throw new RuntimeError(`waiting for systemd to ${what} ${unit}: ${(e as Error).message}`, 1, { cause: e });
      }
      if (Date.now() > end) {
        if (what === 'create') this.resetFailed(unit);
        throw new RuntimeError(`Timeout waiting for systemd to ${what} ${unit}`);
      }
      sleepMs(1);
    }
  }
}

