// The container commands that work on its cgroup: pause, resume, update,
// events and ps. Each loads the saved state, checks the derived status the
// way runc does, and asks the cgroup manager.
import * as fs from 'fs';
import { readFdBounded, parseBoundedJson } from '../bundle/json';
import { type StateStore, type SavedState } from '../state/store';
import { cgroupManagerFromState, type CgroupManager } from '../cgroups';
import { type LinuxResources, mergeResources } from '../cgroups/resources';
import { toJson, type Json } from '../cgroups/stats';
import { loadWithStatus } from './lifecycle';
import { initAlive } from './status';
import { RuntimeError, containerNotRunning } from '../errors';
import { type Spec } from '../bundle/spec-types';
import { spawnCapture, type Captured } from '../linux/spawn';


function cgroupOf(state: SavedState): CgroupManager {
  if (!state.cgroup) throw new RuntimeError(`container ${state.id} has no cgroup of its own (it was created without one)`);
  return cgroupManagerFromState(state.cgroup);
}

/** Freezes every process of a running (or created) container. */
export function pauseContainer(store: StateStore, id: string): void {
  const { state, status } = loadWithStatus(store, id);
  if (status !== 'running' && status !== 'created') throw containerNotRunning();
  cgroupOf(state).freeze();
}

/** Thaws a paused container. */
export function resumeContainer(store: StateStore, id: string): void {
  const { state } = loadWithStatus(store, id);
  if (!initAlive(state) || !state.cgroup) throw new RuntimeError('container not paused');
  const cgroup = cgroupOf(state);
  if (!cgroup.isFrozen()) throw new RuntimeError('container not paused');
  cgroup.thaw();
}

export interface UpdateOptions {
  warn?: (msg: string) => void;
  /** How messages name the resources given ("resources" for --resources JSON). */
  where?: string;
}

/**
 * Merges `delta` into the container's linux.resources, writes the result
 * live and saves it in the state. Device rules are left as they are (runc's
 * update leaves them too). When the kernel refuses a value, the previous
 * settings are written back.
 */
export function updateContainer(store: StateStore, id: string, delta: LinuxResources, opts: UpdateOptions = {}): LinuxResources {
  const { state, status } = loadWithStatus(store, id);
  if (status === 'stopped') throw containerNotRunning();
  const cgroup = cgroupOf(state);
  const spec = (state.config ?? {}) as Spec;
  const old = (spec.linux?.resources ?? {}) as LinuxResources;
  const { devices: _devices, ...rest } = delta;
  const merged = mergeResources(old, rest);
  // lifting the memory limit without a word about swap lifts the swap limit too
  if (merged.memory && rest.memory?.limit === -1 && rest.memory.swap === undefined && merged.memory.swap) merged.memory.swap = -1;
  const warn = opts.warn ?? (() => undefined);
  try {
    cgroup.apply(merged, { update: true, warn, where: opts.where ?? 'linux.resources' });
  } catch (e) {
    try {
      cgroup.apply(old, { update: true });
    } catch (e2) {
      warn(`setting back the previous cgroup settings failed: ${(e2 as Error).message}; the saved state and the cgroup may disagree`);
    }
    throw e;
  }
  spec.linux = { ...(spec.linux ?? {}), resources: merged as Record<string, unknown> };
  state.config = spec;
  store.save(state);
  return merged;
}

export interface EventsOptions {
  /** Milliseconds between stats. */
  intervalMs: number;
  /** One stats event, then return. */
  statsOnly: boolean;
}

/** What `events` yields: an event, or how long to wait (on `fd`, when there is one to poll) before the next step. */
export type EventStep = { event: ContainerEvent } | { waitMs: number; fd?: number };

/** runc's events: stats of the container's cgroup, or an OOM. */
export interface ContainerEvent {
  type: 'stats' | 'oom';
  id: string;
  data?: Json;
}

