// start, kill and delete of an existing container.
import * as fs from 'fs';
import * as sys from '../linux/sys';
import { processStartTime } from '../linux/proc';
import { type StateStore, type SavedState, type Found, type Owned } from '../state/store';
import { cgroupManagerFor, cgroupManagerFromState, signalAllProcesses } from '../cgroups';
import { deriveStatus, initAlive, initProblem, type Status } from './status';
import { RuntimeError, containerNotRunning } from '../errors';
import { type Spec } from '../bundle/spec-types';
import { runHooks, runPoststopHooks } from '../hooks/run';
import { hookContext } from '../hooks/state';
import { fault } from '../faults';
import { phase } from '../trace';
import type * as HostRootfs from './host-rootfs';

// only a container without a mount namespace has mounts in the runtime's: its module (with the
// semantic checks it uses) is loaded for it alone, not for every start, state and delete
const hostRootfs = (): typeof HostRootfs => require('./host-rootfs');

export function loadWithStatus(store: StateStore, id: string): { state: SavedState; status: Status } {
  const state = store.load(id, initProblem);
  return { state, status: deriveStatus(state, store.fifoPath(id)) };
}

/** Lets the waiting init exec the user process (runtime.md "start"). */
export function startContainer(store: StateStore, id: string): SavedState {
  const { state, status } = loadWithStatus(store, id);
  switch (status) {
    case 'created':
      break;
    case 'stopped':
      throw new RuntimeError('cannot start a container that has stopped');
    case 'paused':
      throw new RuntimeError('cannot start a container in the paused state');
    default:
      throw new RuntimeError('cannot start an already running container');
  }
  phase('start: load the state');
  const fifoPath = store.fifoPath(id);
  let fd: number;
  try {
    // non-blocking: the open returns even when no init holds the other end
    fd = fs.openSync(fifoPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    throw new RuntimeError('cannot start an already running container');
  }
  fault('start:opened');
  let answer: string;
  try {
    answer = readFifoAnswer(fd, state);
  } finally {
    fs.closeSync(fd);
  }
  fault('start:answered');
  phase('start: open the fifo, read the answer');
  fs.rmSync(fifoPath, { force: true });
  if (answer !== '0') throw new RuntimeError(answer.startsWith('E') ? answer.slice(1) : 'cannot start a container that has stopped');
  const spec = state.config as Spec;
  try {
    runHooks('poststart', spec.hooks?.poststart, hookContext(spec, id, state.pid, state.bundle));
  } catch (e) {
    // runtime.md: a failed poststart hook stops the container
    try {
      sys.kill(state.pid, 9);
    } catch {
      /* already gone */
    }
    throw e;
  }
  phase('start: remove the fifo, poststart hooks');
  return state;
}

/**
 * Once `start` opens the fifo, the init's blocked open for writing completes,
 * it runs the startContainer hooks and writes "0", or "E" and the error.
 */
function readFifoAnswer(fd: number, state: SavedState): string {
  let answer = '';
  const buf = Buffer.alloc(4096);
  for (;;) {
    // Whether the init lives is read BEFORE the fifo: an init that wrote its answer
    // and is gone (a fast process, a failed startContainer hook) left the answer in
    // the fifo for this read. Read after, a dead init could hide an answer not yet read.
    const alive = initAlive(state);
    // 0: no writer (yet, or any more); EAGAIN: the init has it open, nothing written yet
    let n = 0;
    let open = false;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      open = true;
    }
    fault('start:read');
    if (n > 0) {
      answer += buf.toString('utf8', 0, n);
      if (answer === '0') return answer;
      continue;
    }
    if (answer && !open) return answer; // "E..." and the init closed it
    if (!alive) return answer || 'stopped';
    // the init has the fifo open: its answer is a moment away (a wake-up and a write)
    sys.sleepMs(open ? 0.1 : 1);
  }
}

/** Sends a signal to the init, or with `all` to every process of the container. */
export function killContainer(store: StateStore, id: string, signal: number, all: boolean): void {
  const { state, status } = loadWithStatus(store, id);
  if (status === 'stopped' && !all) throw containerNotRunning();
  if (all) {
    // As runc: --all signals whatever is left in the container's cgroup, and is no
    // error once the container has stopped (CRI's StopContainer sends it after KILL).
    const cgroup = state.cgroup ? cgroupManagerFromState(state.cgroup) : undefined;
    if (cgroup?.exists()) {
      signalAllProcesses(cgroup, signal); // frozen meanwhile, as runc does
      return;
    }
    if (status === 'stopped') return;
  }
  try {
    sys.kill(state.pid, signal);
  } catch (e) {
    if ((e as { code?: string }).code === 'ESRCH') throw containerNotRunning();
    throw e;
  }
}

