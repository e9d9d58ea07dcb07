// The -ENOSYS stub put in front of a profile's filter, as runc does
// (libcontainer/seccomp/patchbpf): a syscall numbered above every syscall the
// profile names, for the architecture it is made in, gets ENOSYS instead of
// the default action. A profile written before a syscall existed cannot name
// it; ENOSYS is what the kernel it was written for would have said, and what
// libc and programs expect before falling back (glibc's clone3 -> clone,
// statx, faccessat2, close_range...). The default errno (EPERM) would make
// them fail instead.
//
// libseccomp has no such action, so the stub is classic BPF of our own,
// prepended to the program libseccomp exported (compile.ts); the init loads
// the whole program with seccomp(2) (load.ts).
//
// Layout: A = arch, then one section per architecture, the native one first
// (the only one a normal process hits, so it costs 5-6 instructions):
//
//   jeq  AUDIT_ARCH, 0, <past this section>
//   ld   [nr]
//   ...  checks that jump to ENOSYS or to FILTER (below)
//   FILTER: ja <the libseccomp program, after the stub>
//   ENOSYS: ret ERRNO(ENOSYS)
//
// Every conditional jump stays inside its section (the 8-bit offsets cannot
// overflow); only `ja` (32-bit) leaves it. An architecture with no section
// falls through to the libseccomp program, which applies its bad-arch action.
import * as os from 'os';

const ENOSYS = 38;
/** SCMP_ACT_ERRNO(ENOSYS) as the kernel reads it: SECCOMP_RET_ERRNO | 38. */
export const RET_ERRNO_ENOSYS = (0x00050000 | ENOSYS) >>> 0;

// libseccomp's arch tokens are the kernel's AUDIT_ARCH_* values, but for x32:
// its syscalls arrive as AUDIT_ARCH_X86_64 with bit 30 set in the number.
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const SCMP_ARCH_X32 = 0x4000003e;
const X32_SYSCALL_BIT = 0x40000000;
const AUDIT_ARCH_S390 = 0x00000016;
const AUDIT_ARCH_S390X = 0x80000016;

// Classic BPF opcodes (linux/filter.h) and struct seccomp_data offsets.
const LD_W_ABS = 0x20;
const JA = 0x05;
const JEQ_K = 0x15;
const JGT_K = 0x25;
const JSET_K = 0x45;
const RET_K = 0x06;
const OFF_NR = 0;
const OFF_ARCH = 4;

/** The largest syscall number a profile names in one architecture (libseccomp token). */
export interface ArchLastSyscall {
  token: number;
  max: number;
}

type Target = number | 'FILTER' | 'ENOSYS';
interface Insn {
  code: number;
  k: number;
  jt?: Target;
  jf?: Target;
}

/** One architecture's checks: the numbers it jumps to ENOSYS for, given A = nr. */
function checks(audit: number, native?: number, x32?: number): Insn[] {
  const out: Insn[] = [];
  // s390(x) multiplexes syscalls it does not know through setup(2), number 0:
  // an unknown syscall arrives as 0, which no profile means (setup has not existed for decades).
  if (audit === AUDIT_ARCH_S390 || audit === AUDIT_ARCH_S390X) out.push({ code: JEQ_K, k: 0, jt: 'ENOSYS' });
  if (audit !== AUDIT_ARCH_X86_64) {
    out.push({ code: JGT_K, k: native as number, jt: 'ENOSYS' });
  } else if (x32 === undefined) {
    // x32 calls (bit 30) in an x86_64-only profile: the filter's bad-arch action, not ENOSYS
    out.push({ code: JSET_K, k: X32_SYSCALL_BIT, jt: 'FILTER' }, { code: JGT_K, k: native as number, jt: 'ENOSYS' });
  } else if (native === undefined) {
    out.push({ code: JSET_K, k: X32_SYSCALL_BIT, jf: 'FILTER' }, { code: JGT_K, k: x32, jt: 'ENOSYS' });
  } else {
    out.push(
      { code: JSET_K, k: X32_SYSCALL_BIT, jt: 1 },
      { code: JGT_K, k: native, jt: 'ENOSYS', jf: 'FILTER' },
      { code: JGT_K, k: x32, jt: 'ENOSYS' },
    );
  }
  return out;
}

/**
 * The stub for these architectures (the native one first), as struct
 * sock_filter[] in host byte order; empty when no architecture has a syscall
 * (nothing to compare with). `arches` holds each libseccomp token once.
 */
export function enosysStub(arches: ArchLastSyscall[]): Buffer {
  // x86_64 and x32 share AUDIT_ARCH_X86_64: one section for both.
  const byAudit = new Map<number, { native?: number; x32?: number }>();
  for (const { token, max } of arches) {
    if (max <= 0) continue;
    const audit = token === SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
    const e = byAudit.get(audit) ?? {};
    if (token === SCMP_ARCH_X32) e.x32 = max;
    else e.native = max;
    byAudit.set(audit, e);
  }
  if (byAudit.size === 0) return Buffer.alloc(0);

  const prog: Insn[] = [{ code: LD_W_ABS, k: OFF_ARCH }];
  const filterJumps: number[] = []; // indexes of the `ja FILTER` to aim once the stub's length is known
  for (const [audit, { native, x32 }] of byAudit) {
    const body: Insn[] = [{ code: LD_W_ABS, k: OFF_NR }, ...checks(audit, native, x32)];
    const filterAt = body.length;
    const enosysAt = filterAt + 1;
    body.forEach((insn, i) => {
      const rel = (t: Target | undefined) => (t === undefined ? 0 : t === 'FILTER' ? filterAt - i - 1 : t === 'ENOSYS' ? enosysAt - i - 1 : t);
      insn.jt = rel(insn.jt);
      insn.jf = rel(insn.jf);
    });
    prog.push({ code: JEQ_K, k: audit, jt: 0, jf: body.length + 2 }, ...body);
    filterJumps.push(prog.length);
    prog.push({ code: JA, k: 0 }, { code: RET_K, k: RET_ERRNO_ENOSYS });
  }
  for (const i of filterJumps) prog[i].k = prog.length - i - 1;

  const buf = Buffer.alloc(prog.length * 8);
  const le = os.endianness() === 'LE'; // the kernel reads struct sock_filter in host order
  prog.forEach((insn, i) => {
    const o = i * 8;
    if (le) buf.writeUInt16LE(insn.code, o);
    else buf.writeUInt16BE(insn.code, o);
    buf.writeUInt8(insn.jt as number, o + 2);
    buf.writeUInt8(insn.jf as number, o + 3);
    if (le) buf.writeUInt32LE(insn.k >>> 0, o + 4);
    else buf.writeUInt32BE(insn.k >>> 0, o + 4);
  });
  return buf;
}
