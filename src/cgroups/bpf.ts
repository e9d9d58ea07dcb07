// cgroup v2 device control: a BPF_PROG_TYPE_CGROUP_DEVICE program built from
// the device state (devices.ts), loaded and attached with bpf(2).
//
// The program sees struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
// u32 minor; } in r1, where access_type is (access bits << 16) | device type
// (1 block, 2 char). It returns 1 to allow, 0 to deny. The exceptions are
// tested in order; the first that matches decides (the opposite of the
// default); when none matches, the default decides.
import * as fs from 'fs';
import * as sys from '../linux/sys';
import { type DeviceState, ACC_ALL } from './devices';

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// opcodes (linux/bpf.h, linux/bpf_common.h)
export const OP = {
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  AND64K: 0x57, // BPF_ALU64 | BPF_AND | BPF_K
  RSH64K: 0x77, // BPF_ALU64 | BPF_RSH | BPF_K
  MOV64K: 0xb7, // BPF_ALU64 | BPF_MOV | BPF_K
  MOV64X: 0xbf, // BPF_ALU64 | BPF_MOV | BPF_X
  JEQK: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JSETK: 0x45, // BPF_JMP | BPF_JSET | BPF_K
  JNE32K: 0x56, // BPF_JMP32 | BPF_JNE | BPF_K
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

const DEV_BLOCK = 1;
const DEV_CHAR = 2;

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

/** The program's instructions for `state`. */
export function deviceProgram(state: DeviceState): Insn[] {
  const prog: Insn[] = [
    insn(OP.LDXW, 2, 1, 0), // r2 = access_type
    insn(OP.AND64K, 2, 0, 0, 0xffff), // r2 = device type
    insn(OP.LDXW, 3, 1, 0), // r3 = access_type
    insn(OP.RSH64K, 3, 0, 0, 16), // r3 = access bits
    insn(OP.LDXW, 4, 1, 4), // r4 = major
    insn(OP.LDXW, 5, 1, 8), // r5 = minor
  ];
  const decision = state.defaultAllow ? 0 : 1; // what a matching exception says
  for (const e of state.exceptions) {
    // each test jumps to the block's end (-1 placeholder, patched below)
    const block: Insn[] = [];
    block.push(insn(OP.JNE32K, 2, 0, -1, e.type === 'b' ? DEV_BLOCK : DEV_CHAR));
    if (e.access !== ACC_ALL) {
      if (state.defaultAllow) {
        // a deny exception matches when the request wants any of its access
        block.push(insn(OP.MOV64X, 0, 3));
        block.push(insn(OP.AND64K, 0, 0, 0, e.access));
        block.push(insn(OP.JEQK, 0, 0, -1, 0));
      } else {
        // an allow exception matches when it grants all the request wants
        block.push(insn(OP.JSETK, 3, 0, -1, ~e.access & ACC_ALL));
      }
    }
    if (e.major !== -1) block.push(insn(OP.JNE32K, 4, 0, -1, e.major | 0));
    if (e.minor !== -1) block.push(insn(OP.JNE32K, 5, 0, -1, e.minor | 0));
    block.push(insn(OP.MOV64K, 0, 0, 0, decision));
    block.push(insn(OP.EXIT));
    block.forEach((b, i) => {
      if (b.off === -1) b.off = block.length - (i + 1);
    });
    prog.push(...block);
  }
  prog.push(insn(OP.MOV64K, 0, 0, 0, state.defaultAllow ? 1 : 0));
  prog.push(insn(OP.EXIT));
  return prog;
}

/** struct bpf_insn, 8 bytes each. */
export function encode(prog: Insn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((p, i) => {
    buf.writeUInt8(p.code, i * 8);
    buf.writeUInt8(((p.src & 0xf) << 4) | (p.dst & 0xf), i * 8 + 1);
    buf.writeInt16LE(p.off, i * 8 + 2);
    buf.writeInt32LE(p.imm | 0, i * 8 + 4);
  });
  return buf;
}

/**
 * Runs the program on one request, as the kernel would: for tests and for
 * checking the generator against devices.ts's permits().
 */
export function interpret(prog: Insn[], type: 'c' | 'b', major: number, minor: number, access: number): number {
  const ctx = [((access << 16) | (type === 'b' ? DEV_BLOCK : DEV_CHAR)) >>> 0, major >>> 0, minor >>> 0];
  const r = new Array<bigint>(11).fill(0n);
  const M64 = (1n << 64n) - 1n;
  const u32 = (v: bigint) => v & 0xffffffffn;
  const sext = (imm: number) => BigInt.asUintN(64, BigInt(imm | 0));
  for (let pc = 0, steps = 0; pc < prog.length && steps < 100000; pc++, steps++) {
    const p = prog[pc];
    switch (p.code) {
      case OP.LDXW:
        r[p.dst] = BigInt(ctx[p.off / 4]);
        break;
      case OP.AND64K:
        r[p.dst] &= sext(p.imm);
        break;
      case OP.RSH64K:
        r[p.dst] = (r[p.dst] >> BigInt(p.imm)) & M64;
        break;
      case OP.MOV64K:
        r[p.dst] = sext(p.imm);
        break;
      case OP.MOV64X:
        r[p.dst] = r[p.src];
        break;
      case OP.JEQK:
        if (r[p.dst] === sext(p.imm)) pc += p.off;
        break;
      case OP.JSETK:
        if ((r[p.dst] & sext(p.imm)) !== 0n) pc += p.off;
        break;
      case OP.JNE32K:
        if (u32(r[p.dst]) !== u32(BigInt(p.imm >>> 0))) pc += p.off;
        break;
      case OP.EXIT:
        return Number(r[0]);
      default:
        throw new Error(`unknown opcode 0x${p.code.toString(16)}`);
    }
  }
  throw new Error('program ran off its end');
}

// ---- bpf(2) ----

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;

class BpfError extends Error {
  constructor(readonly what: string, readonly errno: number, detail = '') {
    super(`${what}: ${sys.strerror(errno)}${detail}`);
  }
}

function bpf(cmd: number, attr: Buffer, what: string, detail?: () => string): number {
  const ret = sys.tryBpf(cmd, attr);
  if (ret < 0) throw new BpfError(what, -ret, detail ? detail() : '');
  return ret;
}

function closeFd(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** Loads the device program; returns its fd. */
export function loadDeviceProgram(prog: Insn[]): number {
  const code = encode(prog);
  const license = Buffer.from('Apache\0');
  const log = Buffer.alloc(64 * 1024);
  const attr = Buffer.alloc(128);
  const fill = (withLog: boolean) => {
    attr.fill(0);
    attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0);
    attr.writeUInt32LE(prog.length, 4);
    attr.writeBigUInt64LE(BigInt(sys.ptr(code)), 8);
    attr.writeBigUInt64LE(BigInt(sys.ptr(license)), 16);
    if (withLog) {
      attr.writeUInt32LE(1, 24);
      attr.writeUInt32LE(log.length, 28);
      attr.writeBigUInt64LE(BigInt(sys.ptr(log)), 32);
    }
    Buffer.from('tsrunc_devices').copy(attr, 48);
  };
  fill(false);
  try {
    return bpf(BPF_PROG_LOAD, attr, 'cannot load the device cgroup BPF program');
  } catch (e) {
    if ((e as BpfError).errno !== 22 /* EINVAL: ask the verifier why */) throw e;
    fill(true);
    return bpf(BPF_PROG_LOAD, attr, 'cannot load the device cgroup BPF program', () => {
      const text = log.toString('utf8', 0, Math.max(0, log.indexOf(0))).trim();
      return text ? ` (verifier: ${text.split('\n').slice(-3).join(' / ')})` : '';
    });
  }
}

/** IDs and attach flags of the device programs attached to the cgroup `dirFd`. */
function queryDevicePrograms(dirFd: number): { ids: number[]; flags: number } {
  const ids = Buffer.alloc(64 * 4);
  const attr = Buffer.alloc(64);
  attr.writeUInt32LE(dirFd, 0);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 4);
  attr.writeBigUInt64LE(BigInt(sys.ptr(ids)), 16);
  attr.writeUInt32LE(64, 24);
  bpf(BPF_PROG_QUERY, attr, 'cannot list the device cgroup BPF programs');
  const count = attr.readUInt32LE(24);
  const out: number[] = [];
  for (let i = 0; i < Math.min(count, 64); i++) out.push(ids.readUInt32LE(i * 4));
  return { ids: out, flags: attr.readUInt32LE(12) };
}

