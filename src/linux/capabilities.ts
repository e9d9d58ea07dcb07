// Capability names and the calls that set the five capability sets.
import * as fs from 'fs';
import { lib } from './ffi';
import * as C from './constants';
import { prctl, fail } from './sys';

export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Number of a capability name, or undefined when unknown. */
export function capNumber(name: string): number | undefined {
  const i = (CAPABILITIES as readonly string[]).indexOf(name);
  return i < 0 ? undefined : i;
}

let lastCap: number | undefined;
/** Highest capability the running kernel knows. */
export function kernelLastCap(): number {
  if (lastCap === undefined) {
    try {
      lastCap = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    } catch {
      lastCap = CAPABILITIES.length - 1;
    }
  }
  return lastCap;
}

/** Bounding set of this process as a bitmask. */
export function currentBoundingSet(): bigint {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt('0x' + m[1]) : 0n;
}

function mask(caps: number[]): bigint {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(c);
  return m;
}

/** Drops every capability not in `keep` from the bounding set. */
export function limitBoundingSet(keep: number[]): void {
  const k = mask(keep);
  for (let c = 0; c <= kernelLastCap(); c++) {
    if (k & (1n << BigInt(c))) continue;
    prctl(C.PR_CAPBSET_DROP, c);
  }
}

/** capset(2) with the version-3 (64-bit) layout. */
export function setCapabilities(effective: number[], permitted: number[], inheritable: number[]): void {
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(0x20080522, 0); // _LINUX_CAPABILITY_VERSION_3
  hdr.writeInt32LE(0, 4);
  const data = Buffer.alloc(24);
  const sets = [mask(effective), mask(permitted), mask(inheritable)];
  for (let half = 0; half < 2; half++) {
    for (let s = 0; s < 3; s++) {
      data.writeUInt32LE(Number((sets[s] >> BigInt(32 * half)) & 0xffffffffn), half * 12 + s * 4);
    }
  }
  if (lib().capset(hdr, data) < 0) fail('capset', ['effective=' + effective.length, 'permitted=' + permitted.length]);
}

/**
 * Raises the ambient capabilities. The kernel allows only those that are
 * also permitted and inheritable; like runc and crun, the others are left
 * out (`runc spec` lists ambient capabilities without inheritable ones).
 */
export function setAmbient(caps: number[], inheritable: number[]): void {
  prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_CLEAR_ALL);
  for (const c of caps) {
    if (!inheritable.includes(c)) continue;
    prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, c);
  }
}
