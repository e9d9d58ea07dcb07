// `exec`: runs a new process inside a running container: every namespace of
// its init, its cgroup, and the container's seccomp, capabilities, rlimits,
// AppArmor and no_new_privs unless the process overrides them.
import * as fs from 'fs';
import * as path from 'path';
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

/** Where a sub-cgroup given with --cgroup lies, per hierarchy. */
function subCgroupPaths(paths: Record<string, string>, specs: string[]): Record<string, string> {
  const out = { ...paths };
  for (const s of specs) {
    const colon = s.indexOf(':');
    const controllers = colon < 0 ? Object.keys(paths) : s.slice(0, colon).split(',');
    const sub = colon < 0 ? s : s.slice(colon + 1);
    for (const c of controllers) {
      const key = Object.keys(paths).find((k) => k === c || k.split(',').includes(c));
      if (key === undefined) throw new RuntimeError(`--cgroup: no cgroup controller "${c}" for this container`);
      const dir = path.join(paths[key], sub);
      if (!dir.startsWith(paths[key]) || !fs.existsSync(dir)) throw new RuntimeError(`--cgroup: ${dir} does not exist`);
      out[key] = dir;
    }
  }
  return out;
}

/** Starts the process; returns its host PID once it has exec'd (or failed before). */
export function execInContainer(opts: ExecOptions): number {
  const { state, status } = loadWithStatus(opts.store, opts.id);
  if (status === 'stopped') throw new RuntimeError('cannot exec in a stopped container');
  if (status === 'paused' && !opts.ignorePaused) throw new RuntimeError('cannot exec in a paused container (use --ignore-paused to override)');
  const pass = passedFds(opts.preserveFds, 0);
  const spec = state.config as Spec;
  const seccomp = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp) : undefined;
  const plan: ExecPlan = {
    namespaces: state.namespacePaths ?? {},
    process: opts.process,
    personality: spec.linux?.personality,
    memoryPolicy: spec.linux?.memoryPolicy,
    seccomp,
    passFds: pass.count,
    root: inRuntimeMountNs(spec) ? `/proc/${state.pid}/root` : undefined,
    sessionKeyring: state.sessionKeyring,
    ...wasmPlan(spec.annotations),
    debug: opts.debug !== undefined,
  };
  let pid = 0;
  const session = StageSession.fork((chan) => execStage1(plan, chan), { subreaper: opts.subreaper, debug: opts.debug });
  try {
    fault('exec:forked');
    pid = session.processPid();
    if (state.cgroup) {
      const cg = cgroupManagerFromState(state.cgroup);
      const paths = opts.cgroup?.length ? subCgroupPaths(cg.paths, opts.cgroup) : cg.paths;
      for (const dir of Object.values(paths)) fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    }
    fault('exec:in-cgroup');
    session.proceed();
    session.untilReady({
      console: (fd) => (opts.onConsole ? opts.onConsole(fd) : sys.close(fd)),
      seccompListener: seccomp && ((fd) => sendListenerToAgent(seccomp, fd, hookContext(spec, opts.id, pid, state.bundle))),
    });
    fault('exec:ready');
    session.untilExec();
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