interface Proc {
  pid: number;
  startTime: string;
}

/** The process is the one recorded (same PID, same start time), alive, and not this one. */
function isLive(p: Proc | undefined): p is Proc {
  return p !== undefined && p.pid > 0 && p.pid !== process.pid && processStartTime(p.pid) === p.startTime;
}

/** SIGKILLs the processes and everything in the cgroup, thawing it, and waits (up to ~5 s) until they are gone. */
type SavedCgroup = NonNullable<Owned['cgroup']>;

function killAndWait(procs: Proc[], saved: SavedCgroup | undefined): void {
  const cgroup = saved ? cgroupManagerFromState(saved) : undefined;
  const pids = new Set<number>(cgroup?.exists() ? cgroup.processes() : []);
  for (const p of procs) if (isLive(p)) pids.add(p.pid);
  for (const pid of pids) {
    try {
      sys.kill(pid, 9);
    } catch {
      /* gone */
    }
  }
  if (saved) thaw(saved); // a paused (or half-frozen) container dies only once thawed
  for (let i = 0; i < 2500; i++) {
    const alive = [...pids].some((p) => processStartTime(p) !== undefined);
    if (!alive) return;
    sys.sleepMs(2);
  }
}

function thaw(saved: SavedCgroup): void {
  const paths = saved.paths;
  try {
    if (saved.version === 1 && paths['freezer']) fs.writeFileSync(`${paths['freezer']}/freezer.state`, 'THAWED');
    if (saved.version === 2) fs.writeFileSync(`${paths['']}/cgroup.freeze`, '0');
  } catch {
    /* freezer gone */
  }
}

/** Removes a container: refuses a running one unless `force` (runtime.md "delete"). */
export function deleteContainer(store: StateStore, id: string, force: boolean, warn: (msg: string) => void = () => undefined): void {
  const found = store.inspect(id, initProblem);
  if (!found.state) {
    if (!force) throw new RuntimeError(`container ${id} ${found.problem}: use delete --force`);
    removeBroken(store, found, warn);
    return;
  }
  const state = found.state;
  const status = deriveStatus(state, store.fifoPath(id));
  if (status !== 'stopped' && status !== 'created' && !force) {
    throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
  }
  phase('delete: load the state');
  killAndWait([{ pid: state.pid, startTime: state.pidStartTime }], state.cgroup);
  fault('delete:killed');
  phase('delete: kill and wait');
  if (state.cgroup) cgroupManagerFromState(state.cgroup).destroy();
  fault('delete:cgroup');
  phase('delete: remove the cgroup');
  if (state.hostRootfs) hostRootfs().detachHostRootfs(state.hostRootfs);
  // The poststop hooks are owed until the state dir that records them goes: a delete
  // killed before they ran leaves them to the next one (run twice rather than never).
  const spec = state.config as Spec;
  runPoststopHooks(spec.hooks?.poststop, hookContext(spec, id, state.pid, state.bundle), warn);
  store.remove(id);
  fault('delete:removed');
  phase('delete: poststop hooks, remove the state');
}

/**
 * delete --force of a container without a usable state (its create was
 * killed, its state.json is corrupt): what owned.json says it owns goes, a
 * create still running first; then the poststop hooks owed, then the directory.
 */
function removeBroken(store: StateStore, found: Found, warn: (msg: string) => void): void {
  const owned = found.owned;
  if (isLive(owned?.creator)) killAndWait([owned!.creator], undefined);
  // no owned.json either: the one cgroup that can still be told is the one create makes without a cgroupsPath, named after the id
  const cgroup = owned ? owned.cgroup : defaultCgroup(found.id);
  killAndWait(owned?.init ? [owned.init] : [], cgroup);
  if (cgroup) cgroupManagerFromState(cgroup).destroy();
  if (owned?.hostRootfs) hostRootfs().detachHostRootfs(owned.hostRootfs);
  const spec = owned?.config as Spec | undefined;
  if (spec && owned?.bundle && (owned.hooksStarted || (owned.init && spec.hooks?.createContainer?.length))) {
    runPoststopHooks(spec.hooks?.poststop, hookContext(spec, found.id, owned.init?.pid ?? 0, owned.bundle), warn);
  }
  store.remove(found.id); // last: owned.json records the poststop hooks owed
}

/** The cgroup `create` gives `id` when the config has no cgroupsPath, if it exists. */
function defaultCgroup(id: string): SavedCgroup | undefined {
  try {
    const m = cgroupManagerFor(undefined, id, false);
    return m.exists() ? { version: m.version, paths: m.paths } : undefined;
  } catch {
    return undefined; // no cgroup hierarchy to look in
  }
}