/**
 * `events`: with statsOnly one stats event; otherwise stats every interval
 * and an "oom" event for each OOM, until the container stops. A generator of
 * steps, so the CLI can block between them and the library can await.
 */
export function* containerEvents(store: StateStore, id: string, opts: EventsOptions): Generator<EventStep, void, void> {
  const { state, status } = loadWithStatus(store, id);
  if (status === 'stopped') throw new RuntimeError(`container with id ${id} is not running`);
  const cgroup = cgroupOf(state);
  const stats = (): EventStep => ({ event: { type: 'stats', id, data: cgroup.stats() } });
  if (opts.statsOnly) {
    yield stats();
    return;
  }
  const watcher = cgroup.oomWatcher();
  try {
    let next = Date.now() + opts.intervalMs;
    for (;;) {
      yield { waitMs: Math.max(0, Math.min(next - Date.now(), 200)), fd: watcher.fd };
      const gone = !initAlive(state) || !cgroup.exists();
      // removing a v1 cgroup signals its eventfd too: that is not an OOM
      if (watcher.check() > 0 && cgroup.exists()) yield { event: { type: 'oom', id } };
      if (gone) return;
      if (Date.now() >= next) {
        yield stats();
        next = Math.max(next + opts.intervalMs, Date.now());
      }
    }
  } finally {
    watcher.close();
  }
}

/** The JSON line runc prints for an event. */
export function eventLine(e: ContainerEvent): string {
  return toJson(e.data === undefined ? { type: e.type, id: e.id } : { type: e.type, id: e.id, data: e.data }) + '\n';
}

/** Host PIDs of the container's processes. */
export function containerPids(store: StateStore, id: string): number[] {
  const { state } = loadWithStatus(store, id);
  if (state.cgroup) return cgroupManagerFromState(state.cgroup).processes().sort((a, b) => a - b);
  return initAlive(state) ? [state.pid] : [];
}

/** `ps` output (default `ps -ef`) reduced to the header and the rows of `pids`. */
export function psTable(pids: number[], psArgs: string[]): string {
  const args = psArgs.length ? psArgs : ['-ef'];
  const env = { ...process.env, PATH: process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  let r: Captured;
  try {
    r = spawnCapture('ps', args, Object.entries(env).map(([k, v]) => `${k}=${v}`));
  } catch (e) {
    throw new RuntimeError(`cannot run ps: ${(e as Error).message}`, 1, { cause: e });
  }
  if (r.code !== 0) throw new RuntimeError(`ps ${args.join(' ')}: exit status ${r.code ?? `signal ${r.signal}`}: ${(r.stdout + r.stderr).trim()}`);
  const lines = r.stdout.split('\n');
  const header = lines[0] ?? '';
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new RuntimeError("couldn't find PID field in ps output");
  const want = new Set(pids);
  const out = [header];
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const field = line.trim().split(/\s+/)[pidIndex];
    const pid = Number(field);
    if (!Number.isInteger(pid)) throw new RuntimeError(`unable to parse pid: ${JSON.stringify(field)}`);
    if (want.has(pid)) out.push(line);
  }
  return out.join('\n') + '\n';
}

/** Reads LinuxResources JSON from a file, or from stdin for "-". */
export function readResourcesFile(file: string): LinuxResources {
  const what = file === '-' ? 'resources from standard input' : `resources ${file}`;
  let text: string;
  try {
    if (file === '-') {
      text = readFdBounded(0, what).toString('utf8');
    } else {
      const fd = fs.openSync(file, 'r');
      try {
        text = readFdBounded(fd, what).toString('utf8');
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
    throw new RuntimeError(`cannot read resources from ${file === '-' ? 'standard input' : file}: ${(e as Error).message}`, 1, { cause: e });
  }
  const value = parseBoundedJson(text, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RuntimeError(`${what}: must be a JSON object (LinuxResources)`);
  }
  return value as LinuxResources;
}
