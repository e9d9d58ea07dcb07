'use strict';
// The -ENOSYS stub (src/seccomp/enosys.ts) and the programs compileSeccomp
// builds with it, run by a classic-BPF interpreter over seccomp_data: what
// the kernel would answer for (architecture, syscall number), on every
// architecture libseccomp can build a filter for, not only this machine's.
// The e2e file (test/e2e/seccomp.test.js) checks the real kernel on x86_64.
const fs = require('fs');
const { test } = require('uvu');
const assert = require('uvu/assert');
const { compileSeccomp } = require('../../dist/seccomp/compile');
const { enosysStub, RET_ERRNO_ENOSYS, AUDIT_ARCH_X86_64, SCMP_ARCH_X32 } = require('../../dist/seccomp/enosys');
const L = require('../../dist/seccomp/libseccomp');
const FIXTURE = require('../lib/shared').shared('fixtures/caller-configs/containerd-cri-container.json');

const ALLOW = L.SCMP_ACT_ALLOW;
const EPERM = L.SCMP_ACT_ERRNO(1);
const ENOSYS = RET_ERRNO_ENOSYS;
const KILL_THREAD = L.SCMP_ACT_KILL_THREAD; // libseccomp's default bad-arch action
const X32 = 0x40000000;
const AUDIT = { i386: 0x40000003, aarch64: 0xc00000b7, s390x: 0x80000016, ppc64le: 0xc0000015 };

/**
 * Runs a struct sock_filter[] (host order: this test runs little-endian only) on
 * seccomp_data { nr, arch, ip = 0, args = 0 } and returns what it returns.
 */
function run(bpf, arch, nr) {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr | 0, 0);
  data.writeUInt32LE(arch >>> 0, 4);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  for (let pc = 0, steps = 0; pc < bpf.length / 8; pc++, steps++) {
    assert.ok(steps < 10000, 'the program loops');
    const code = bpf.readUInt16LE(pc * 8);
    const jt = bpf.readUInt8(pc * 8 + 2);
    const jf = bpf.readUInt8(pc * 8 + 3);
    const k = bpf.readUInt32LE(pc * 8 + 4);
    const src = code & 0x08 ? x : k;
    switch (code & 0x07) {
      case 0x00: // LD
        if (code === 0x20) a = data.readUInt32LE(k); // W ABS
        else if (code === 0x00) a = k; // IMM
        else if (code === 0x60) a = mem[k]; // MEM
        else throw new Error(`ld ${code.toString(16)}`);
        break;
      case 0x01: // LDX
        if (code === 0x01) x = k;
        else if (code === 0x61) x = mem[k];
        else throw new Error(`ldx ${code.toString(16)}`);
        break;
      case 0x02: mem[k] = a; break;
      case 0x03: mem[k] = x; break;
      case 0x04: { // ALU
        const ops = { 0x00: a + src, 0x10: a - src, 0x40: a | src, 0x50: a & src, 0x60: a << src, 0x70: a >>> src, 0xa0: a ^ src };
        if (!((code & 0xf0) in ops)) throw new Error(`alu ${code.toString(16)}`);
        a = ops[code & 0xf0] >>> 0;
        break;
      }
      case 0x05: { // JMP
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        const cond = { 0x10: a === src, 0x20: a > src, 0x30: a >= src, 0x40: (a & src) !== 0 }[op];
        if (cond === undefined) throw new Error(`jmp ${code.toString(16)}`);
        pc += cond ? jt : jf;
        break;
      }
      case 0x06: return (code & 0x18) === 0x10 ? a : k; // RET A | K
      case 0x07: if (code === 0x07) x = a; else a = x; break; // TAX, TXA
    }
  }
  throw new Error('ran off the end of the program');
}

const cri = () => JSON.parse(fs.readFileSync(FIXTURE, 'utf8')).linux.seccomp;
const nr = (name, arch = 'x86_64') => L.libseccomp().seccomp_syscall_resolve_name_arch(L.libseccomp().seccomp_arch_resolve_name(arch), name);

test.before(() => {
  if (require('os').endianness() !== 'LE') throw new Error('the interpreter reads little-endian programs');
});

test("containerd's profile, x86_64: above futex_waitv ENOSYS, unlisted below it EPERM, listed as listed", () => {
  const { bpf } = compileSeccomp(cri());
  const x86 = AUDIT_ARCH_X86_64;
  assert.is(run(bpf, x86, nr('futex_waitv')), ALLOW);
  assert.is(run(bpf, x86, nr('futex_waitv') + 1), ENOSYS);
  assert.is(run(bpf, x86, 1000), ENOSYS);
  assert.is(run(bpf, x86, -1), ENOSYS); // unsigned compare, as the kernel and runc: the kernel says ENOSYS too
  assert.is(run(bpf, x86, nr('acct')), EPERM);
  assert.is(run(bpf, x86, nr('read')), ALLOW);
  assert.is(run(bpf, x86, nr('clone3')), L.SCMP_ACT_ERRNO(38)); // its own rule
});

