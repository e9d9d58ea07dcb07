// Container statistics for `events`, shaped like runc's (types/events.go):
// the same field names, and fields runc leaves out when zero are left out.
// Counters are bigint so 64-bit values print exactly.
import * as fs from 'fs';
import { readText, readU64, readKeyed } from './fsutil';
import { parseList } from './cpuset';

export type Json = bigint | number | string | boolean | null | Json[] | { [k: string]: Json | undefined };

/** JSON text with bigints as plain digits (JSON.stringify refuses them). */
export function toJson(v: Json | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => toJson(x)).join(',')}]`;
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v)) if (x !== undefined) parts.push(`${JSON.stringify(k)}:${toJson(x)}`);
  return `{${parts.join(',')}}`;
}

/** A value Go's `omitempty` would drop when zero. */
function opt(v: bigint | undefined): bigint | undefined {
  return v ? v : undefined;
}

function optList<T>(v: T[] | undefined): T[] | undefined {
  return v && v.length ? v : undefined;
}

const U64_MAX = (1n << 64n) - 1n;
const NS_PER_USEC = 1000n;
/** cpuacct.stat counts USER_HZ ticks (100 per second on Linux). */
const NS_PER_TICK = 10_000_000n;

function memEntry(limit: bigint | undefined, usage: bigint | undefined, max: bigint | undefined, failcnt: bigint | undefined): Json {
  return { limit: limit ?? 0n, usage: opt(usage), max: opt(max), failcnt: failcnt ?? 0n };
}

function numberList(text: string | undefined): number[] | undefined {
  const t = text?.trim();
  if (!t) return undefined;
  return parseList(t);
}

function cpusetStats(dir: string | undefined, v2: boolean): Json {
  const get = (f: string) => (dir ? readU64(dir, f) ?? 0n : 0n);
  const relax = dir ? Number((readText(dir, 'cpuset.sched_relax_domain_level') ?? '').trim() || (v2 ? 0 : -1)) : 0;
  return {
    cpus: optList(dir ? numberList(readText(dir, v2 ? 'cpuset.cpus.effective' : 'cpuset.cpus')) : undefined),
    cpu_exclusive: get('cpuset.cpu_exclusive'),
    mems: optList(dir ? numberList(readText(dir, v2 ? 'cpuset.mems.effective' : 'cpuset.mems')) : undefined),
    mem_hardwall: get('cpuset.mem_hardwall'),
    mem_exclusive: get('cpuset.mem_exclusive'),
    memory_migrate: get('cpuset.memory_migrate'),
    memory_spread_page: get('cpuset.memory_spread_page'),
    memory_spread_slab: get('cpuset.memory_spread_slab'),
    memory_pressure: get('cpuset.memory_pressure'),
    sched_load_balance: get('cpuset.sched_load_balance'),
    sched_relax_domain_level: relax,
  };
}

function bigList(text: string | undefined): bigint[] | undefined {
  const t = text?.trim();
  if (!t) return undefined;
  return t.split(/\s+/).filter((x) => /^\d+$/.test(x)).map((x) => BigInt(x));
}

/** blkio "MAJ:MIN Op value" lines; per-device "Total" kept, the summary "Total N" line dropped. */
function blkioEntries(text: string | undefined): Json[] | undefined {
  const out: Json[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    let major = 0n;
    let minor = 0n;
    let op = '';
    let value: bigint;
    if (f.length === 3 && /^\d+:\d+$/.test(f[0])) {
      [major, minor] = f[0].split(':').map((x) => BigInt(x)) as [bigint, bigint];
      op = f[1];
      value = BigInt(f[2]);
    } else if (f.length === 2 && /^\d+:\d+$/.test(f[0])) {
      [major, minor] = f[0].split(':').map((x) => BigInt(x)) as [bigint, bigint];
      value = BigInt(f[1]);
    } else {
      continue;
    }
    out.push({ major: opt(major), minor: opt(minor), op: op || undefined, value: opt(value) });
  }
  return optList(out);
}

function hugetlbSizes(dir: string | undefined, suffix: string): string[] {
  if (!dir) return [];
  try {
    return fs
      .readdirSync(dir)
      .map((f) => new RegExp(`^hugetlb\\.([0-9]+[KMG]B)\\.${suffix.replace(/\./g, '\\.')}$`).exec(f)?.[1])
      .filter((x): x is string => Boolean(x));
  } catch {
    return [];
  }
}

/** Stats of a v1 container; `paths` maps hierarchy names to its directories. */
export function statsV1(paths: Record<string, string>): Json {
  const dirOf = (c: string) => Object.entries(paths).find(([name]) => name.split(',').includes(c))?.[1];
  const cpuacct = dirOf('cpuacct');
  const cpu = dirOf('cpu');
  const mem = dirOf('memory');
  const pids = dirOf('pids');
  const blkio = dirOf('blkio');
  const hugetlb = dirOf('hugetlb');

  const acctStat = cpuacct ? readKeyed(cpuacct, 'cpuacct.stat') : new Map<string, bigint>();
  const throttle = cpu ? readKeyed(cpu, 'cpu.stat') : new Map<string, bigint>();
  const cpuStats = {
    usage: {
      total: opt(cpuacct ? readU64(cpuacct, 'cpuacct.usage') : undefined),
      percpu: optList(cpuacct ? bigList(readText(cpuacct, 'cpuacct.usage_percpu')) : undefined),
      percpu_kernel: optList(cpuacct ? bigList(readText(cpuacct, 'cpuacct.usage_percpu_sys')) : undefined),
      percpu_user: optList(cpuacct ? bigList(readText(cpuacct, 'cpuacct.usage_percpu_user')) : undefined),
      kernel: (acctStat.get('system') ?? 0n) * NS_PER_TICK,
      user: (acctStat.get('user') ?? 0n) * NS_PER_TICK,
    },
    throttling: {
      periods: opt(throttle.get('nr_periods')),
      throttledPeriods: opt(throttle.get('nr_throttled')),
      throttledTime: opt(throttle.get('throttled_time')),
    },
  };

  let memory: Json = { usage: memEntry(0n, 0n, 0n, 0n), swap: memEntry(0n, 0n, 0n, 0n), kernel: memEntry(0n, 0n, 0n, 0n), kernelTCP: memEntry(0n, 0n, 0n, 0n) };
  if (mem) {
    const entry = (prefix: string) =>
      memEntry(readU64(mem, `${prefix}limit_in_bytes`), readU64(mem, `${prefix}usage_in_bytes`), readU64(mem, `${prefix}max_usage_in_bytes`), readU64(mem, `${prefix}failcnt`));
    const raw = readKeyed(mem, 'memory.stat');
    const rawObj: Record<string, Json> = {};
    for (const k of [...raw.keys()].sort()) rawObj[k] = raw.get(k)!;
    memory = {
      cache: opt(raw.get('cache')),
      usage: entry('memory.'),
      swap: entry('memory.memsw.'),
      kernel: entry('memory.kmem.'),
      kernelTCP: entry('memory.kmem.tcp.'),
      raw: raw.size ? rawObj : undefined,
    };
  }

  let blk: Record<string, Json | undefined> = {};
  if (blkio) {
    // CFQ's files where the kernel still has them, then BFQ's, then the throttle layer's
    const pick = (name: string) =>
      readText(blkio, `blkio.${name}`) ?? readText(blkio, `blkio.bfq.${name}`) ?? readText(blkio, `blkio.throttle.${name}`);
    blk = {
      ioServiceBytesRecursive: blkioEntries(pick('io_service_bytes_recursive')),
      ioServicedRecursive: blkioEntries(pick('io_serviced_recursive')),
      ioQueueRecursive: blkioEntries(readText(blkio, 'blkio.io_queued_recursive')),
      ioServiceTimeRecursive: blkioEntries(readText(blkio, 'blkio.io_service_time_recursive')),
      ioWaitTimeRecursive: blkioEntries(readText(blkio, 'blkio.io_wait_time_recursive')),
      ioMergedRecursive: blkioEntries(readText(blkio, 'blkio.io_merged_recursive')),
      ioTimeRecursive: blkioEntries(readText(blkio, 'blkio.time_recursive')),
      sectorsRecursive: blkioEntries(readText(blkio, 'blkio.sectors_recursive')),
    };
  }

  const huge: Record<string, Json> = {};
  for (const size of hugetlbSizes(hugetlb, 'limit_in_bytes')) {
    huge[size] = {
      usage: opt(readU64(hugetlb!, `hugetlb.${size}.usage_in_bytes`)),
      max: opt(readU64(hugetlb!, `hugetlb.${size}.max_usage_in_bytes`)),
      failcnt: readU64(hugetlb!, `hugetlb.${size}.failcnt`) ?? 0n,
    };
  }

  return {
    cpu: cpuStats,
    cpuset: cpusetStats(dirOf('cpuset'), false),
    memory,
    pids: { current: opt(pids ? readU64(pids, 'pids.current') : undefined), limit: opt(pids ? readU64(pids, 'pids.max') : undefined) },
    blkio: blk,
    hugetlb: huge,
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** Stats of a v2 container in `dir`, mapped onto the same shape. */
export function statsV2(dir: string): Json {
  const cpu = readKeyed(dir, 'cpu.stat');
  const memStat = readKeyed(dir, 'memory.stat');
  const memEvents = readKeyed(dir, 'memory.events');
  const limitOf = (f: string) => {
    const t = readText(dir, f)?.trim();
    return t === 'max' ? U64_MAX : t && /^\d+$/.test(t) ? BigInt(t) : undefined;
  };
  const rawObj: Record<string, Json> = {};
  for (const k of [...memStat.keys()].sort()) rawObj[k] = memStat.get(k)!;
  const memUsage = readU64(dir, 'memory.current');
  const swapUsage = readU64(dir, 'memory.swap.current');
  const memLimit = limitOf('memory.max');
  const swapLimit = limitOf('memory.swap.max');

  // io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=.."
  const bytes: Json[] = [];
  const ios: Json[] = [];
  for (const line of (readText(dir, 'io.stat') ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    const kv = new Map(f.slice(1).map((x) => x.split('=') as [string, string]));
    const entry = (op: string, v: string | undefined) => ({ major: opt(BigInt(dev[1])), minor: opt(BigInt(dev[2])), op, value: opt(BigInt(v ?? '0')) });
    bytes.push(entry('Read', kv.get('rbytes')), entry('Write', kv.get('wbytes')));
    ios.push(entry('Read', kv.get('rios')), entry('Write', kv.get('wios')));
  }

  const huge: Record<string, Json> = {};
  for (const size of hugetlbSizes(dir, 'max')) {
    const max = limitOf(`hugetlb.${size}.max`);
    huge[size] = {
      usage: opt(readU64(dir, `hugetlb.${size}.current`)),
      max: opt(max),
      failcnt: readKeyed(dir, `hugetlb.${size}.events`).get('max') ?? 0n,
    };
  }

  return {
    cpu: {
      usage: {
        total: opt((cpu.get('usage_usec') ?? 0n) * NS_PER_USEC),
        kernel: (cpu.get('system_usec') ?? 0n) * NS_PER_USEC,
        user: (cpu.get('user_usec') ?? 0n) * NS_PER_USEC,
      },
      throttling: {
        periods: opt(cpu.get('nr_periods')),
        throttledPeriods: opt(cpu.get('nr_throttled')),
        throttledTime: opt((cpu.get('throttled_usec') ?? 0n) * NS_PER_USEC),
      },
    },
    cpuset: cpusetStats(dir, true),
    memory: {
      cache: opt(memStat.get('file')),
      usage: memEntry(memLimit, memUsage, readU64(dir, 'memory.peak'), memEvents.get('max')),
      // as runc reports it on v2: swap usage counts memory too
      swap: memEntry(swapLimit !== undefined && memLimit !== undefined ? (swapLimit === U64_MAX || memLimit === U64_MAX ? U64_MAX : swapLimit + memLimit) : undefined,
        swapUsage !== undefined ? swapUsage + (memUsage ?? 0n) : undefined, undefined, undefined),
      kernel: memEntry(0n, opt(memStat.get('kernel') ?? memStat.get('kernel_stack')), undefined, 0n),
      kernelTCP: memEntry(0n, opt(memStat.get('sock')), undefined, 0n),
      raw: memStat.size ? rawObj : undefined,
    },
    pids: { current: opt(readU64(dir, 'pids.current')), limit: opt(readU64(dir, 'pids.max')) },
    blkio: { ioServiceBytesRecursive: optList(bytes), ioServicedRecursive: optList(ios) },
    hugetlb: huge,
    intel_rdt: {},
    network_interfaces: null,
  };
}
