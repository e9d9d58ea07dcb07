// A container process that is a WebAssembly module (src/bundle/wasm.ts says
// which are): after all of the process's set-up (namespaces, mounts, cgroup,
// capabilities, rlimits, seccomp), the process runs the module with Node's
// own WebAssembly and WASI (node:wasi, preview1) where another would execve.
// The module is read and compiled before `ready` (a bad one fails create or
// exec, as a missing executable does), and run once the process would exec.
import * as fs from 'fs';
import * as path from 'path';
import type * as NodeWasi from 'wasi';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { closeAllFdsExcept } from '../../linux/fds';
import { type ArgEnvAreas, type MappedFiles } from '../../linux/proc';
import { type WasmMarking } from '../../bundle/wasm';
import { restoreWasmTrapHandlers, stageEventfds } from './stage-guard';
import { guardImports } from './wasi-guard';
import { superviseChild } from './reaper';

type WasiVersion = 'preview1' | 'unstable';
const WASI_MODULES: Record<string, WasiVersion> = { wasi_snapshot_preview1: 'preview1', wasi_unstable: 'unstable' };

/** What the module's process needs at the point where another would execve. */
export interface WasmProcess {
  file: string;
  module: WebAssembly.Module;
  version: WasiVersion;
  args: string[];
  env: string[];
  /** fds 3.. the process keeps (--preserve-fds, LISTEN_FDS). */
  passFds: number;
  /** Where the runtime's argv and environment lie in this process's memory (from before the fork). */
  areas?: ArgEnvAreas;
  /** The files the runtime runs and maps: the host's, which the module may not open (wasi-guard.ts). */
  mapped: MappedFiles;
}

/**
 * node:wasi, loaded only in the process that runs a module: it warns that it
 * is experimental when loaded, which the runtime's own process would print.
 */
function newWasi(options: NodeWasi.WASIOptions): NodeWasi.WASI {
  process.emitWarning = () => undefined;
  const { WASI } = require('wasi') as typeof NodeWasi;
  return new WASI(options);
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * args[0] as crun's handlers take it: a path when it has a slash, else
 * looked up in the container's PATH; a module need not be executable, so one
 * not found there is taken relative to the cwd.
 */
function findModule(arg0: string, env: string[]): string {
  if (arg0.includes('/')) return arg0;
  const pathVar = env.filter((e) => e.startsWith('PATH=')).pop()?.slice(5) ?? '';
  for (const dir of pathVar.split(':')) {
    const candidate = path.join(dir || '.', arg0);
    if (isFile(candidate)) return candidate;
  }
  return arg0;
}

/** The file's bytes; only a regular file (a FIFO or /dev/zero would block or never end). */
function readModule(arg0: string, file: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, C.O_RDONLY | C.O_NONBLOCK | C.O_CLOEXEC);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new Error(`exec: "${arg0}": stat ${file}: no such file or directory`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM') throw new Error(`exec: "${arg0}": permission denied`, { cause: e });
    throw new Error(`exec: "${arg0}": ${(e as Error).message}`, { cause: e });
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error(`exec: "${arg0}": not a regular file`);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]); // "\0asm"

/** The WASI version a module imports, after checking that it imports nothing else. */
function wasiVersionOf(arg0: string, module: WebAssembly.Module): WasiVersion {
  const imports = WebAssembly.Module.imports(module);
  const versions = new Set<WasiVersion>();
  for (const i of imports) {
    const v = WASI_MODULES[i.module];
    if (!v || i.kind !== 'function') {
      throw new Error(`exec: "${arg0}": imports ${i.kind} ${i.module}.${i.name}: only WASI preview1 functions (wasi_snapshot_preview1) can be given to a module`);
    }
    versions.add(v);
  }
  if (versions.size > 1) throw new Error(`exec: "${arg0}": imports both wasi_snapshot_preview1 and wasi_unstable`);
  const version = versions.values().next().value ?? 'preview1';
  const provided = newWasi({ version }).wasiImport as Record<string, unknown>;
  for (const i of imports) {
    if (typeof provided[i.name] !== 'function') throw new Error(`exec: "${arg0}": imports ${i.module}.${i.name}, which WASI ${version} does not have`);
  }
  const exports = WebAssembly.Module.exports(module);
  if (!exports.some((e) => e.name === '_start' && e.kind === 'function')) {
    throw new Error(`exec: "${arg0}": not a WASI command: it exports no _start function`);
  }
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory')) {
    throw new Error(`exec: "${arg0}": exports no memory named "memory", which WASI needs`);
  }
  return version;
}

/**
 * Finds, reads, validates and compiles the module args[0] names, as the
 * container's user, in the container's root. Errors read like a missing
 * executable's (`exec: "x": ...`).
 */
