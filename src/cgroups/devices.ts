// The device cgroup: linux.resources.devices rules, followed by the devices
// every container gets and the ones in linux.devices, reduced to the state
// the v1 devices controller would end in (a default plus exceptions). v1
// writes that state to devices.deny/devices.allow; v2 compiles it into a BPF
// program (bpf.ts).
import { type DeviceRule } from './resources';

/** Access bits as the kernel's BPF device context encodes them. */
export const ACC_MKNOD = 1;
export const ACC_READ = 2;
export const ACC_WRITE = 4;
export const ACC_ALL = ACC_MKNOD | ACC_READ | ACC_WRITE;

/** One entry of the exception list: type c or b, -1 for "any" major/minor. */
export interface DeviceException {
  type: 'c' | 'b';
  major: number;
  minor: number;
  access: number;
}

/** The device controller's state: what happens by default, and the exceptions to it. */
export interface DeviceState {
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

/**
 * Allowed in every container after the configured rules (so a deny-all rule
 * with no list, as podman sends, still leaves the default devices usable):
 * runc 1.1.5's AllowedDevices (libcontainer/specconv), in its order: mknod
 * of any node, /dev/null, random, full, tty, zero, urandom, the
 * pseudo-terminals, ptmx and tuntap. `path` is the node runc makes for the
 * rule: a linux.devices entry with the same path takes its place, rule
 * included (runc's createDevices).
 */
export const DEFAULT_ALLOWED: (DeviceRule & { path?: string })[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm', path: '/dev/null' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm', path: '/dev/random' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm', path: '/dev/full' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm', path: '/dev/tty' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm', path: '/dev/zero' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm', path: '/dev/urandom' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

/**
 * The access bits of a rule's access string. As runc's devices.Permissions,
 * letters other than r, w and m are ignored ("rwq" is "rw"); an empty string
 * is refused before (semantic.ts), as runc refuses it.
 */
export function accessBits(access: string | undefined): number {
  if (access === undefined) return ACC_ALL;
  let bits = 0;
  for (const ch of access) {
    if (ch === 'r') bits |= ACC_READ;
    else if (ch === 'w') bits |= ACC_WRITE;
    else if (ch === 'm') bits |= ACC_MKNOD;
  }
  return bits;
}

export function accessText(bits: number): string {
  return `${bits & ACC_READ ? 'r' : ''}${bits & ACC_WRITE ? 'w' : ''}${bits & ACC_MKNOD ? 'm' : ''}`;
}

function wildcard(n: number | undefined): number {
  return n === undefined || n === null || n < 0 ? -1 : n;
}

/**
 * Replays `rules` in order from a new cgroup's "deny everything" the way the v1
 * controller applies writes: a rule for every device of every type with full
 * access resets the default; a rule that agrees with the default takes its
 * access away from an exception for exactly that device; any other rule adds
 * (or widens) an exception.
 */
export function emulate(rules: DeviceRule[]): DeviceState {
  const st: DeviceState = { defaultAllow: false, exceptions: [] };
  for (const r of rules) {
    const type = r.type ?? 'a';
    const major = wildcard(r.major);
    const minor = wildcard(r.minor);
    const access = accessBits(r.access);
    if (type === 'a' && major === -1 && minor === -1 && access === ACC_ALL) {
      st.defaultAllow = r.allow;
      st.exceptions = [];
      continue;
    }
    const types: ('c' | 'b')[] = type === 'a' ? ['c', 'b'] : [type as 'c' | 'b'];
    for (const t of types) {
      const same = st.exceptions.find((e) => e.type === t && e.major === major && e.minor === minor);
      if (r.allow === st.defaultAllow) {
        if (same) {
          same.access &= ~access;
          if (same.access === 0) st.exceptions.splice(st.exceptions.indexOf(same), 1);
        }
      } else if (same) {
        same.access |= access;
      } else {
        st.exceptions.push({ type: t, major, minor, access });
      }
    }
  }
  return st;
}

/**
 * The full rule list of a container: its rules, then the defaults but those
 * whose node linux.devices replaces. linux.devices adds no rule: a device
 * listed there is usable only if the rules allow it (as in runc; the spec
 * leaves access to linux.resources.devices).
 */
export function containerDeviceState(rules: DeviceRule[] | undefined, devices?: { path?: string }[]): DeviceState {
  const replaced = new Set((devices ?? []).map((d) => d.path));
  const defaults = DEFAULT_ALLOWED.filter((d) => d.path === undefined || !replaced.has(d.path)).map(({ path: _path, ...rule }) => rule);
  return emulate([...(rules ?? []), ...defaults]);
}

/** Whether `state` lets a process do `access` on device (type, major, minor), as the kernel decides. */
export function permits(state: DeviceState, type: 'c' | 'b', major: number, minor: number, access: number): boolean {
  const covers = (e: DeviceException) =>
    e.type === type && (e.major === -1 || e.major === major) && (e.minor === -1 || e.minor === minor);
  if (state.defaultAllow) return !state.exceptions.some((e) => covers(e) && (e.access & access) !== 0);
  return state.exceptions.some((e) => covers(e) && (access & ~e.access) === 0);
}

/** The v1 writes that set `state` on a cgroup: [file, line] in order. */
export function v1Writes(state: DeviceState): [string, string][] {
  const out: [string, string][] = [[state.defaultAllow ? 'devices.allow' : 'devices.deny', 'a']];
  const file = state.defaultAllow ? 'devices.deny' : 'devices.allow';
  for (const e of state.exceptions) {
    const n = (x: number) => (x === -1 ? '*' : String(x));
    out.push([file, `${e.type} ${n(e.major)}:${n(e.minor)} ${accessText(e.access)}`]);
  }
  return out;
}
