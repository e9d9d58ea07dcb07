// What a WebAssembly module can reach beyond its own linear memory is what
// its WASI imports give: stdio, clocks, random bytes, and the files under its
// preopen, the container's root. Under that root is the container's /proc,
// and in it /proc/self: the module's own process, a Node process forked from
// the runtime. Its mem, environ, maps, auxv show the runtime's memory and the
// host's paths, its exe and map_files lead to the host's node binary and
// libraries. The kernel lets a process open its own /proc files, and uvwasi
// lets the kernel follow a path's last symlink (a magic link too) when the
// module does not ask to follow symlinks. So a module may not open a file on
// procfs, nor, by whatever path, a file this process runs or maps; and
// path_readlink does not give it the host path of one.
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { type MappedFiles } from '../../linux/proc';

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
 * The WASI import object with path_open and path_readlink checked.
 * uvwasi opens exactly one fd per path_open, the lowest free one (open(2)'s
 * rule; this process has one thread), so the fd to check is the lowest free
 * before the call. A refused file, or an fd that is not where it must be, is
 * closed again and the module gets EACCES.
 */
export function guardImports(imports: Record<string, WasiImports>, memory: () => WebAssembly.Memory, host: MappedFiles): Record<string, WasiImports> {
  const hostIds = new Set(host.ids);
  const hostPaths = new Set(host.paths);
  const allowed = (fd: number): boolean => {
    if (!sys.fdIsOpen(fd) || sys.fstatfsType(fd) === C.PROC_SUPER_MAGIC) return false;
    const st = sys.fstatx(fd);
    return !hostIds.has(`${st.devMajor}:${st.devMinor}:${st.ino}`);
  };
  const out: Record<string, WasiImports> = {};
  for (const [ns, fns] of Object.entries(imports)) {
    const { path_open: pathOpen, path_readlink: pathReadlink, fd_close: fdClose } = fns;
    out[ns] = {
      ...fns,
      path_open: (...args: unknown[]): number => {
        const next = lowestFreeFd();
        const r = pathOpen(...args);
        if (r !== 0 || allowed(next)) return r;
        fdClose(new DataView(memory().buffer).getUint32(Number(args[8]), true));
        return WASI_EACCES;
      },
      // (fd, path, path_len, buf, buf_len, bufused)
      path_readlink: (...args: unknown[]): number => {
        const r = pathReadlink(...args);
        if (r !== 0) return r;
        const [buf, usedAt] = [Number(args[3]), Number(args[5])];
        const view = new DataView(memory().buffer);
        const used = view.getUint32(usedAt, true);
        const bytes = new Uint8Array(memory().buffer, buf, used);
        if (!hostPaths.has(Buffer.from(bytes).toString())) return r;
        bytes.fill(0);
        view.setUint32(usedAt, 0, true);
        return WASI_EACCES;
      },
    };
  }
  return out;
}
