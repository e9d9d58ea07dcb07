// Compiles a config's `linux.seccomp` section into a BPF program with
// libseccomp. Runs in the runtime (the parent) before anything is created, so
// a bad section fails `create` with nothing left behind, and the container's
// init only has to install the program (load.ts).
//
// Semantics follow runc's: unknown syscall names are skipped (profiles list
// syscalls of every kernel and architecture), rules whose action equals the
// default action are skipped (libseccomp refuses them), an entry whose args
// compare the same argument twice becomes one rule per arg (libseccomp cannot
// AND two comparisons of one argument), anything else unknown is an error
// naming the field. A syscall numbered above all the profile names gets
// ENOSYS rather than a denying default action (enosys.ts). Errors runc
// callers look for keep runc's words, after the field.
import * as fs from 'fs';
import * as L from './libseccomp';
import { enosysStub, type ArchLastSyscall } from './enosys';
import { declareSeccomp } from '../linux/sys';
import {
  type CompiledFilter,
  BPF_MAXINSNS,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
  kernelAcceptsFlags,
} from './load';

export { CompiledFilter } from './load';

const EPERM = 1;
const ENOSYS = 38;

const ARCHES = new Set([
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

const OPS: Record<string, number> = {
  SCMP_CMP_NE: L.SCMP_CMP_NE,
  SCMP_CMP_LT: L.SCMP_CMP_LT,
  SCMP_CMP_LE: L.SCMP_CMP_LE,
  SCMP_CMP_EQ: L.SCMP_CMP_EQ,
  SCMP_CMP_GE: L.SCMP_CMP_GE,
  SCMP_CMP_GT: L.SCMP_CMP_GT,
  SCMP_CMP_MASKED_EQ: L.SCMP_CMP_MASKED_EQ,
};

/** Config flag -> the seccomp(2) flag bit and the libseccomp attribute that stands for it. */
const FLAGS: Record<string, { bit: number; attr: number; sinceLib: [number, number] }> = {
  SECCOMP_FILTER_FLAG_TSYNC: { bit: SECCOMP_FILTER_FLAG_TSYNC, attr: L.SCMP_FLTATR_CTL_TSYNC, sinceLib: [2, 2] },
  SECCOMP_FILTER_FLAG_LOG: { bit: SECCOMP_FILTER_FLAG_LOG, attr: L.SCMP_FLTATR_CTL_LOG, sinceLib: [2, 4] },
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: { bit: SECCOMP_FILTER_FLAG_SPEC_ALLOW, attr: L.SCMP_FLTATR_CTL_SSB, sinceLib: [2, 5] },
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: {
    bit: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
    attr: L.SCMP_FLTATR_CTL_WAITKILL,
    sinceLib: [2, 6],
  },
};

/**
 * Syscalls SCMP_ACT_NOTIFY cannot stop: the init would wait for an agent that
 * cannot have the listener yet. write: runc's rule (its init writes the fd's
 * number to the runtime), kept so that a profile behaves the same with both;
 * sendmsg: tsrunc's own (its init sends the fd itself).
 */
const NOTIFY_FORBIDDEN: Record<string, string> = {
  write: '',
  sendmsg: ' (tsrunc\'s init passes the listener to the runtime with it)',
};

/** Default actions that let a syscall through: a newer syscall is not refused with ENOSYS (runc's isAllowAction). */
const PERMISSIVE_DEFAULTS = new Set(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE']);

/** libseccomp's API level needed for SCMP_ACT_NOTIFY (libseccomp >= 2.5.0 and Linux >= 5.7). */
const NOTIFY_API_LEVEL = 6;

class SeccompConfigError extends Error {
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'SeccompConfigError';
  }
}

interface Action {
  value: number;
  name: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function uint(field: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new SeccompConfigError(field, `must be an integer between 0 and ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function u64(field: string, v: unknown): bigint {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SeccompConfigError(field, `must be a number, got ${JSON.stringify(v)}`);
  // JSON numbers past 2^53 are already rounded: 18446744073709551615 arrives as 2^64, which means the maximum.
  if (v >= 18446744073709551615) return 0xffffffffffffffffn;
  return BigInt.asUintN(64, BigInt(Math.trunc(v))); // negative values wrap as in C
}

function parseAction(field: string, name: unknown, errnoRet: unknown, errnoField: string): Action {
  if (typeof name !== 'string') throw new SeccompConfigError(field, `must be a string, got ${JSON.stringify(name)}`);
  const ret = errnoRet === undefined || errnoRet === null ? undefined : uint(errnoField, errnoRet, 0xffff);
  let value: number;
  switch (name) {
    case 'SCMP_ACT_ERRNO':
      return { name, value: L.SCMP_ACT_ERRNO(ret ?? EPERM) };
    case 'SCMP_ACT_TRACE':
      return { name, value: L.SCMP_ACT_TRACE(ret ?? EPERM) };
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      value = L.SCMP_ACT_KILL_THREAD;
      break;
    case 'SCMP_ACT_KILL_PROCESS':
      value = L.SCMP_ACT_KILL_PROCESS;
      break;
    case 'SCMP_ACT_TRAP':
      value = L.SCMP_ACT_TRAP;
      break;
    case 'SCMP_ACT_ALLOW':
      value = L.SCMP_ACT_ALLOW;
      break;
    case 'SCMP_ACT_LOG':
      value = L.SCMP_ACT_LOG;
      break;
    case 'SCMP_ACT_NOTIFY':
      value = L.SCMP_ACT_NOTIFY;
      break;
    default:
      throw new SeccompConfigError(field, `unknown action ${JSON.stringify(name)}`);
  }
  if (ret !== undefined) {
    throw new SeccompConfigError(errnoField, `not supported with action ${JSON.stringify(name)} (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno)`);
  }
  return { name, value };
}

/** "SCMP_ARCH_X86_64" -> libseccomp's arch token. */
function archToken(field: string, name: unknown): number {
  if (typeof name !== 'string' || !ARCHES.has(name)) {
    throw new SeccompConfigError(field, `unknown architecture ${JSON.stringify(name)}`);
  }
  // libseccomp's names are the constant's suffix in lower case ("x86_64", "mipsel64n32", "ppc64le").
  const token = L.libseccomp().seccomp_arch_resolve_name(name.slice('SCMP_ARCH_'.length).toLowerCase());
  if (!token) {
    throw new SeccompConfigError(field, `architecture ${JSON.stringify(name)} is not supported by libseccomp ${L.versionString()}`);
  }
  return token;
}

function libAtLeast(major: number, minor: number): boolean {
  const [ma, mi] = L.versionString().split('.').map(Number);
  return ma > major || (ma === major && mi >= minor);
}

interface Cond {
  arg: number;
  op: number;
  datum_a: bigint;
  datum_b: bigint;
}

function parseArgs(field: string, args: unknown): Cond[] {
  if (args === undefined || args === null) return [];
  if (!Array.isArray(args)) throw new SeccompConfigError(field, 'must be an array');
  return args.map((a, j) => {
    const f = `${field}[${j}]`;
    if (!isObject(a)) throw new SeccompConfigError(f, 'must be an object');
    const op = OPS[a.op as string];
    if (typeof a.op !== 'string' || op === undefined) throw new SeccompConfigError(`${f}.op`, `unknown operator ${JSON.stringify(a.op)}`);
    return {
      arg: uint(`${f}.index`, a.index, 5),
      op,
      datum_a: u64(`${f}.value`, a.value),
      datum_b: a.valueTwo === undefined || a.valueTwo === null ? 0n : u64(`${f}.valueTwo`, a.valueTwo),
    };
  });
}

/** Writes the filter's BPF program to a memfd and reads it back. */
function exportBpf(ctx: unknown): Buffer {
  const l = L.libseccomp();
  const fd = l.memfd_create('tsrunc-seccomp', 1 /* MFD_CLOEXEC */);
  if (fd < 0) throw new Error('seccomp: memfd_create failed');
  try {
    const rc = l.seccomp_export_bpf(ctx, fd);
    if (rc < 0) throw new Error(`seccomp: exporting the filter failed: ${L.describe(rc)}`);
    const size = fs.fstatSync(fd).size;
    // A buffer of its own (offset 0), so the child can pass it to the kernel as is.
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, buf, off, size - off, off);
      if (n <= 0) break;
      off += n;
    }
    if (off !== size || size % 8 !== 0) throw new Error(`seccomp: exported filter has a bad size (${off} of ${size} bytes)`);
    return buf;
  } finally {
    l.close(fd);
  }
}

/**
 * Compiles `linux.seccomp` (already schema-checked, but checked again here
 * field by field) to a BPF program for loadSeccomp. Throws an error naming
 * the field for anything it cannot honour.
 */
export function compileSeccomp(seccomp: object): CompiledFilter {
  const s = seccomp as Record<string, unknown>;
  const F = 'linux.seccomp';
  if (!isObject(s)) throw new SeccompConfigError(F, 'must be an object');

  // Everything that needs no library first: a bad config fails the same way with or without libseccomp.
  const defaultAction = parseAction(`${F}.defaultAction`, s.defaultAction, s.defaultErrnoRet, `${F}.defaultErrnoRet`);
  if (defaultAction.name === 'SCMP_ACT_NOTIFY') {
    throw new SeccompConfigError(`${F}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be used as default action');
  }
  const archNames = s.architectures ?? [];
  if (!Array.isArray(archNames)) throw new SeccompConfigError(`${F}.architectures`, 'must be an array');
  const flagNames = s.flags ?? [];
  if (!Array.isArray(flagNames)) throw new SeccompConfigError(`${F}.flags`, 'must be an array');
  flagNames.forEach((name, i) => {
    if (typeof name !== 'string' || !FLAGS[name]) throw new SeccompConfigError(`${F}.flags[${i}]`, `unknown flag ${JSON.stringify(name)}`);
  });
  const syscalls = s.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw new SeccompConfigError(`${F}.syscalls`, 'must be an array');
  const rules = syscalls.map((sc, i) => {
    const f = `${F}.syscalls[${i}]`;
    if (!isObject(sc)) throw new SeccompConfigError(f, 'must be an object');
    if (!Array.isArray(sc.names) || sc.names.length === 0 || sc.names.some((n) => typeof n !== 'string')) {
      throw new SeccompConfigError(`${f}.names`, 'must be a non-empty array of strings');
    }
    const action = parseAction(`${f}.action`, sc.action, sc.errnoRet, `${f}.errnoRet`);
    if (action.name === 'SCMP_ACT_NOTIFY') {
      const bad = (sc.names as string[]).find((n) => Object.hasOwn(NOTIFY_FORBIDDEN, n));
      if (bad) throw new SeccompConfigError(`${f}.names`, `SCMP_ACT_NOTIFY cannot be used for the ${bad} syscall${NOTIFY_FORBIDDEN[bad]}`);
    }
    return { field: f, names: sc.names as string[], action, conds: parseArgs(`${f}.args`, sc.args) };
  });
  const notifyAt = rules.findIndex((r) => r.action.name === 'SCMP_ACT_NOTIFY');
  const notify = notifyAt >= 0;
  const listenerPath = s.listenerPath;
  if (listenerPath !== undefined && typeof listenerPath !== 'string') {
    throw new SeccompConfigError(`${F}.listenerPath`, `must be a string, got ${JSON.stringify(listenerPath)}`);
  }
  if (s.listenerMetadata !== undefined && (typeof s.listenerMetadata !== 'string')) {
    throw new SeccompConfigError(`${F}.listenerMetadata`, 'must be a string');
  }
  if (s.listenerMetadata !== undefined && listenerPath === undefined) {
    throw new SeccompConfigError(`${F}.listenerMetadata`, 'must not be set without listenerPath');
  }
  // An empty path is no path (runc's check); without SCMP_ACT_NOTIFY the path is not used, as in runc.
  if (notify && !listenerPath) {
    throw new SeccompConfigError(`${F}.listenerPath`, `listenerPath is not set, and ${F}.syscalls[${notifyAt}] uses SCMP_ACT_NOTIFY`);
  }

  declareSeccomp(); // declared here, so the container's init only calls it

  // The flags the kernel is asked for; each must be known to it.
  let flagBits = 0;
  for (const [i, name] of (flagNames as string[]).entries()) {
    const bit = FLAGS[name].bit;
    const probe = bit === SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ? bit | SECCOMP_FILTER_FLAG_NEW_LISTENER : bit;
    if (!kernelAcceptsFlags(probe)) {
      throw new SeccompConfigError(`${F}.flags[${i}]`, `flag "${name}" is not supported by this kernel`);
    }
    flagBits |= bit;
  }

  const l = L.libseccomp();
  if (notify && L.apiLevel() < NOTIFY_API_LEVEL) {
    throw new SeccompConfigError(
      `${F}.syscalls[${notifyAt}].action`,
      `seccomp notify unsupported: API level: got ${L.apiLevel()}, want at least ${NOTIFY_API_LEVEL}. ` +
        'Please try with libseccomp >= 2.5.0 and Linux >= 5.7',
    );
  }
  const ctx = l.seccomp_init(defaultAction.value);
  if (!ctx) throw new Error(`seccomp: seccomp_init(${defaultAction.name}) failed (libseccomp ${L.versionString()})`);
  try {
    // Flags go to seccomp(2) when the child loads the program, not into the BPF; libseccomp is told
    // too where it knows the attribute, so it can refuse what it cannot do.
    for (const [i, name] of (flagNames as string[]).entries()) {
      const { attr, sinceLib } = FLAGS[name];
      if (!libAtLeast(...sinceLib)) continue; // older library: the kernel probe above decided
      const rc = l.seccomp_attr_set(ctx, attr, 1);
      if (rc < 0) throw new SeccompConfigError(`${F}.flags[${i}]`, `flag "${name}" is not supported: ${L.describe(rc)}`);
    }

    const tokens = new Set([l.seccomp_arch_native() as number]); // the native one first: the stub tests it first
    (archNames as unknown[]).forEach((name, i) => {
      const token = archToken(`${F}.architectures[${i}]`, name);
      const rc = l.seccomp_arch_add(ctx, token);
      if (rc < 0 && rc !== -17 /* EEXIST: already there, e.g. the native one */) {
        throw new SeccompConfigError(`${F}.architectures[${i}]`, `cannot add ${JSON.stringify(name)}: ${L.describe(rc)}`);
      }
      tokens.add(token);
    });

    for (const r of rules) {
      if (r.action.value === defaultAction.value) continue;
      const argSets = new Set(r.conds.map((c) => c.arg)).size === r.conds.length ? [r.conds] : r.conds.map((c) => [c]);
      for (const name of r.names) {
        const nr = l.seccomp_syscall_resolve_name(name);
        if (nr === L.NR_SCMP_ERROR) continue; // unknown to libseccomp: skipped, as runc does
        for (const conds of argSets) {
          const rc = l.seccomp_rule_add_array(ctx, r.action.value, nr, conds.length, conds.length ? conds : null);
          if (rc < 0) {
            throw new SeccompConfigError(r.field, `cannot add the rule for "${name}" (${r.action.name}): ${L.describe(rc)}`);
          }
        }
      }
    }

    const stub = PERMISSIVE_DEFAULTS.has(defaultAction.name) || defaultAction.value === L.SCMP_ACT_ERRNO(ENOSYS)
      ? Buffer.alloc(0) // nothing is refused, or everything already gets ENOSYS
      : enosysStub(lastSyscalls(tokens, rules.flatMap((r) => r.names)));
    const bpf = stub.length ? Buffer.concat([stub, exportBpf(ctx)]) : exportBpf(ctx);
    const insns = bpf.length / 8;
    if (insns > BPF_MAXINSNS) {
      throw new SeccompConfigError(F, `the compiled filter has ${insns} instructions, more than the kernel's limit of ${BPF_MAXINSNS}`);
    }
    return {
      bpf,
      flags: flagBits,
      flagNames: flagNames as string[],
      notify,
      listenerPath: notify ? (listenerPath as string) : undefined,
      listenerMetadata: notify ? (s.listenerMetadata as string | undefined) : undefined,
    };
  } finally {
    l.seccomp_release(ctx);
  }
}

/**
 * Per architecture, the largest syscall number among all the names in the
 * profile, whatever their action (runc's findLastSyscalls): names unknown in
 * an architecture, or only multiplexed there (negative pseudo numbers), do not count.
 */
function lastSyscalls(tokens: Set<number>, names: string[]): ArchLastSyscall[] {
  const l = L.libseccomp();
  const unique = [...new Set(names)];
  return [...tokens].map((token) => {
    let max = 0;
    for (const name of unique) max = Math.max(max, l.seccomp_syscall_resolve_name_arch(token, name) as number);
    return { token, max };
  });
}

const ACTION_NAMES = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
];

/** What `features` reports for seccomp: only what this build, libseccomp and kernel really do. */
export function seccompFeatures(): { enabled: boolean; actions: string[]; operators: string[]; archs: string[]; knownFlags: string[]; supportedFlags: string[] } {
  let archs: string[];
  try {
    archs = [...ARCHES].filter((a) => L.libseccomp().seccomp_arch_resolve_name(a.slice('SCMP_ARCH_'.length).toLowerCase()));
  } catch {
    return { enabled: false, actions: [], operators: [], archs: [], knownFlags: Object.keys(FLAGS), supportedFlags: [] };
  }
  const supportedFlags = Object.entries(FLAGS)
    .filter(([, f]) => kernelAcceptsFlags(f.bit === SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ? f.bit | SECCOMP_FILTER_FLAG_NEW_LISTENER : f.bit))
    .map(([name]) => name);
  return { enabled: true, actions: ACTION_NAMES, operators: Object.keys(OPS), archs, knownFlags: Object.keys(FLAGS), supportedFlags };
}
