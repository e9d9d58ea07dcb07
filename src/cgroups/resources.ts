// linux.resources (config-linux.md "Control groups"): types, the checks that
// run before anything is created, and the conversions of v1-style values to
// cgroup v2 files (as runc converts them, so the same config means the same
// thing on both versions).
import * as fs from 'fs';
import { parseList, formatList } from './cpuset';
import { RuntimeError } from '../errors';

export interface DeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

export interface MemoryResources {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface CpuResources {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface WeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface BlockIOResources {
  weight?: number;
  leafWeight?: number;
  weightDevice?: WeightDevice[];
  throttleReadBpsDevice?: ThrottleDevice[];
  throttleWriteBpsDevice?: ThrottleDevice[];
  throttleReadIOPSDevice?: ThrottleDevice[];
  throttleWriteIOPSDevice?: ThrottleDevice[];
}

export interface LinuxResources {
  devices?: DeviceRule[];
  memory?: MemoryResources;
  cpu?: CpuResources;
  pids?: { limit?: number };
  blockIO?: BlockIOResources;
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  unified?: Record<string, string>;
}

/** The four blockIO throttle lists, by what they limit. */
export type ThrottleKind = 'readBps' | 'writeBps' | 'readIOPS' | 'writeIOPS';

const THROTTLE_LISTS: [ThrottleKind, keyof BlockIOResources][] = [
  ['readBps', 'throttleReadBpsDevice'],
  ['writeBps', 'throttleWriteBpsDevice'],
  ['readIOPS', 'throttleReadIOPSDevice'],
  ['writeIOPS', 'throttleWriteIOPSDevice'],
];

/** Every entry of the throttle lists of `b`, list by list, with what it limits. */
export function throttleEntries(b: BlockIOResources): { kind: ThrottleKind; device: ThrottleDevice }[] {
  return THROTTLE_LISTS.flatMap(([kind, key]) => ((b[key] as ThrottleDevice[] | undefined) ?? []).map((device) => ({ kind, device })));
}

/** What apply() may be told besides the resources. */
export interface ApplyOptions {
  /** Where warnings go (settings this kernel ignores, as runc warns about them). */
  warn?: (msg: string) => void;
  /** linux.devices: a default rule whose node one of them replaces (same path) is left out, as runc does. */
  devices?: { path: string; type: string; major?: number; minor?: number }[];
  /**
   * `update` of a running container: device rules are left as they are (runc's
   * update does not touch them either), and checkBeforeUpdate is honoured.
   */
  update?: boolean;
  /** How messages name the resources: "linux.resources" (the default) or what `update` was given. */
  where?: string;
}

/** The CPUs and memory nodes a container may ask for. */
export interface HostLimits {
  cpus: Set<number>;
  mems: Set<number>;
}

function readListFile(file: string, fallback: string): Set<number> {
  let text = fallback;
  try {
    text = fs.readFileSync(file, 'utf8').trim() || fallback;
  } catch {
    /* no such file: use the fallback */
  }
  return new Set(parseList(text) ?? []);
}

/** This host's online CPUs and memory nodes. */
export function hostLimits(): HostLimits {
  return {
    cpus: readListFile('/sys/devices/system/cpu/online', '0'),
    mems: readListFile('/sys/devices/system/node/online', '0'),
  };
}

// Values at or above 2^63 (Go's math.MaxInt64 / uint64(-1) after JSON.parse
// turned them into doubles) mean "no limit" or "unset".
const HUGE = 2 ** 63;

export function isHuge(n: number | undefined): boolean {
  return typeof n === 'number' && n >= HUGE;
}

/** A limit in the form cgroup files take it: "-1"/"max" for unlimited, exact digits otherwise. */
export function digits(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString();
}

/** Whether a memory-style value is "no limit" (-1 or a huge number). */
export function unlimited(n: number | undefined): boolean {
  return n === -1 || isHuge(n);
}

/** linux.resources.unified on a cgroup v1 host: runc's error ("invalid configuration: ..."), naming the field and its keys. */
export function unifiedOnV1Error(unified: Record<string, string>, where: string): RuntimeError {
  return new RuntimeError(`invalid configuration: cannot use unified on cgroup v1 (${where}.unified: ${Object.keys(unified).join(', ')})`);
}

/** Checks linux.resources; returns one message per problem, each naming its field under `where`. */
export function resourceProblems(r: unknown, where: string, host: HostLimits = hostLimits()): string[] {
  const problems: string[] = [];
  if (r === undefined || r === null) return problems;
  if (!isObject(r)) return [`${where}: must be an object`];
  const res = r as Record<string, unknown>;

  const int = (v: unknown, field: string, min: number, max: number, what: string): boolean => {
    if (v === undefined || v === null) return true;
    if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isInteger(v)) {
      problems.push(`${field}: ${JSON.stringify(v)} is not an integer`);
      return false;
    }
    if (v < min || v > max) {
      problems.push(`${field}: ${v} is out of range (${what})`);
      return false;
    }
    return true;
  };
  const bool = (v: unknown, field: string) => {
    if (v !== undefined && v !== null && typeof v !== 'boolean') problems.push(`${field}: ${JSON.stringify(v)} is not true or false`);
  };
  const obj = (v: unknown, field: string): Record<string, unknown> | undefined => {
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) {
      problems.push(`${field}: must be an object`);
      return undefined;
    }
    return v as Record<string, unknown>;
  };
  const arr = (v: unknown, field: string): unknown[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      problems.push(`${field}: must be an array`);
      return [];
    }
    return v;
  };
  const BYTES = 'a byte count, or -1 for no limit';
  const U64 = 2 ** 64;
  const U32 = 2 ** 32 - 1;

  const mem = obj(res.memory, `${where}.memory`);
  if (mem) {
    for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']) int(mem[k], `${where}.memory.${k}`, -1, U64, BYTES);
    const sw = mem.swappiness;
    if (!isHuge(sw as number)) int(sw, `${where}.memory.swappiness`, 0, 100, '0 to 100');
    for (const k of ['disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']) bool(mem[k], `${where}.memory.${k}`);
    const limit = mem.limit as number | undefined;
    const swap = mem.swap as number | undefined;
    if (typeof limit === 'number' && typeof swap === 'number' && limit > 0 && swap > 0 && !unlimited(limit) && !unlimited(swap) && swap < limit) {
      problems.push(`${where}.memory.swap: ${swap} is below memory.limit ${limit} (swap is the limit of memory plus swap)`);
    }
    if (unlimited(limit) && typeof swap === 'number' && swap > 0 && !unlimited(swap)) {
      problems.push(`${where}.memory.swap: ${swap} limits memory plus swap, but memory.limit is -1 (no limit)`);
    }
  }

  const cpu = obj(res.cpu, `${where}.cpu`);
  if (cpu) {
    int(cpu.shares, `${where}.cpu.shares`, 0, U64, 'a relative weight, at least 0');
    int(cpu.quota, `${where}.cpu.quota`, -1, U64, 'microseconds, or -1 for no limit');
    int(cpu.burst, `${where}.cpu.burst`, 0, U64, 'microseconds');
    int(cpu.period, `${where}.cpu.period`, 0, U64, 'microseconds');
    int(cpu.realtimeRuntime, `${where}.cpu.realtimeRuntime`, -1, U64, 'microseconds, or -1 for no limit');
    int(cpu.realtimePeriod, `${where}.cpu.realtimePeriod`, 0, U64, 'microseconds');
    int(cpu.idle, `${where}.cpu.idle`, 0, 1, '0 or 1');
    const quota = cpu.quota as number | undefined;
    const burst = cpu.burst as number | undefined;
    if (typeof quota === 'number' && quota > 0 && typeof burst === 'number' && burst > quota) {
      problems.push(`${where}.cpu.burst: ${burst} is larger than cpu.quota ${quota}`);
    }
    for (const [k, allowed, noun] of [['cpus', host.cpus, 'CPU'], ['mems', host.mems, 'memory node']] as const) {
      const v = cpu[k];
      if (v === undefined || v === null || v === '') continue;
      if (typeof v !== 'string') {
        problems.push(`${where}.cpu.${k}: ${JSON.stringify(v)} is not a list like "0-3,7"`);
        continue;
      }
      const list = parseList(v);
      if (!list) {
        problems.push(`${where}.cpu.${k}: "${v}" is not a list like "0-3,7"`);
        continue;
      }
      const outside = list.filter((n) => !allowed.has(n));
      if (outside.length) {
        problems.push(`${where}.cpu.${k}: ${noun} ${formatList(outside)} not on this host (it has ${formatList([...allowed])})`);
      }
    }
  }

  const pids = obj(res.pids, `${where}.pids`);
  if (pids) int(pids.limit, `${where}.pids.limit`, -1, U64, 'a number of tasks, or -1 for no limit');

  const bio = obj(res.blockIO, `${where}.blockIO`);
  if (bio) {
    // CFQ took 10..1000, BFQ takes 1..1000: what no kernel takes is refused here, the rest by the kernel
    const WEIGHT = '1 to 1000';
    const weight = (v: unknown, f: string) => {
      if (v === 0) return; // unset, as runc reads it
      int(v, f, 1, 1000, WEIGHT);
    };
    weight(bio.weight, `${where}.blockIO.weight`);
    weight(bio.leafWeight, `${where}.blockIO.leafWeight`);
    arr(bio.weightDevice, `${where}.blockIO.weightDevice`).forEach((d, i) => {
      const f = `${where}.blockIO.weightDevice[${i}]`;
      const o = obj(d, f);
      if (!o) return;
      int(o.major, `${f}.major`, 0, U32, 'a device major number');
      int(o.minor, `${f}.minor`, 0, U32, 'a device minor number');
      if (o.major === undefined || o.minor === undefined) problems.push(`${f}: major and minor are required`);
      weight(o.weight, `${f}.weight`);
      weight(o.leafWeight, `${f}.leafWeight`);
      if (o.weight === undefined && o.leafWeight === undefined) problems.push(`${f}: needs weight or leafWeight`);
    });
    for (const k of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']) {
      arr(bio[k], `${where}.blockIO.${k}`).forEach((d, i) => {
        const f = `${where}.blockIO.${k}[${i}]`;
        const o = obj(d, f);
        if (!o) return;
        int(o.major, `${f}.major`, 0, U32, 'a device major number');
        int(o.minor, `${f}.minor`, 0, U32, 'a device minor number');
        int(o.rate, `${f}.rate`, 0, U64, 'a rate, at least 0');
        if (o.major === undefined || o.minor === undefined || o.rate === undefined) problems.push(`${f}: major, minor and rate are required`);
      });
    }
  }

  arr(res.hugepageLimits, `${where}.hugepageLimits`).forEach((h, i) => {
    const f = `${where}.hugepageLimits[${i}]`;
    const o = obj(h, f);
    if (!o) return;
    if (typeof o.pageSize !== 'string' || !/^[1-9][0-9]*[KMG]B$/.test(o.pageSize)) {
      problems.push(`${f}.pageSize: ${JSON.stringify(o.pageSize)} is not a size like 2MB, 1GB or 64KB`);
    }
    if (o.limit === undefined) problems.push(`${f}.limit: is required`);
    int(o.limit, `${f}.limit`, 0, U64, 'bytes');
  });

  const net = obj(res.network, `${where}.network`);
  if (net) {
    int(net.classID, `${where}.network.classID`, 0, U32, 'a 32-bit class id');
    arr(net.priorities, `${where}.network.priorities`).forEach((p, i) => {
      const f = `${where}.network.priorities[${i}]`;
      const o = obj(p, f);
      if (!o) return;
      if (typeof o.name !== 'string' || !/^[^\s/]+$/.test(o.name)) problems.push(`${f}.name: ${JSON.stringify(o.name)} is not an interface name`);
      if (o.priority === undefined) problems.push(`${f}.priority: is required`);
      int(o.priority, `${f}.priority`, 0, U32, 'a 32-bit priority');
    });
  }

  const rdma = obj(res.rdma, `${where}.rdma`);
  if (rdma) {
    for (const [dev, v] of Object.entries(rdma)) {
      const f = `${where}.rdma.${dev}`;
      if (!/^[^\s=]+$/.test(dev)) problems.push(`${f}: "${dev}" is not a device name`);
      const o = obj(v, f);
      if (!o) continue;
      int(o.hcaHandles, `${f}.hcaHandles`, 0, U32, 'a count');
      int(o.hcaObjects, `${f}.hcaObjects`, 0, U32, 'a count');
      if (o.hcaHandles === undefined && o.hcaObjects === undefined) problems.push(`${f}: needs hcaHandles or hcaObjects`);
    }
  }

  const unified = obj(res.unified, `${where}.unified`);
  if (unified) {
    for (const [k, v] of Object.entries(unified)) {
      if (!/^[a-z0-9_]+\.[A-Za-z0-9_.]+$/.test(k) || k.includes('..')) problems.push(`${where}.unified: "${k}" is not a cgroup file name`);
      if (typeof v !== 'string') problems.push(`${where}.unified.${k}: ${JSON.stringify(v)} is not a string`);
    }
  }

  arr(res.devices, `${where}.devices`).forEach((d, i) => {
    const f = `${where}.devices[${i}]`;
    const o = obj(d, f);
    if (!o) return;
    if (typeof o.allow !== 'boolean') problems.push(`${f}.allow: is required (true or false)`);
    if (o.type !== undefined && o.type !== null && !['a', 'c', 'b'].includes(o.type as string)) {
      problems.push(`${f}.type: ${JSON.stringify(o.type)} is not one of a, c, b`);
    }
    int(o.major, `${f}.major`, -1, U32, 'a device major number, or -1 for all');
    int(o.minor, `${f}.minor`, -1, U32, 'a device minor number, or -1 for all');
    // runc 1.1.5 ignores letters other than r, w and m ("rwq" is "rw") but
    // fails on an access with none of them
    if (o.access !== undefined && o.access !== null && (typeof o.access !== 'string' || (o.access !== '' && !/[rwm]/.test(o.access)))) {
      problems.push(`${f}.access: ${JSON.stringify(o.access)} has none of r, w and m`);
    }
  });
  return problems;
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- v1 -> v2 conversions ----

