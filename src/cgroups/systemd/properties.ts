// linux.resources as systemd unit properties, split as runc splits them:
// what systemd owns (memory, CPU, tasks, cpuset, I/O weight, devices) goes to
// the unit, so that systemd keeps it; everything is also written to the
// cgroup files afterwards (the driver does), which covers the rest.
import * as fs from 'fs';
import { Variant } from '../../linux/sdbus';
import { type LinuxResources, type DeviceRule, unlimited, sharesToWeight, blkioToIoWeight } from '../resources';
import { containerDeviceState, accessText } from '../devices';
import { parseList } from '../cpuset';
import { RuntimeError } from '../../errors';

/** A unit property: name and value. */
export type Property = [string, Variant];

const MAX_U64 = 0xffffffffffffffffn;
const DEFAULT_PERIOD = 100000;

const u64 = (n: number) => (unlimited(n) || n < 0 ? MAX_U64 : BigInt(n));
const prop = (name: string, sig: string, value: unknown): Property => [name, new Variant(sig, value)];

export interface PropertyContext {
  version: 1 | 2;
  /** systemd's version (Manager.Version): older ones lack some properties. */
  systemdVersion: number;
  /** linux.devices: they replace the default rule of their path. */
  devices?: { path: string; type: string; major?: number; minor?: number }[];
  warn: (msg: string) => void;
}

/** What the unit is made with besides its resources. */
export function unitProperties(o: { id: string; unit: string; slice: string; pid?: number; version: 1 | 2 }): Property[] {
  const out: Property[] = [prop('Description', 's', `tsrunc container ${o.id}`)];
  if (o.unit.endsWith('.slice')) out.push(prop('Wants', 'as', [o.slice]));
  else out.push(prop('Slice', 's', o.slice), prop('Delegate', 'b', true));
  if (o.pid !== undefined) out.push(prop('PIDs', 'au', [o.pid]));
  out.push(
    prop('MemoryAccounting', 'b', true),
    prop('CPUAccounting', 'b', true),
    prop(o.version === 2 ? 'IOAccounting' : 'BlockIOAccounting', 'b', true),
    prop('TasksAccounting', 'b', true),
    prop('DefaultDependencies', 'b', false),
  );
  return out;
}

/** The unit properties for `r`. */
export function resourceProperties(r: LinuxResources, ctx: PropertyContext): Property[] {
  const out: Property[] = deviceProperties(r.devices, ctx);
  const m = r.memory ?? {};
  const c = r.cpu ?? {};
  if (ctx.version === 2) {
    if (m.limit) out.push(prop('MemoryMax', 't', u64(m.limit)));
    if (m.reservation) out.push(prop('MemoryLow', 't', u64(m.reservation)));
    const swap = swapMax(m.swap, m.limit);
    if (swap !== undefined) out.push(prop('MemorySwapMax', 't', swap));
    if (c.shares) out.push(prop('CPUWeight', 't', BigInt(sharesToWeight(c.shares))));
    if (r.blockIO?.weight) out.push(prop('IOWeight', 't', BigInt(blkioToIoWeight(r.blockIO.weight))));
  } else {
    if (m.limit) out.push(prop('MemoryLimit', 't', u64(m.limit)));
    if (c.shares) out.push(prop('CPUShares', 't', BigInt(c.shares)));
    if (r.blockIO?.weight) out.push(prop('BlockIOWeight', 't', BigInt(r.blockIO.weight)));
  }
  out.push(...cpuQuota(c.quota ?? 0, c.period ?? 0, ctx));
  if (r.pids?.limit !== undefined && (r.pids.limit > 0 || r.pids.limit === -1)) out.push(prop('TasksMax', 't', u64(r.pids.limit)));
  out.push(...cpuset(c.cpus, c.mems, 'linux.resources.cpu', ctx));
  if (ctx.version === 2 && r.unified) out.push(...unifiedProperties(r.unified, ctx));
  return out;
}

/** memory.swap as MemorySwapMax (swap minus the memory limit on v2), as runc converts it. */
function swapMax(swap: number | undefined, limit: number | undefined): bigint | undefined {
  if (!swap) return undefined;
  if (unlimited(swap)) return MAX_U64;
  if (!limit || unlimited(limit)) throw new RuntimeError(`linux.resources.memory.swap ${swap} needs a memory.limit (on cgroup v2 the swap limit is swap minus the memory limit)`);
  if (swap < limit) throw new RuntimeError(`linux.resources.memory.swap ${swap} is below memory.limit ${limit}`);
  return BigInt(swap - limit);
}

/** CPUQuotaPerSecUSec (rounded up to 10 ms, as systemd keeps it) and CPUQuotaPeriodUSec. */
function cpuQuota(quota: number, period: number, ctx: PropertyContext): Property[] {
  const out: Property[] = [];
  if (period && ctx.systemdVersion >= 242) out.push(prop('CPUQuotaPeriodUSec', 't', BigInt(period)));
  if (quota || period) {
    let perSec = MAX_U64;
    if (quota > 0 && !unlimited(quota)) {
      let us = Math.floor((quota * 1_000_000) / (period || DEFAULT_PERIOD));
      if (us % 10000 !== 0) us = (Math.floor(us / 10000) + 1) * 10000;
      perSec = BigInt(us);
    }
    out.push(prop('CPUQuotaPerSecUSec', 't', perSec));
  }
  return out;
}

