// `exec`: runs a new process inside a running container: every namespace of
// its init, its cgroup, and the container's seccomp, capabilities, rlimits,
// AppArmor and no_new_privs unless the process overrides them.
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import * as sys from '../linux/sys';
import { type Process, type Spec } from '../bundle/spec-types';
import { inRuntimeMountNs } from '../bundle/semantic';
import { type StateStore } from '../state/store';
import { cgroupManagerFromState } from '../cgroups';
import { execStage1, type ExecPlan } from '../runtime/init/exec-stages';
import { compileSeccomp } from '../seccomp/compile';
import { sendListenerToAgent } from '../seccomp/notify';
import { hookContext } from '../hooks/state';
import { loadWithStatus } from './lifecycle';
import { writePidFile } from './pidfile';
import { passedFds } from './passfds';
import { StageSession } from './stage-session';
import { wasmPlan } from './wasm';
import { fault } from '../faults';
import { RuntimeError } from '../errors';
import { phase } from '../trace';
import { openCgroupJoin, closeCgroupJoin, type CgroupJoin } from '../cgroups/join';

export interface ExecOptions {
  store: StateStore;
  id: string;
  process: Process;
  pidFile?: string;
  preserveFds: number;
  /** Sub-cgroup to join ("path", or "controller[,controller]:path" entries). */
  cgroup?: string[];
  onConsole?: (master: number) => void;
  subreaper?: boolean;
  /** runc's --ignore-paused: exec into a paused container (the process starts frozen, and runs once resumed). */
  ignorePaused?: boolean;
  /** Debug lines of the stages' setup (--debug). */
  debug?: (msg: string) => void;
}

/**
 * --cgroup's arguments as runc reads them: "path" alone (every hierarchy;
 * only as the one argument) or "controller[,controller]:path" (key "" is
 * every hierarchy).
 */
function parseSubCgroups(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const parts = a.split(':');
    if (parts.length > 2) throw new RuntimeError(`invalid --cgroup argument: ${a}`);
    if (parts.length === 1) {
      if (args.length !== 1) throw new RuntimeError(`invalid --cgroup argument: ${a} (missing <controller>: prefix)`);
      out[''] = a;
    } else {
      for (const c of parts[0].split(',')) out[c] = parts[1];
    }
  }
  return out;
}

/**
 * The cgroup directories the process joins: the container's, or with
 * --cgroup a directory below them, checked before anything starts (runc's
 * errors). Whether it exists is found when the process joins it.
 */
function execCgroupPaths(paths: Record<string, string>, args: string[]): Record<string, string> {
  const out = { ...paths };
  const subs = parseSubCgroups(args);
  const below = (base: string, sub: string) => {
    const dir = path.join(base, sub);
    // runc compares prefixes only, which lets "../NAME-x" out into a sibling: a path must be the base or under it
    if (dir !== base && !dir.startsWith(base.endsWith('/') ? base : `${base}/`)) {
      throw new RuntimeError(`unable to create new parent process: ${sub} is not a sub cgroup path`);
    }
    return dir;
  };
  if ('' in subs) {
    for (const k of Object.keys(out)) out[k] = below(out[k], subs['']);
    return out;
  }
  for (const [c, sub] of Object.entries(subs)) {
    if (!(c in paths)) throw new RuntimeError(`unable to create new parent process: unknown controller ${c} in SubCgroupPaths`);
    out[c] = below(paths[c], sub);
  }
  return out;
}

/** Puts `pid` into the cgroup at `dir`; an error in runc's words (Go's lower-case errno texts). */
function joinCgroup(dir: string, pid: number): void {
  const file = path.join(dir, 'cgroup.procs');
  try {
    fs.writeFileSync(file, String(pid));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const text = err.errno === undefined ? undefined : util.getSystemErrorMap().get(err.errno)?.[1];
    const why = text ? `${err.syscall ?? 'open'} ${file}: ${text}` : err.message;
    throw new RuntimeError(`unable to start container process: error adding pid ${pid} to cgroups: failed to write ${pid}: ${why}`);
  }
}

/** Starts the process; returns its host PID once it has exec'd (or failed before). */
export function execInContainer(opts: ExecOptions): number {
  const { state, status } = loadWithStatus(opts.store, opts.id);
  if (status === 'stopped') throw new RuntimeError('cannot exec in a stopped container');
  if (status === 'paused' && !opts.ignorePaused) throw new RuntimeError('cannot exec in a paused container (use --ignore-paused to override)');
  const pass = passedFds(opts.preserveFds, 0);
  const spec = state.config as Spec;
  const cgroupPaths = execCgroupPaths(state.cgroup ? cgroupManagerFromState(state.cgroup).paths : {}, opts.cgroup ?? []);
  const seccomp = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp) : undefined;
  // the process is born in its cgroups (src/cgroups/join.ts); where one cannot be opened
  // (a --cgroup directory that does not exist) it is added after the fork, failing in runc's words
  let cgroupJoin: CgroupJoin | undefined;
  try {
    if (state.cgroup) cgroupJoin = openCgroupJoin(cgroupPaths);
  } catch {
    cgroupJoin = undefined;
  }
  phase('exec: load state, seccomp compile');
  const plan: ExecPlan = {
    namespaces: state.namespacePaths ?? {},
    process: opts.process,
    personality: spec.linux?.personality,
    memoryPolicy: spec.linux?.memoryPolicy,
    seccomp,
    passFds: pass.count,
    cgroupJoin,
    root: inRuntimeMountNs(spec) ? `/proc/${state.pid}/root` : undefined,
    sessionKeyring: state.sessionKeyring,
    ...wasmPlan(spec.annotations),
    debug: opts.debug !== undefined,
  };
  let pid = 0;
  let session: StageSession;
  try {
    session = StageSession.fork((chan) => execStage1(plan, chan), { subreaper: opts.subreaper, debug: opts.debug });
  } finally {
    closeCgroupJoin(cgroupJoin);
  }
  try {
    fault('exec:forked');
    phase('exec: fork stage-1');
    pid = session.processPid();
    phase('exec: wait for stage-1 (join namespaces, fork of stage-2, exit)');
    if (!cgroupJoin) for (const dir of Object.values(cgroupPaths)) joinCgroup(dir, pid);
    else if (cgroupJoin.v2 && !session.joinedCgroup) joinCgroup(cgroupJoin.v2.dir, pid);
    fault('exec:in-cgroup');
    phase('exec: join the cgroup');
    session.proceed();
    session.untilReady({
      console: (fd) => (opts.onConsole ? opts.onConsole(fd) : sys.close(fd)),
      seccompListener: seccomp && ((fd) => sendListenerToAgent(seccomp, fd, hookContext(spec, opts.id, pid, state.bundle))),
    });
    fault('exec:ready');
    phase('exec: wait for stage-2 (set-up until ready)');
    session.untilExec();
    phase('exec: wait for the execve (channel closed)');
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    return pid;
  } catch (e) {
    if (pid > 0) {
      try {
        sys.kill(pid, 9);
      } catch {
        /* gone */
      }
    }
    throw e;
  } finally {
    session.close();
  }
}
