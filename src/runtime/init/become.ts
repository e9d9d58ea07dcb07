// The last steps of any container process, the init's and exec's alike:
// rlimits, scheduling, LSM labels, personality, memory policy, user and capabilities, cwd,
// no_new_privs, seccomp, the executable's lookup, and execve (or, for a
// WebAssembly module, running it: wasm.ts).
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { type Process, type Linux } from '../../bundle/spec-types';
import { type Channel, type ChildMessage, type ParentMessage } from '../protocol';
import { applyScheduler, applyIoPriority, applyPersonality } from '../../linux/sched';
import { applyApparmor, applySelinuxLabel } from './lsm';
import { setMemoryPolicy } from '../../linux/mempolicy';
import * as proc from './process';
import { type CompiledFilter, loadSeccomp, loadPointFor } from '../../seccomp/load';
import { type WasmMarking, runsAsWasm } from '../../bundle/wasm';
import { type ArgEnvAreas, type MappedFiles } from '../../linux/proc';
import { type WasmProcess, loadModule, runModule } from './wasm';

/** What a WebAssembly container's processes need (src/container/wasm.ts makes it; none for a native one). */
export interface WasmPlan {
  /** The container is marked as WebAssembly (src/bundle/wasm.ts): args[0] may name a module to run. */
  wasm?: WasmMarking;
  /** The runtime's argv and environment areas, which a module's process overwrites (linux/proc.ts). */
  argEnvAreas?: ArgEnvAreas;
  /** The files the runtime runs and maps, which a module may not open (wasi-guard.ts). */
  mappedFiles?: MappedFiles;
}

/** A stage plan's WasmPlan part, to hand on to prepareProcess. */
export function wasmPart({ wasm, argEnvAreas, mappedFiles }: WasmPlan): WasmPlan {
  return { wasm, argEnvAreas, mappedFiles };
}

export interface ProcessPlan extends WasmPlan {
  process: Process;
  personality?: Linux['personality'];
  memoryPolicy?: Linux['memoryPolicy'];
  seccomp?: CompiledFilter;
  /** A verified procfs fd (src/linux/procfs.ts) for the process's own /proc files, if the container has one. */
  procFd?: number;
  /** How many fds from 3 on the process keeps. */
  passFds: number;
}

/** What execProcess needs once the caller has done its own last steps (fifo, fds). */
export interface ReadyProcess {
  exe: string;
  args: string[];
  env: string[];
  /** Set when the process is a WebAssembly module, run in place of execve. */
  wasm?: WasmProcess;
}

/** Child side: passes the listener fd to the runtime, then closes our copy. */
function sendListenerToParent(chan: Channel<ChildMessage, ParentMessage>, listenerFd: number): void {
  try {
    chan.send({ type: 'seccomp-listener' }, listenerFd);
  } finally {
    sys.close(listenerFd);
  }
}

export function prepareProcess(plan: ProcessPlan, chan: Channel<ChildMessage, ParentMessage>): ReadyProcess {
  const p = plan.process;
  proc.applyRlimits(p);
  proc.fixStdioOwnership(p);
  // These may need capabilities the process is about to lose.
  const named = (field: string, apply: () => void) => {
    try {
      apply();
    } catch (e) {
      throw new Error(`${field}: ${(e as Error).message}`, { cause: e });
    }
  };
  if (p.scheduler) named('process.scheduler', () => applyScheduler(p.scheduler!));
  if (p.ioPriority) named('process.ioPriority', () => applyIoPriority(p.ioPriority!));
  if (p.apparmorProfile) applyApparmor(p.apparmorProfile, plan.procFd);
  if (p.selinuxLabel) applySelinuxLabel(p.selinuxLabel, plan.procFd);
  if (plan.personality) named('linux.personality', () => applyPersonality(plan.personality!));
  // before seccomp, which may deny set_mempolicy (Docker's profile does without CAP_SYS_NICE)
  if (plan.memoryPolicy) named('linux.memoryPolicy', () => setMemoryPolicy(plan.memoryPolicy!));
  // seccomp: installed at one of two points, see loadPointFor (src/seccomp/load.ts).
  const seccompAt = plan.seccomp && loadPointFor(p);
  const installSeccomp = () => {
    const listener = loadSeccomp(plan.seccomp!);
    if (listener !== undefined) sendListenerToParent(chan, listener);
  };
  // runc's order: the cwd is entered as root first (a directory only root may enter),
  // and again after the uid change only where root was refused (a volume owned by the user).
  // Checked before an early filter is in force: a profile may deny getcwd (runtime-tools'
  // linux_seccomp does; runc then fails, crun does not).
  const entered = enterCwd(p.cwd, true);
  if (entered) checkCwdInRoot();
  if (seccompAt === 'before-user') installSeccomp();
  proc.applyUserAndCapabilities(p);
  if (!entered) {
    enterCwd(p.cwd, false);
    checkCwdInRoot();
  }
  if (p.noNewPrivileges) sys.prctl(C.PR_SET_NO_NEW_PRIVS, 1);
  const env = proc.processEnv(p);
  const args = p.args as string[];
  let ready: ReadyProcess;
  if (runsAsWasm(plan.wasm, args[0])) {
    const m = loadModule(args[0], env, plan.wasm!);
    ready = { exe: m.file, args, env, wasm: { ...m, args, env, passFds: plan.passFds, areas: plan.argEnvAreas, mapped: plan.mappedFiles ?? { ids: [], paths: [] } } };
  } else {
    ready = { exe: proc.lookupExecutable(args[0], env), args, env };
  }
  if (seccompAt === 'before-ready') installSeccomp();
  return ready;
}

/** chdir to the process's cwd; false when `mayRetry` and only permission was lacking. */
function enterCwd(cwd: string, mayRetry: boolean): boolean {
  try {
    process.chdir(cwd);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (mayRetry && (code === 'EACCES' || code === 'EPERM')) return false;
    throw new Error(`chdir to cwd ("${cwd}") set in config.json failed: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The cwd must be inside the container's root: a cwd reached through an fd
 * of the runtime (cwd "/proc/self/fd/N", CVE-2024-21626) is outside it, and
 * getcwd(3) then fails with ENOENT (the kernel's path starts "(unreachable)").
 */
function checkCwdInRoot(): void {
  const breakout = 'current working directory is outside of container mount namespace root -- possible container breakout detected';
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(breakout, { cause: e });
    // e.g. EPERM from a seccomp profile that denies getcwd: runc's words
    throw new Error(`failed to verify if current working directory is safe: ${(e as Error).message}`, { cause: e });
  }
  if (!cwd.startsWith('/')) throw new Error(breakout);
}

/** execve (or runs the module); on failure says so where the process's output goes (nobody may be listening). */
export function execProcess(r: ReadyProcess): never {
  try {
    if (r.wasm) runModule(r.wasm);
    sys.execve(r.exe, r.args, r.env);
  } catch (e) {
    fs.writeSync(2, `tsrunc: exec failed: ${(e as Error).message}\n`);
    sys.exit(127);
  }
}
