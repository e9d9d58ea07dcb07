// The state JSON a hook reads on stdin (runtime.md "State"), with the status
// the spec gives for each hook's point in the lifecycle.
import { type Hook, type Spec } from '../bundle/spec-types';
import { SPEC_VERSION } from '../version';

export type HookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

// runtime.md: the create-time hooks are lifecycle steps 3-5, after the environment
// is created (step 2); "created" is the status after step 2.
export const HOOK_STATUS: Record<HookName, string> = {
  prestart: 'created',
  createRuntime: 'created',
  createContainer: 'created',
  startContainer: 'created',
  poststart: 'running',
  poststop: 'stopped',
};

export interface HookContext {
  ociVersion: string;
  id: string;
  /** PID as the hook's namespace sees it. */
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
}

export function hookState(name: HookName, ctx: HookContext): string {
  const state: Record<string, unknown> = {
    ociVersion: ctx.ociVersion,
    id: ctx.id,
    status: HOOK_STATUS[name],
    pid: ctx.pid,
    bundle: ctx.bundle,
  };
  if (ctx.annotations && Object.keys(ctx.annotations).length) state.annotations = ctx.annotations;
  return JSON.stringify(state);
}

export function hookArgs(h: Hook): string[] {
  return h.args && h.args.length ? h.args : [h.path];
}

/**
 * The state a hook (or a seccomp agent) is told about. ociVersion is the
 * spec version of this runtime's state format, not the config's (as runc).
 */
export function hookContext(spec: Spec, id: string, pid: number, bundle: string): HookContext {
  return { ociVersion: SPEC_VERSION, id, pid, bundle, annotations: spec.annotations };
}
