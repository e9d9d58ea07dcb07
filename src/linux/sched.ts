// process.scheduler, process.ioPriority, linux.personality and CPU affinity:
// the kernel's tables and calls. The init applies them right before exec, so
// they describe the container's process only; bundle/semantic checks names
// against the same tables.
import { lib } from './ffi';
import { fail, ptr } from './sys';

const X64 = process.arch !== 'arm64';
const SYS_sched_setattr = X64 ? 314 : 274;
const SYS_ioprio_set = X64 ? 251 : 30;

export const SCHED_POLICIES: Record<string, number> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};
export const SCHED_FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08, SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};
export const IOPRIO_CLASSES: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
export const PERSONALITY_DOMAINS: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

export interface Scheduler {
  policy: string;
  nice?: number;
  priority?: number;
  flags?: string[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

export function applyScheduler(s: Scheduler): void {
  // struct sched_attr (SCHED_ATTR_SIZE_VER1, 56 bytes)
  const attr = Buffer.alloc(56);
  attr.writeUInt32LE(56, 0);
  attr.writeUInt32LE(SCHED_POLICIES[s.policy], 4);
  let flags = 0;
  for (const f of s.flags ?? []) flags |= SCHED_FLAGS[f];
  attr.writeBigUInt64LE(BigInt(flags), 8);
  attr.writeInt32LE(s.nice ?? 0, 16);
  attr.writeUInt32LE(s.priority ?? 0, 20);
  attr.writeBigUInt64LE(BigInt(s.runtime ?? 0), 24);
  attr.writeBigUInt64LE(BigInt(s.deadline ?? 0), 32);
  attr.writeBigUInt64LE(BigInt(s.period ?? 0), 40);
  if (Number(lib().syscall6(SYS_sched_setattr, 0, ptr(attr), 0, 0, 0)) < 0) {
    fail('sched_setattr', [s.policy, `nice=${s.nice ?? 0}`, `priority=${s.priority ?? 0}`]);
  }
}

export function applyIoPriority(p: { class: string; priority: number }): void {
  const value = (IOPRIO_CLASSES[p.class] << 13) | p.priority;
  if (Number(lib().syscall6(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, value, 0, 0)) < 0) {
    fail('ioprio_set', [p.class, p.priority]);
  }
}

export function applyPersonality(p: { domain: string }): void {
  if (lib().personality(PERSONALITY_DOMAINS[p.domain]) < 0) fail('personality', [p.domain]);
}

/** Parses "0-3,7" into CPU numbers; undefined when malformed. */
export function parseCpuList(list: string): number[] | undefined {
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return cpus;
}

export function setAffinity(cpus: number[]): void {
  const mask = Buffer.alloc(128);
  for (const c of cpus) mask[c >> 3] |= 1 << (c & 7);
  if (lib().sched_setaffinity(0, mask.length, mask) < 0) fail('sched_setaffinity', [cpus.join(',')]);
}
