// Hooks the runtime itself runs, in the runtime namespace: prestart,
// createRuntime, poststart, poststop. (createContainer and startContainer run
// in the container's namespaces, from its init: src/runtime/init/hooks.ts.)
import type * as ChildProcess from 'child_process';
import { type Hook } from '../bundle/spec-types';
import { RuntimeError } from '../errors';
import { type HookName, type HookContext, hookState, hookArgs, describeHook } from './state';

// loaded on first use: most commands that load this module never spawn (about 6 ms)
const childProcess = (): typeof ChildProcess => require('child_process');

/** Runs one kind of hook in order; throws on the first failure. */
export function runHooks(name: HookName, hooks: Hook[] | undefined, ctx: HookContext): void {
  (hooks ?? []).forEach((h, i) => {
    const args = hookArgs(h);
    const what = describeHook(name, i, h);
    const res = childProcess().spawnSync(h.path, args.slice(1), {
      argv0: args[0],
      env: Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      input: hookState(name, ctx),
      timeout: h.timeout ? h.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 4 * 1024 * 1024,
    });
    const output = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim();
    const shown = output ? `: ${output.slice(0, 2000)}` : '';
    // A hook that exits without reading its stdin is fine (EPIPE on our write): its status decides.
    if (res.error && (res.error as NodeJS.ErrnoException).code !== 'EPIPE') {
      const code = (res.error as NodeJS.ErrnoException).code;
      if (code === 'ETIMEDOUT') throw new RuntimeError(`${what} timed out after ${h.timeout} s`);
      if (code === 'ENOENT') throw new RuntimeError(`${what}: ${h.path} does not exist`);
      throw new RuntimeError(`${what} failed: ${res.error.message}`);
    }
    if (res.signal) throw new RuntimeError(`${what} was killed by ${res.signal}${shown}`);
    if (res.status !== 0) throw new RuntimeError(`${what} exited with status ${res.status}${shown}`);
  });
}

/** poststop hooks: a failure is only a warning, and the next hooks still run (runtime.md step 13). */
export function runPoststopHooks(hooks: Hook[] | undefined, ctx: HookContext, warn: (msg: string) => void): void {
  (hooks ?? []).forEach((h, i) => {
    try {
      runHooks('poststop', [h], ctx);
    } catch (e) {
      warn((e as Error).message.replace('poststop hook #0', `poststop hook #${i}`));
    }
  });
}
