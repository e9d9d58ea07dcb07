// Hooks the runtime itself runs, in the runtime namespace: prestart,
// createRuntime, poststart, poststop. (createContainer and startContainer run
// in the container's namespaces, from its init: src/runtime/init/hooks.ts.)
import type * as ChildProcess from 'child_process';
import * as os from 'os';
import * as sys from '../linux/sys';
import { type Hook } from '../bundle/spec-types';
import { RuntimeError } from '../errors';
import { type HookName, type HookContext, hookState, hookArgs } from './state';
import { clipOutput, hookErrorText, hookExitedText, hookStartText, hookTimeoutText } from './messages';

// loaded on first use: most commands that load this module never spawn (about 6 ms)
const childProcess = (): typeof ChildProcess => require('child_process');

/** Runs hook #`index` of kind `name`; throws runc's words for its failure. */
function runOne(name: HookName, index: number, h: Hook, ctx: HookContext): void {
  const args = hookArgs(h);
  const fail = (inner: string) => new RuntimeError(hookErrorText(name, index, inner));
  const res = childProcess().spawnSync(h.path, args.slice(1), {
    argv0: args[0],
    env: Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    input: hookState(name, ctx),
    timeout: h.timeout ? h.timeout * 1000 : undefined,
    killSignal: 'SIGKILL',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 4 * 1024 * 1024,
    encoding: 'utf8',
  });
  // A hook that exits without reading its stdin is fine (EPIPE on our write): its status decides.
  const error = res.error as NodeJS.ErrnoException | undefined;
  if (error && error.code !== 'EPIPE') {
    if (error.code === 'ETIMEDOUT') throw fail(hookTimeoutText(h.timeout!));
    // no pid: execve failed (ENOENT, EACCES, ENOEXEC...), which Go reports as a failed fork/exec
    if (!res.pid && typeof error.errno === 'number') throw fail(hookStartText(h.path, sys.strerror(-error.errno)));
    throw fail(error.message);
  }
  if (!res.signal && res.status === 0) return;
  // Node does not tell whether a core was dumped (Go's "(core dumped)").
  const exit = res.signal ? { signal: os.constants.signals[res.signal] } : { code: res.status ?? 0 };
  throw fail(hookExitedText(exit, clipOutput(res.stdout ?? ''), clipOutput(res.stderr ?? '')));
}

/** Runs one kind of hook in order; throws on the first failure. */
export function runHooks(name: HookName, hooks: Hook[] | undefined, ctx: HookContext): void {
  (hooks ?? []).forEach((h, i) => runOne(name, i, h, ctx));
}

/** poststop hooks: a failure is only a warning, and the next hooks still run (runtime.md step 13). */
export function runPoststopHooks(hooks: Hook[] | undefined, ctx: HookContext, warn: (msg: string) => void): void {
  (hooks ?? []).forEach((h, i) => {
    try {
      runOne('poststop', i, h, ctx);
    } catch (e) {
      warn((e as Error).message);
    }
  });
}
