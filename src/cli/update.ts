import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { updateContainer, readResourcesFile } from '../container/cgroup-ops';
import { type LinuxResources } from '../cgroups/resources';
import { RuntimeError } from '../errors';

const STRING_FLAGS: [name: string, describe: string][] = [
  ['blkio-weight', 'Specifies per cgroup weight, range is from 10 to 1000'],
  ['cpu-period', 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default'],
  ['cpu-quota', 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period'],
  ['cpu-share', 'CPU shares (relative weight vs. other containers)'],
  ['cpu-rt-period', 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default'],
  ['cpu-rt-runtime', 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period'],
  ['cpuset-cpus', 'CPU(s) to use'],
  ['cpuset-mems', 'Memory node(s) to use'],
  ['kernel-memory', 'Kernel memory limit (in bytes); ignored where the kernel has no kernel memory limits'],
  ['kernel-memory-tcp', 'Kernel memory limit (in bytes) for tcp buffer'],
  ['memory', 'Memory limit (in bytes)'],
  ['memory-reservation', 'Memory reservation or soft_limit (in bytes)'],
  ['memory-swap', "Total memory usage (memory + swap); set '-1' to enable unlimited swap"],
  ['pids-limit', 'Maximum number of pids allowed in the container'],
  ['l3-cache-schema', 'The string of Intel RDT/CAT L3 cache schema'],
  ['mem-bw-schema', 'The string of Intel RDT/MBA memory bandwidth schema'],
];

export const builder = (y: Argv) => {
  let out = y.option('resources', {
    alias: 'r',
    type: 'string',
    nargs: 1, // so that "-" (stdin) is taken as the value
    describe: "path to the file containing the resources to update or '-' to read from the standard input (then all other options are ignored)",
  });
  for (const [name, describe] of STRING_FLAGS) {
    out = out.option(name, { type: 'string', describe, ...(name === 'cpu-share' ? { alias: 'cpu-shares' } : {}) });
  }
  return out;
};

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** A byte count with an optional binary unit ("512", "100m", "1.5GiB"), or -1. */
export function parseBytes(flag: string, text: string): number {
  if (text === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?(?:i?b)?$/i.exec(text);
  if (!m) throw new RuntimeError(`invalid value for ${flag}: invalid size: '${text}'`);
  return Math.trunc(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]);
}

function parseUint(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new RuntimeError(`invalid value for ${flag}: "${text}" is not an unsigned integer`);
  return Number(text);
}

function parseInt64(flag: string, text: string): number {
  if (!/^-?\d+$/.test(text)) throw new RuntimeError(`invalid value for ${flag}: "${text}" is not an integer`);
  return Number(text);
}

type Flags = Record<string, string | undefined> & { id?: string };

/** The resources the flags ask for (only the ones given). */
export function resourcesFromFlags(argv: Flags): LinuxResources {
  const given = (name: string) => (typeof argv[name] === 'string' && argv[name] !== '' ? argv[name] : undefined);
  const r: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  const memFlags: [string, keyof typeof memory][] = [
    ['memory', 'limit'], ['memory-reservation', 'reservation'], ['memory-swap', 'swap'],
    ['kernel-memory', 'kernel'], ['kernel-memory-tcp', 'kernelTCP'],
  ];
  for (const [flag, key] of memFlags) {
    const v = given(flag);
    if (v !== undefined) (memory as Record<string, number>)[key] = parseBytes(flag, v);
  }
  if (Object.keys(memory).length) r.memory = memory;

  const cpu: NonNullable<LinuxResources['cpu']> = {};
  const u = (flag: string) => (given(flag) !== undefined ? parseUint(flag, given(flag)!) : undefined);
  const i = (flag: string) => (given(flag) !== undefined ? parseInt64(flag, given(flag)!) : undefined);
  cpu.period = u('cpu-period');
  cpu.quota = i('cpu-quota');
  cpu.shares = u('cpu-share');
  cpu.realtimePeriod = u('cpu-rt-period');
  cpu.realtimeRuntime = i('cpu-rt-runtime');
  cpu.cpus = given('cpuset-cpus');
  cpu.mems = given('cpuset-mems');
  for (const k of Object.keys(cpu) as (keyof typeof cpu)[]) if (cpu[k] === undefined) delete cpu[k];
  if (Object.keys(cpu).length) r.cpu = cpu;

  const weight = u('blkio-weight');
  if (weight !== undefined) r.blockIO = { weight };
  const pids = i('pids-limit');
  if (pids !== undefined) r.pids = { limit: pids };
  if (given('l3-cache-schema') !== undefined || given('mem-bw-schema') !== undefined) {
    throw new RuntimeError('Intel RDT is not supported by tsrunc');
  }
  return r;
}

export const handler = action<Flags>((argv, ctx) => {
  const id = requireId(argv, 'update');
  const warn = (m: string) => ctx.logger.warn(m);
  const file = argv.resources;
  if (file !== undefined && file !== '') {
    updateContainer(ctx.store, id, readResourcesFile(file), { warn, where: 'resources' });
    return;
  }
  updateContainer(ctx.store, id, resourcesFromFlags(argv), { warn });
});
