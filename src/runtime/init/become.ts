// The last steps of any container process, the init's and exec's alike:
// rlimits, scheduling, LSM labels, personality, user and capabilities, cwd,
// no_new_privs, seccomp, the executable's lookup, and execve.
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { Process, Linux } from '../../bundle/spec-types';
import { Channel, ChildMessage, ParentMessage } from '../protocol';
import { applyScheduler, applyIoPriority, applyPersonality } from './scheduling';
import { applyApparmor, applySelinuxLabel } from './lsm';
import * as proc from './process';
import { CompiledFilter, loadSeccomp, loadPointFor } from '../../seccomp/load';
import { sendListenerToParent } from '../../seccomp/notify';

export interface ProcessPlan {
  process: Process;
  personality?: Linux['personality'];
  seccomp?: CompiledFilter;
}

/** What execProcess needs once the caller has done its own last steps (fifo, fds). */
export interface ReadyProcess {
  exe: string;
  args: string[];
  env: string[];
  /** seccomp, when it must be the very last step before execve. */
  beforeExec?: () => void;
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
      throw new Error(`${field}: ${(e as Error).message}`);
    }
  };
  if (p.scheduler) named('process.scheduler', () => applyScheduler(p.scheduler!));
  if (p.ioPriority) named('process.ioPriority', () => applyIoPriority(p.ioPriority!));
  if (p.apparmorProfile) applyApparmor(p.apparmorProfile);
  if (p.selinuxLabel) applySelinuxLabel(p.selinuxLabel);
  if (plan.personality) named('linux.personality', () => applyPersonality(plan.personality!));
  // seccomp: installed at one of three points, see loadPointFor (src/seccomp/load.ts).
  const seccompAt = plan.seccomp && loadPointFor(plan.seccomp, p);
  const installSeccomp = () => {
    const listener = loadSeccomp(plan.seccomp!);
    if (listener !== undefined) sendListenerToParent(chan, listener);
  };
  if (seccompAt === 'before-user') installSeccomp();
  proc.applyUserAndCapabilities(p);
  try {
    process.chdir(p.cwd);
  } catch (e) {
    throw new Error(`chdir to cwd ("${p.cwd}") set in config.json failed: ${(e as Error).message}`);
  }
  if (p.noNewPrivileges) sys.prctl(C.PR_SET_NO_NEW_PRIVS, 1);
  const env = proc.processEnv(p);
  const args = p.args as string[];
  const exe = proc.lookupExecutable(args[0], env);
  if (seccompAt === 'before-ready') installSeccomp(); // the listener must reach the runtime
  return { exe, args, env, beforeExec: seccompAt === 'before-exec' ? installSeccomp : undefined };
}

/** execve; on failure says so where the process's output goes (nobody may be listening). */
export function execProcess(r: ReadyProcess): never {
  r.beforeExec?.(); // seccomp last, so only execve must pass it
  try {
    sys.execve(r.exe, r.args, r.env);
  } catch (e) {
    fs.writeSync(2, `tsrunc: exec failed: ${(e as Error).message}\n`);
    sys.exit(127);
  }
}
