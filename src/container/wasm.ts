// The parent's part for containers marked as WebAssembly (src/bundle/wasm.ts,
// src/runtime/init/wasm.ts): what the stages need to run a module.
import { wasmMarking } from '../bundle/wasm';
import { argEnvAreas, mappedFiles } from '../linux/proc';
import { type WasmPlan } from '../runtime/init/become';

/**
 * The marking, and what a module's process needs to know of this process
 * (its forked children have the same): where its argv and environment lie,
 * which files it runs and maps. {} for a native
 * container.
 */
export function wasmPlan(annotations: Record<string, string> | undefined): WasmPlan {
  const wasm = wasmMarking(annotations);
  return wasm ? { wasm, argEnvAreas: argEnvAreas(), mappedFiles: mappedFiles() } : {};
}
