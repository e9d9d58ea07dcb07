// Where a container goes with the systemd driver: linux.cgroupsPath in runc's
// "slice:prefix:name" form, the unit's name, and the slice's place in the
// cgroup tree (systemd nests "a-b-c.slice" as a.slice/a-b.slice/a-b-c.slice).
import { RuntimeError } from '../../errors';

export interface SystemdPlace {
  /** The parent slice ("system.slice", "kubepods-burstable-pod1.slice"). */
  slice: string;
  /** The unit made for the container: "<prefix>-<name>.scope", or a slice named by `name`. */
  unit: string;
}

/** The default scope prefix when linux.cgroupsPath is empty (runc uses "runc"). */
export const DEFAULT_PREFIX = 'tsrunc';

/**
 * linux.cgroupsPath for the systemd driver, with runc's defaults: empty means
 * "<DEFAULT_PREFIX>-<id>.scope" in system.slice (user.slice for a user's own
 * systemd); an empty slice part means the same default slice.
 */
export function systemdPlace(cgroupsPath: string | undefined, id: string, user: boolean): SystemdPlace {
  const defaultSlice = user ? 'user.slice' : 'system.slice';
  if (!cgroupsPath) return { slice: defaultSlice, unit: unitName(DEFAULT_PREFIX, id) };
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3) {
    throw new RuntimeError(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "${cgroupsPath}" instead`);
  }
  const [slice, prefix, name] = parts;
  if (!name) throw new RuntimeError(`linux.cgroupsPath "${cgroupsPath}": the name part (after the second ":") is empty`);
  if (name.includes('/') || prefix.includes('/')) throw new RuntimeError(`linux.cgroupsPath "${cgroupsPath}": a unit name cannot contain "/"`);
  const place = { slice: slice || defaultSlice, unit: unitName(prefix, name) };
  expandSlice(place.slice); // refused now, before anything exists
  if (place.unit.endsWith('.slice')) expandSlice(place.unit);
  return place;
}

/** A scope unless the name is a slice, as runc names them. */
function unitName(prefix: string, name: string): string {
  if (name.endsWith('.slice')) return name;
  return prefix ? `${prefix}-${name}.scope` : `${name}.scope`;
}

/** "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "/" (the root slice). */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (slice.length <= suffix.length || !slice.endsWith(suffix) || slice.includes('/')) {
    throw new RuntimeError(`invalid slice name: ${slice}`);
  }
  const name = slice.slice(0, -suffix.length);
  if (name === '-') return '/';
  let out = '';
  let prefix = '';
  for (const part of name.split('-')) {
    if (!part) throw new RuntimeError(`invalid slice name: ${slice}`);
    out += `/${prefix}${part}${suffix}`;
    prefix += `${part}-`;
  }
  return out;
}