export function loadModule(arg0: string, env: string[], marking: WasmMarking): { file: string; module: WebAssembly.Module; version: WasiVersion } {
  const file = findModule(arg0, env);
  const bytes = readModule(arg0, file);
  if (bytes.length < 8 || !bytes.subarray(0, 4).equals(MAGIC)) {
    if (arg0.endsWith('.wat')) throw new Error(`exec: "${arg0}": the WebAssembly text format (.wat) is not supported: compile it to a .wasm module (wat2wasm)`);
    throw new Error(`exec: "${arg0}": not a WebAssembly module (the container is marked as WebAssembly by ${marking.by})`);
  }
  if (bytes.readUInt32LE(4) !== 1) {
    throw new Error(`exec: "${arg0}": a WebAssembly component or unknown version ${bytes.readUInt32LE(4)}: only core modules (WASI preview1) are supported`);
  }
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (e) {
    throw new Error(`exec: "${arg0}": invalid WebAssembly module: ${(e as Error).message}`, { cause: e });
  }
  return { file, module, version: wasiVersionOf(arg0, module) };
}

/**
 * What of the runtime a process that will not execve can drop: every fd but
 * stdio and the passed ones, its C environment (the caller's), the argv and
 * environment strings /proc/PID/cmdline and environ show (the runtime's
 * command line, the caller's environment: cmdline is readable by every
 * process of the pid namespace), replaced by the module's args; its name.
 */
function dropRuntime(w: WasmProcess): void {
  closeRuntimeFds(w);
  sys.clearenv();
  if (w.areas) {
    const { argStart, argEnd, envStart, envEnd } = w.areas;
    const len = argEnd - argStart;
    // NUL-separated args, cut to the area, which keeps a NUL as its last byte
    const argv = Buffer.from(w.args.map((a) => `${a}\0`).join('')).subarray(0, Math.max(0, len - 1));
    sys.overwriteMemory(argStart, len, argv);
    sys.overwriteMemory(envStart, envEnd - envStart, Buffer.alloc(0));
  }
  sys.prctl(C.PR_SET_NAME, sys.ptr(Buffer.from(`${path.basename(w.file).slice(0, 15)}\0`)));
}

/** Every fd but stdio, the passed ones and the eventfds the stage made anew for Node (stage-guard.ts: its own). */
function closeRuntimeFds(w: WasmProcess): void {
  closeAllFdsExcept([...Array.from({ length: w.passFds }, (_, i) => 3 + i), ...stageEventfds()]);
}

/** The container's environment as WASI takes it; the first of duplicate names wins, as getenv(3)'s. */
function envObject(env: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const eq = e.indexOf('=');
    const name = e.slice(0, eq);
    if (eq > 0 && !(name in out)) out[name] = e.slice(eq + 1);
  }
  return out;
}

/** Instantiates and runs the module in this process; exits with its code. */
function runHere(w: WasmProcess): never {
  let code: number;
  try {
    restoreWasmTrapHandlers();
    const wasi = newWasi({ version: w.version, args: w.args, env: envObject(w.env), preopens: { '/': '/' }, returnOnExit: true });
    let instance: WebAssembly.Instance | undefined;
    const memory = () => instance!.exports.memory as WebAssembly.Memory;
    instance = new WebAssembly.Instance(w.module, guardImports(wasi.getImportObject() as never, memory, w.mapped) as WebAssembly.Imports);
    try {
      code = wasi.start(instance) ?? 0;
    } catch (e) {
      // a trap: wasmtime's exit status for one (128 + SIGABRT)
      fs.writeSync(2, `tsrunc: ${w.args[0]}: wasm trap: ${(e as Error).message}\n`);
      code = 134;
    }
  } catch (e) {
    const message = (e as Error).message;
    // with guard regions (how V8 bounds-checks wasm memory) a memory reserves 10 GiB of address space
    const hint = /Cannot allocate Wasm memory/.test(message) ? ' (a module\'s memory takes 10 GiB of address space: check process.rlimits RLIMIT_AS)' : '';
    fs.writeSync(2, `tsrunc: exec failed: ${w.args[0]}: ${message}${hint}\n`);
    code = 127;
  }
  sys.exit(code);
}

/**
 * Where another process would execve: drops what it holds of the runtime
 * and runs the module. As PID 1 of a pid namespace it forks first, to give
 * the module the default action of every signal (reaper.ts).
 */
export function runModule(w: WasmProcess): never {
  dropRuntime(w);
  if (sys.getpid() !== 1) runHere(w);
  sys.blockAllSignals();
  const child = sys.safeFork();
  if (child === 0) {
    closeRuntimeFds(w); // libuv's fork handler made a signal pipe
    sys.unblockAllSignals();
    sys.prctl(C.PR_SET_PDEATHSIG, 9);
    runHere(w);
  }
  superviseChild(child);
}
