// A container's status is derived whenever it is read, never stored: the
// init's PID with its start time, the exec fifo and the freezer decide it.
import * as fs from 'fs';
import { type SavedState, type Owned } from '../state/store';
import { processStartTime, processExiting } from '../linux/proc';
import { cgroupManagerFromState } from '../cgroups';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/**
 * Why the pid a well-formed state names is not the container's init, or
 * undefined (a StateCheck for the store). Commands signal, join and kill that
 * pid: one naming another process must never be taken for the init. It must
 * be the init create recorded in owned.json, and when alive be in the
 * container's cgroup. A dead one with nothing to say otherwise is a stopped
 * container, as in runc; so is one that is exiting (it has left its cgroup
 * already, and may stay so while the rest of its pid namespace dies).
 */
export function initProblem(state: SavedState, owned: Owned | undefined): string | undefined {
  const init = owned?.init;
  if (init && (state.pid !== init.pid || (state.pidStartTime && init.startTime && state.pidStartTime !== init.startTime))) {
    return `its pid ${state.pid} is not the init its create recorded (${init.pid})`;
  }
  if (!state.cgroup || !initAlive(state)) return undefined;
  const cgroup = cgroupManagerFromState(state.cgroup);
  if (cgroup.exists() && !cgroup.processes().includes(state.pid) && !processExiting(state.pid)) return `its pid ${state.pid} is not in the container's cgroup`;
  return undefined;
}

export function initAlive(s: SavedState): boolean {
  return s.pid > 0 && processStartTime(s.pid) === s.pidStartTime;
}

export function deriveStatus(s: SavedState, fifoPath: string): Status {
  if (!initAlive(s)) return 'stopped';
  // as runc: a frozen container is paused, even one that was never started
  if (s.cgroup && cgroupManagerFromState(s.cgroup).isFrozen()) return 'paused';
  if (fs.existsSync(fifoPath)) return 'created';
  return 'running';
}

/** The OCI state JSON as runc prints it (runtime.md's fields plus rootfs, created, owner). */
export function ociState(s: SavedState, status: Status): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: status === 'stopped' ? 0 : s.pid,
    status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
  };
  // runc's field order: annotations (when any) come before owner
  if (s.annotations && Object.keys(s.annotations).length) out.annotations = s.annotations;
  out.owner = s.owner;
  return out;
}
