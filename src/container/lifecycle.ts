// start, kill and delete of an existing container.
import * as fs from 'fs';
import * as sys from '../linux/sys';
import { processStartTime } from '../linux/proc';
import { StateStore, SavedState } from '../state/store';
import { cgroupManagerFromState, signalAllProcesses } from '../cgroups';
import { deriveStatus, initAlive, Status } from './status';
import { RuntimeError, containerNotRunning } from '../errors';
import { Spec } from '../bundle/spec-types';
import { runHooks, runPoststopHooks } from '../hooks/run';
import { hookContext } from '../hooks/state';
import { fault } from '../faults';

export function loadWithStatus(store: StateStore, id: string): { state: SavedState; status: Status } {
  const state = store.load(id);
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
  const fifoPath = store.fifoPath(id);
  let fd: number;
  try {
    // non-blocking: the open returns even when no init holds the other end
    fd = fs.openSync(fifoPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    throw new RuntimeError('cannot start an already running container');
  }
  let answer: string;
  try {
    answer = readFifoAnswer(fd, state);
  } finally {
    fs.closeSync(fd);
  }
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
    sys.sleepMs(1);
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

/** Kills every process of the container and waits (up to ~5 s) until they are gone. */
function killAll(state: SavedState): void {
  const cgroup = state.cgroup ? cgroupManagerFromState(state.cgroup) : undefined;
  const pids = new Set<number>(cgroup ? cgroup.processes() : []);
  if (initAlive(state)) pids.add(state.pid);
  for (const pid of pids) {
    try {
      sys.kill(pid, 9);
    } catch {
      /* gone */
    }
  }
  thaw(state); // a paused (or half-frozen) container dies only once thawed
  for (let i = 0; i < 2500; i++) {
    const alive = [...pids].some((p) => processStartTime(p) !== undefined);
    if (!alive) return;
    sys.sleepMs(2);
  }
}

function thaw(state: SavedState): void {
  if (!state.cgroup) return;
  const paths = state.cgroup.paths;
  try {
    if (state.cgroup.version === 1 && paths['freezer']) fs.writeFileSync(`${paths['freezer']}/freezer.state`, 'THAWED');
    if (state.cgroup.version === 2) fs.writeFileSync(`${paths['']}/cgroup.freeze`, '0');
  } catch {
    /* freezer gone */
  }
}

/** Removes a container: refuses a running one unless `force` (runtime.md "delete"). */
export function deleteContainer(store: StateStore, id: string, force: boolean, warn: (msg: string) => void = () => undefined): void {
  const { state, status } = loadWithStatus(store, id);
  if (status !== 'stopped' && status !== 'created' && !force) {
    throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
  }
  killAll(state);
  if (state.cgroup) cgroupManagerFromState(state.cgroup).destroy();
  store.remove(id);
  const spec = state.config as Spec;
  runPoststopHooks(spec.hooks?.poststop, hookContext(spec, id, state.pid, state.bundle), warn);
}