/** cpu.shares (2..262144) to cpu.weight (1..10000), linearly, as runc maps them; 0 stays unset. */
export function sharesToWeight(shares: number): number {
  if (!shares) return 0;
  const s = Math.min(Math.max(shares, 2), 262144);
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

/** blkio weight (10..1000) to io.weight (1..10000), as runc maps them; 0 stays unset. */
export function blkioToIoWeight(weight: number): number {
  if (!weight) return 0;
  const w = Math.min(Math.max(weight, 10), 1000);
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

/**
 * memory.swap.max from v1's swap (the limit of memory plus swap) and the memory
 * limit: swap - limit. Returns undefined to leave the file alone, "max" for no
 * limit; throws on combinations v2 cannot express.
 */
export function swapToV2(swap: number | undefined, limit: number | undefined): string | undefined {
  // no memory limit and swap not given: v1 would have lifted both limits
  if (unlimited(limit) && (swap === undefined || swap === 0)) return 'max';
  if (swap === undefined || swap === 0) return undefined;
  if (unlimited(swap)) return 'max';
  if (limit === undefined || limit === 0 || unlimited(limit)) {
    throw new Error(`cannot set memory.swap.max: memory.swap ${swap} needs a memory.limit (on cgroup v2 the swap limit is swap minus the memory limit)`);
  }
  if (swap < limit) throw new Error(`cannot set memory.swap.max: memory.swap ${swap} is below memory.limit ${limit}`);
  return digits(swap - limit);
}

/** Merges `delta` into `base` (fields given in delta win; nested objects merged one level down). */
export function mergeResources(base: LinuxResources, delta: LinuxResources): LinuxResources {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(delta)) {
    if (v === undefined) continue;
    const old = out[k];
    out[k] = isObject(v) && isObject(old) ? { ...(old as object), ...(v as object) } : v;
  }
  return out as LinuxResources;
}
