// Fault points for the reliability tests (test/reliability/): a test sets
// TSRUNC_FAULT=<point>[@<action>] and the runtime, on reaching that point,
// kills itself (SIGKILL, the default), or sleeps N ms ("sleep=N") to make a
// race go the slow way every time. Unset (always, outside those tests) a point
// costs one environment lookup.

/** Where a fault may be injected: one per step of create, start, exec and delete. */
export type FaultPoint =
  | 'create:claimed' | 'create:cgroup' | 'create:forked' | 'create:init-pid' | 'create:in-cgroup' | 'create:hooks'
  | 'create:netdev-moved' | 'create:netdevices' | 'create:ready' | 'create:saved'
  | 'start:opened' | 'start:read' | 'start:answered'
  | 'exec:forked' | 'exec:in-cgroup' | 'exec:ready'
  | 'delete:killed' | 'delete:cgroup' | 'delete:removed';

export const FAULT_ENV = 'TSRUNC_FAULT';

export function fault(point: FaultPoint): void {
  const spec = process.env[FAULT_ENV];
  if (!spec) return;
  const [at, action = 'kill'] = spec.split('@');
  if (at !== point) return;
  if (action.startsWith('sleep=')) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(action.slice(6)));
    return;
  }
  process.kill(process.pid, 'SIGKILL');
}