/**
 * Attaches `progFd` to the cgroup directory `dir` and detaches the device
 * programs that were attached there before (ours from an earlier apply).
 */
export function attachDeviceProgram(dir: string, progFd: number): void {
  const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    const old = queryDevicePrograms(dirFd);
    const attr = Buffer.alloc(32);
    attr.writeUInt32LE(dirFd, 0);
    attr.writeUInt32LE(progFd, 4);
    attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
    // a program attached without flags is replaced by attaching another without flags
    const exclusive = old.ids.length > 0 && old.flags === 0;
    attr.writeUInt32LE(exclusive ? 0 : BPF_F_ALLOW_MULTI, 12);
    bpf(BPF_PROG_ATTACH, attr, `cannot attach the device cgroup BPF program to ${dir}`);
    if (exclusive) return;
    for (const id of old.ids) {
      const getAttr = Buffer.alloc(16);
      getAttr.writeUInt32LE(id, 0);
      const oldFd = bpf(BPF_PROG_GET_FD_BY_ID, getAttr, `cannot open device cgroup BPF program ${id}`);
      try {
        const det = Buffer.alloc(32);
        det.writeUInt32LE(dirFd, 0);
        det.writeUInt32LE(oldFd, 4);
        det.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
        bpf(BPF_PROG_DETACH, det, `cannot detach device cgroup BPF program ${id} from ${dir}`);
      } finally {
        closeFd(oldFd);
      }
    }
  } finally {
    closeFd(dirFd);
  }
}

/** Builds, loads and attaches the program for `state` on the cgroup v2 directory `dir`. */
export function applyDeviceState(dir: string, state: DeviceState): void {
  const progFd = loadDeviceProgram(deviceProgram(state));
  try {
    attachDeviceProgram(dir, progFd);
  } finally {
    closeFd(progFd);
  }
}

/** Number of device programs attached to `dir` (for tests). */
export function attachedDevicePrograms(dir: string): number {
  const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    return queryDevicePrograms(dirFd).ids.length;
  } finally {
    closeFd(dirFd);
  }
}
