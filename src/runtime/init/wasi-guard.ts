// What a WebAssembly module can reach beyond its own linear memory is what
// its WASI imports give: stdio, clocks, random bytes, and the files under its
// preopen, the container's root. Under that root is the container's /proc,
// and in it /proc/self: the module's own process, a Node process forked from
// the runtime, whose mem, environ, cmdline, maps, auxv and exe show the
// runtime's memory (its heap, its caller's paths) and the host's node binary.
// A root module without a user namespace may open those files of its own
// process (the kernel allows a process its own /proc), so the module may not
// open any file on procfs.
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';

/** WASI's errno for "permission denied". */
const WASI_EACCES = 2;

type WasiFunction = (...args: unknown[]) => number;
type WasiImports = Record<string, WasiFunction>;

/** The lowest fd not open: the one open(2) returns next. */
function lowestFreeFd(): number {
  let fd = 0;
  while (sys.fdIsOpen(fd)) fd++;
  return fd;
}

/**
 * The WASI import object with path_open checked: the file it opened must
 * not be on procfs. uvwasi opens exactly one fd per path_open, the lowest
 * free one (open(2)'s rule; this process has one thread), so the fd to check
 * is the lowest free before the call. A file on procfs, or an fd that is not
 * where it must be, is closed again and the module gets EACCES.
 */
export function guardImports(imports: Record<string, WasiImports>, memory: () => WebAssembly.Memory): Record<string, WasiImports> {
  const out: Record<string, WasiImports> = {};
  for (const [ns, fns] of Object.entries(imports)) {
    const pathOpen = fns.path_open;
    const fdClose = fns.fd_close;
    out[ns] = {
      ...fns,
      path_open: (...args: unknown[]): number => {
        const next = lowestFreeFd();
        const r = pathOpen(...args);
        if (r !== 0) return r;
        if (sys.fdIsOpen(next) && sys.fstatfsType(next) !== C.PROC_SUPER_MAGIC) return 0;
        const opened = new DataView(memory().buffer).getUint32(Number(args[8]), true);
        fdClose(opened);
        return WASI_EACCES;
      },
    };
  }
  return out;
}