test("containerd's profile, x32 (bit 30 on x86_64): its own highest number", () => {
  const { bpf } = compileSeccomp(cri());
  const x32max = nr('pwritev2', 'x32'); // the x32-only numbers (512-547) are its highest
  assert.is(x32max, X32 + 547);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, nr('read', 'x32')), ALLOW);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, x32max), ALLOW);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, x32max + 1), ENOSYS);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, nr('acct', 'x32')), EPERM);
});

test("containerd's profile, i386: its own numbers; an architecture it does not list gets the bad-arch action", () => {
  const { bpf } = compileSeccomp(cri());
  assert.is(run(bpf, AUDIT.i386, nr('getpid', 'x86')), ALLOW);
  assert.is(run(bpf, AUDIT.i386, nr('acct', 'x86')), EPERM);
  assert.is(run(bpf, AUDIT.i386, 1000), ENOSYS);
  assert.is(run(bpf, AUDIT.aarch64, 1000), KILL_THREAD);
  assert.is(run(bpf, AUDIT.aarch64, 0), KILL_THREAD);
});

test('x86_64 without x32: an x32 call goes to the filter (its bad-arch action), not to ENOSYS', () => {
  const { bpf } = compileSeccomp({ ...cri(), architectures: ['SCMP_ARCH_X86_64'] });
  assert.is(run(bpf, AUDIT_ARCH_X86_64, 1000), ENOSYS);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, X32 + 1000), KILL_THREAD);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, X32 + nr('read')), KILL_THREAD);
});

test('aarch64 and ppc64le: their own numbers in their own section', () => {
  const { bpf } = compileSeccomp({ ...cri(), architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_PPC64LE'] });
  for (const [arch, audit] of [['aarch64', AUDIT.aarch64], ['ppc64le', AUDIT.ppc64le]]) {
    assert.is(run(bpf, audit, nr('futex_waitv', arch)), ALLOW, arch);
    assert.is(run(bpf, audit, nr('futex_waitv', arch) + 1), ENOSYS, arch);
    assert.is(run(bpf, audit, nr('acct', arch)), EPERM, arch);
  }
  assert.is(run(bpf, AUDIT.aarch64, 0), ALLOW); // io_setup, listed
  assert.is(run(bpf, AUDIT_ARCH_X86_64, 1000), ENOSYS); // the native one is always there
});

// libseccomp cannot mix endiannesses in one filter, so s390x is checked on the stub alone.
test('s390x: syscall 0 (what its multiplexer leaves for a syscall the kernel does not know) is ENOSYS too', () => {
  const tail = Buffer.from([0x06, 0, 0, 0, ...new Uint8Array(new Uint32Array([ALLOW]).buffer)]);
  const stub = Buffer.concat([enosysStub([{ token: AUDIT.s390x, max: 449 }]), tail]);
  assert.is(run(stub, AUDIT.s390x, 0), ENOSYS);
  assert.is(run(stub, AUDIT.s390x, 1), ALLOW);
  assert.is(run(stub, AUDIT.s390x, 449), ALLOW);
  assert.is(run(stub, AUDIT.s390x, 450), ENOSYS);
  assert.is(run(stub, AUDIT.aarch64, 0), ALLOW); // the rule is s390's only
});

test('default actions that deny get the stub: ERRNO, KILL, KILL_PROCESS, TRAP', () => {
  for (const [defaultAction, below] of [
    ['SCMP_ACT_ERRNO', EPERM], ['SCMP_ACT_KILL', L.SCMP_ACT_KILL_THREAD],
    ['SCMP_ACT_KILL_PROCESS', L.SCMP_ACT_KILL_PROCESS], ['SCMP_ACT_TRAP', L.SCMP_ACT_TRAP],
  ]) {
    const { bpf } = compileSeccomp({ ...cri(), defaultAction });
    assert.is(run(bpf, AUDIT_ARCH_X86_64, nr('acct')), below, defaultAction);
    assert.is(run(bpf, AUDIT_ARCH_X86_64, 1000), ENOSYS, defaultAction);
  }
});

test('default actions that let calls through get no stub: ALLOW, LOG, TRACE (runc\'s isAllowAction)', () => {
  for (const [defaultAction, value] of [['SCMP_ACT_ALLOW', ALLOW], ['SCMP_ACT_LOG', L.SCMP_ACT_LOG], ['SCMP_ACT_TRACE', L.SCMP_ACT_TRACE(1)]]) {
    const { bpf } = compileSeccomp({ defaultAction, syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_KILL' }] });
    assert.is(run(bpf, AUDIT_ARCH_X86_64, nr('getppid')), L.SCMP_ACT_KILL_THREAD, defaultAction);
    assert.is(run(bpf, AUDIT_ARCH_X86_64, nr('gettid')), value, defaultAction);
    assert.is(run(bpf, AUDIT_ARCH_X86_64, 1000), value, defaultAction);
  }
});

test('defaultErrnoRet ENOSYS already answers ENOSYS: no stub; any other errno gets one', () => {
  const plain = compileSeccomp({ ...cri(), defaultErrnoRet: 38 });
  const withStub = compileSeccomp({ ...cri(), defaultErrnoRet: 6 });
  assert.is(run(plain.bpf, AUDIT_ARCH_X86_64, 1000), ENOSYS);
  assert.is(run(withStub.bpf, AUDIT_ARCH_X86_64, 1000), ENOSYS);
  assert.is(run(withStub.bpf, AUDIT_ARCH_X86_64, nr('acct')), L.SCMP_ACT_ERRNO(6));
  assert.ok(withStub.bpf.length > plain.bpf.length);
});

test('the highest name counts whatever its action, even the default one; unknown names do not', () => {
  const { bpf } = compileSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read', 'write', 'no_such_syscall_9'], action: 'SCMP_ACT_ALLOW' },
      { names: ['gettid'], action: 'SCMP_ACT_ERRNO' }, // the default action: no rule, but it is the highest name
    ],
  });
  assert.is(run(bpf, AUDIT_ARCH_X86_64, nr('write')), ALLOW);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, nr('gettid')), EPERM);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, nr('gettid') - 1), EPERM);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, nr('gettid') + 1), ENOSYS);
});