/** "0-3,7" as systemd's CPU set bytes: bit N of the array is CPU N. */
export function listToBits(list: string, what: string): number[] {
  const ids = parseList(list);
  if (!ids) throw new RuntimeError(`${what}: "${list}" is not a list of numbers and ranges`);
  const bytes: number[] = [];
  for (const id of ids) {
    while (bytes.length <= id >> 3) bytes.push(0);
    bytes[id >> 3] |= 1 << (id & 7);
  }
  return bytes;
}

function cpuset(cpus: string | undefined, mems: string | undefined, where: string, ctx: PropertyContext): Property[] {
  // older systemd: the cgroup files alone carry them
  if (ctx.systemdVersion < 244) return [];
  const out: Property[] = [];
  if (cpus) out.push(prop('AllowedCPUs', 'ay', listToBits(cpus, `${where}.cpus`)));
  if (mems) out.push(prop('AllowedMemoryNodes', 'ay', listToBits(mems, `${where}.mems`)));
  return out;
}

/** linux.resources.unified keys systemd has properties for; the others go to the files alone. */
function unifiedProperties(unified: Record<string, string>, ctx: PropertyContext): Property[] {
  const out: Property[] = [];
  const num = (k: string, v: string) => {
    if (v === 'max') return MAX_U64;
    if (!/^\d+$/.test(v)) throw new RuntimeError(`linux.resources.unified["${k}"]: "${v}" is not a number or "max"`);
    return BigInt(v);
  };
  const memory: Record<string, string> = { 'memory.high': 'MemoryHigh', 'memory.low': 'MemoryLow', 'memory.min': 'MemoryMin', 'memory.max': 'MemoryMax', 'memory.swap.max': 'MemorySwapMax' };
  for (const [k, raw] of Object.entries(unified)) {
    const v = raw.trim();
    if (k === 'cpu.max') {
      const f = v.split(/\s+/);
      if (f.length < 1 || f.length > 2 || (f[0] !== 'max' && !/^\d+$/.test(f[0])) || (f[1] !== undefined && !/^\d+$/.test(f[1]))) {
        throw new RuntimeError(`linux.resources.unified["cpu.max"]: "${v}" is not "QUOTA [PERIOD]"`);
      }
      out.push(...cpuQuota(f[0] === 'max' ? 0 : Number(f[0]), f[1] === undefined ? DEFAULT_PERIOD : Number(f[1]), ctx));
    } else if (k === 'cpu.weight') {
      out.push(prop('CPUWeight', 't', num(k, v)));
    } else if (k === 'cpuset.cpus' || k === 'cpuset.mems') {
      out.push(...cpuset(k === 'cpuset.cpus' ? v : undefined, k === 'cpuset.mems' ? v : undefined, `linux.resources.unified["${k}"]`, ctx));
    } else if (memory[k]) {
      out.push(prop(memory[k], 't', num(k, v)));
    } else if (k === 'pids.max') {
      out.push(prop('TasksMax', 't', num(k, v)));
    }
  }
  return out;
}

/**
 * DevicePolicy and DeviceAllow for the container's device rules (its own,
 * the defaults every container gets but those linux.devices replaces). systemd has no deny
 * list: rules that end in "allow all but..." leave systemd allowing all, and
 * the runtime's own device program (written with the files) denies the rest.
 */
export function deviceProperties(rules: DeviceRule[] | undefined, ctx: PropertyContext): Property[] {
  const state = containerDeviceState(rules, ctx.devices);
  if (state.defaultAllow) return [prop('DevicePolicy', 's', 'auto'), prop('DeviceAllow', 'a(ss)', [])];
  const allow: [string, string][] = [];
  for (const e of state.exceptions) {
    const kind = e.type === 'b' ? 'block' : 'char';
    let where: string | undefined;
    if (e.major === -1) {
      if (e.minor !== -1) {
        ctx.warn(`systemd cannot express the device rule ${e.type} *:${e.minor}: left to the runtime's device program`);
        continue;
      }
      where = `${kind}-*`;
    } else if (e.minor === -1) {
      const group = deviceGroup(e.type, e.major);
      if (!group) {
        ctx.warn(`no ${kind} device group with major ${e.major} in /proc/devices: the rule is left to the runtime's device program`);
        continue;
      }
      where = `${kind}-${group}`;
    } else {
      where = `/dev/${kind}/${e.major}:${e.minor}`;
      if (!fs.existsSync(where) && !fs.existsSync(`/sys${where}`)) continue; // no such device on this host
    }
    allow.push([where, accessText(e.access)]);
  }
  return [prop('DevicePolicy', 's', 'strict'), prop('DeviceAllow', 'a(ss)', allow)];
}

/** The name /proc/devices gives the driver of `major` ("pts" for c 136). */
function deviceGroup(type: 'c' | 'b', major: number): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/devices', 'utf8');
  } catch {
    return undefined;
  }
  let section: 'c' | 'b' | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('Character devices:')) section = 'c';
    else if (line.startsWith('Block devices:')) section = 'b';
    else if (section === type) {
      const m = /^\s*(\d+)\s+(\S+)/.exec(line);
      if (m && Number(m[1]) === major) return m[2];
    }
  }
  return undefined;
}
