// Which processes of a container run as WebAssembly modules (WASI) instead of
// being exec'd: the annotations containerd, crun and Kubernetes' wasm
// RuntimeClasses use, decided as crun's wasm handlers decide
// (handlers/handler-utils.c wasm_can_handle_container, custom-handler.c).

export const HANDLER_ANNOTATION = 'run.oci.handler';
export const VARIANT_ANNOTATION = 'module.wasm.image/variant';
const CRI_CONTAINER_TYPE = 'io.kubernetes.cri.container-type';

/**
 * How a container is marked: `all` runs every process (the init and each
 * exec) as a module, whatever its args[0]; `smart` only a process whose
 * args[0] ends in `.wasm` (or `.wat`), so native side-cars still run.
 */
export interface WasmMarking {
  mode: 'all' | 'smart';
  /** The annotation that decided it, as `name=value`, for error messages. */
  by: string;
}

/**
 * The container's marking, or undefined for a native container. A CRI
 * sandbox (the pause container) is never one; `run.oci.handler`, when
 * present, decides alone (crun's order); other handler names are not ours.
 */
export function wasmMarking(annotations: Record<string, string> | undefined): WasmMarking | undefined {
  const a = annotations ?? {};
  if (a[CRI_CONTAINER_TYPE] === 'sandbox') return undefined;
  const pick = (name: string, all: string, smart: string): WasmMarking | undefined => {
    const v = a[name];
    if (v === all) return { mode: 'all', by: `${name}=${v}` };
    if (v === smart) return { mode: 'smart', by: `${name}=${v}` };
    return undefined;
  };
  if (a[HANDLER_ANNOTATION] !== undefined) return pick(HANDLER_ANNOTATION, 'wasm', 'wasm-smart');
  return pick(VARIANT_ANNOTATION, 'compat', 'compat-smart');
}

/** Whether a process with this args[0] runs as a module in a container with this marking. */
export function runsAsWasm(marking: WasmMarking | undefined, arg0: string | undefined): boolean {
  if (!marking || !arg0) return false;
  return marking.mode === 'all' || arg0.endsWith('.wasm') || arg0.endsWith('.wat');
}
