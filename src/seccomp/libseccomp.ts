// koffi bindings to libseccomp.so.2, used by the runtime (the parent) only, to
// compile a config's seccomp section into a BPF program. The container's init
// never needs the library: it loads the exported program with one syscall
// (see load.ts). Loaded lazily, on the first container that has a seccomp
// section.
//
// Every binding returns the raw libseccomp result; most return 0 or a
// negative errno. Constants below are from libseccomp's seccomp.h (ABI-stable).
import type * as Koffi from 'koffi';
import { errnoName } from '../linux/errors';
import { koffiModule } from '../linux/ffi';

// Filter actions (scmp_filter_ctx actions, uint32).
export const SCMP_ACT_KILL_PROCESS = 0x80000000;
export const SCMP_ACT_KILL_THREAD = 0x00000000;
export const SCMP_ACT_TRAP = 0x00030000;
export const SCMP_ACT_NOTIFY = 0x7fc00000;
export const SCMP_ACT_LOG = 0x7ffc0000;
export const SCMP_ACT_ALLOW = 0x7fff0000;
export const SCMP_ACT_ERRNO = (errno: number) => (0x00050000 | (errno & 0xffff)) >>> 0;
export const SCMP_ACT_TRACE = (msg: number) => (0x7ff00000 | (msg & 0xffff)) >>> 0;

// Argument comparison operators (enum scmp_compare).
export const SCMP_CMP_NE = 1;
export const SCMP_CMP_LT = 2;
export const SCMP_CMP_LE = 3;
export const SCMP_CMP_EQ = 4;
export const SCMP_CMP_GE = 5;
export const SCMP_CMP_GT = 6;
export const SCMP_CMP_MASKED_EQ = 7;

// Filter attributes (enum scmp_filter_attr). CTL_WAITKILL appeared in 2.6.0.
export const SCMP_FLTATR_CTL_NNP = 3;
export const SCMP_FLTATR_CTL_TSYNC = 4;
export const SCMP_FLTATR_CTL_LOG = 6;
export const SCMP_FLTATR_CTL_SSB = 7;
export const SCMP_FLTATR_CTL_WAITKILL = 10;

/** Returned by seccomp_syscall_resolve_name for a name it does not know. */
export const NR_SCMP_ERROR = -1;

export interface ArgCmp {
  arg: number;
  op: number;
  datum_a: bigint;
  datum_b: bigint;
}

function declare() {
  let lib: ReturnType<typeof Koffi.load>;
  try {
    lib = koffiModule().load('libseccomp.so.2');
  } catch {
    throw new Error('seccomp: libseccomp.so.2 not found: install libseccomp2');
  }
  // struct scmp_arg_cmp { unsigned int arg; enum scmp_compare op; scmp_datum_t datum_a, datum_b; }
  const argCmp = koffiModule().struct('scmp_arg_cmp', {
    arg: 'unsigned int',
    op: 'int',
    datum_a: 'uint64_t',
    datum_b: 'uint64_t',
  });
  const version = koffiModule().struct('scmp_version', { major: 'unsigned int', minor: 'unsigned int', micro: 'unsigned int' });
  const libc = koffiModule().load('libc.so.6');
  const f = (sig: string) => lib.func(sig);
  return {
    argCmp,
    seccomp_init: f('void *seccomp_init(uint32_t def_action)'),
    seccomp_release: f('void seccomp_release(void *ctx)'),
    seccomp_arch_add: f('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    seccomp_arch_native: f('uint32_t seccomp_arch_native()'),
    seccomp_arch_resolve_name: f('uint32_t seccomp_arch_resolve_name(const char *name)'),
    seccomp_attr_set: f('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    seccomp_syscall_resolve_name: f('int seccomp_syscall_resolve_name(const char *name)'),
    seccomp_syscall_resolve_name_arch: f('int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name)'),
    seccomp_rule_add_array: f(
      'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const scmp_arg_cmp *arg_array)',
    ),
    seccomp_export_bpf: f('int seccomp_export_bpf(void *ctx, int fd)'),
    seccomp_version: lib.func('seccomp_version', koffiModule().pointer(version), []),
    seccomp_api_get: f('unsigned int seccomp_api_get()'),
    version,
    // where the exported program goes before we read it back
    memfd_create: libc.func('int memfd_create(const char *name, unsigned int flags)'),
    close: libc.func('int close(int fd)'),
  };
}

export type LibSeccomp = ReturnType<typeof declare>;

let cached: LibSeccomp | undefined;

/** The bindings, loading libseccomp on first use; throws a clear error when it is not installed. */
export function libseccomp(): LibSeccomp {
  if (!cached) cached = declare();
  return cached;
}

/** "2.5.4" */
export function versionString(): string {
  const l = libseccomp();
  const v = koffiModule().decode(l.seccomp_version(), l.version) as { major: number; minor: number; micro: number };
  return `${v.major}.${v.minor}.${v.micro}`;
}

/** libseccomp's API level (what the library and kernel support together), e.g. 6 on recent systems. */
export function apiLevel(): number {
  return libseccomp().seccomp_api_get();
}

/** strerror for libseccomp's negative errno results. */
export function describe(rc: number): string {
  // libseccomp returns -errno; EDOM (33) is its "architecture/value out of range"
  const n = -rc;
  if (n === 33) return 'EDOM (33): not valid for this architecture or libseccomp';
  const name = errnoName(n);
  return name.startsWith('errno') ? `error ${rc}` : `${name} (${n})`;
}
