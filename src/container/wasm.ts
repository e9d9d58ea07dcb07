// The parent's part for containers marked as WebAssembly (src/bundle/wasm.ts,
// src/runtime/init/wasm.ts): what the stages need to run a module.
import { wasmMarking, type WasmMarking } from '../bundle/wasm';
import { argEnvAreas, type ArgEnvAreas } from '../linux/proc';
import { eventfdNumbers } from '../linux/fds';

/**
 * The marking, and what a module's process needs to know of this process
 * (its forked children have the same): where its argv and environment lie,
 * which fds are its eventfds. {} for a native container.
 */
export function wasmPlan(annotations: Record<string, string> | undefined): { wasm?: WasmMarking; argEnvAreas?: ArgEnvAreas; eventfds?: number[] } {
  const wasm = wasmMarking(annotations);
  return wasm ? { wasm, argEnvAreas: argEnvAreas(), eventfds: eventfdNumbers() } : {};
}