test('no known syscall at all: no stub (nothing to compare with), the default action for everything', () => {
  const { bpf } = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['no_such_syscall_9'], action: 'SCMP_ACT_ALLOW' }] });
  assert.is(run(bpf, AUDIT_ARCH_X86_64, 1000), EPERM);
  assert.is(enosysStub([{ token: AUDIT_ARCH_X86_64, max: 0 }]).length, 0);
});

test('the SCMP_ACT_NOTIFY rules and the stub together', () => {
  const { bpf, notify } = compileSeccomp({ ...cri(), listenerPath: '/x.sock', syscalls: [...cri().syscalls, { names: ['acct'], action: 'SCMP_ACT_NOTIFY' }] });
  assert.ok(notify);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, nr('acct')), L.SCMP_ACT_NOTIFY);
  assert.is(run(bpf, AUDIT_ARCH_X86_64, 1000), ENOSYS);
});

test('enosysStub alone: x32 only, x86_64 and x32, any order; jumps stay in range', () => {
  const tail = Buffer.alloc(8); // the "filter": ret ALLOW
  tail.writeUInt16LE(0x06, 0);
  tail.writeUInt32LE(ALLOW, 4);
  const both = Buffer.concat([enosysStub([{ token: SCMP_ARCH_X32, max: X32 + 10 }, { token: AUDIT_ARCH_X86_64, max: 20 }]), tail]);
  assert.is(run(both, AUDIT_ARCH_X86_64, 20), ALLOW);
  assert.is(run(both, AUDIT_ARCH_X86_64, 21), ENOSYS);
  assert.is(run(both, AUDIT_ARCH_X86_64, X32 + 10), ALLOW);
  assert.is(run(both, AUDIT_ARCH_X86_64, X32 + 11), ENOSYS);
  const x32only = Buffer.concat([enosysStub([{ token: SCMP_ARCH_X32, max: X32 + 10 }]), tail]);
  assert.is(run(x32only, AUDIT_ARCH_X86_64, 5000), ALLOW); // not x32: the filter decides
  assert.is(run(x32only, AUDIT_ARCH_X86_64, X32 + 11), ENOSYS);
  // every architecture libseccomp knows: a long stub, each still right
  const tokens = ['x86', 'arm', 'aarch64', 'mips', 'mips64', 'mips64n32', 'mipsel', 'mipsel64', 'mipsel64n32', 'ppc', 'ppc64',
    'ppc64le', 's390', 's390x', 'parisc', 'parisc64', 'riscv64'].map((a) => L.libseccomp().seccomp_arch_resolve_name(a)).filter(Boolean);
  const many = Buffer.concat([enosysStub(tokens.map((token, i) => ({ token, max: 100 + i }))), tail]);
  tokens.forEach((token, i) => {
    assert.is(run(many, token, 100 + i), ALLOW);
    assert.is(run(many, token, 101 + i), ENOSYS);
  });
});

test.run();
