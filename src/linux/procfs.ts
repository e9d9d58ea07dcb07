// Writing /proc files only through a verified procfs. A path string such as
// "/proc/self/oom_score_adj" means whatever is mounted (or symlinked) at
// /proc when it is resolved, which a hostile image or a racing container can
// choose (CVE-2019-16884, CVE-2025-52881 class): the runtime opens /proc once,
// proves with fstatfs that it is procfs, and opens files beneath that fd.
import * as fs from 'fs';
import * as sys from './sys';
import * as C from './constants';

/** An O_PATH fd of the procfs at `dir` (not through a symlink); throws when it is anything else. */
export function openProcfs(dir: string): number {
  const fd = sys.open(dir, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC);
  const type = sys.fstatfsType(fd);
  if (type !== C.PROC_SUPER_MAGIC) {
    sys.close(fd);
    throw new Error(`${dir} is not a procfs mount (filesystem type 0x${type.toString(16)})`);
  }
  return fd;
}

/**
 * Opens `rel` (e.g. "self/oom_score_adj", "sys/net/ipv4/ip_forward") beneath
 * a procfs fd. The file itself must be on procfs too: something mounted over
 * it (a bind of a host file) is refused.
 */
export function openProcFile(procFd: number, rel: string, flags: number): number {
  const fd = sys.openat(procFd, rel, flags | C.O_CLOEXEC | C.O_NOFOLLOW);
  const type = sys.fstatfsType(fd);
  if (type !== C.PROC_SUPER_MAGIC) {
    sys.close(fd);
    throw new Error(`/proc/${rel} is not on procfs (filesystem type 0x${type.toString(16)})`);
  }
  return fd;
}

/** Writes `value` into a /proc file beneath a verified procfs fd. */
export function writeProcFile(procFd: number, rel: string, value: string): void {
  const fd = openProcFile(procFd, rel, C.O_WRONLY);
  try {
    fs.writeSync(fd, value);
  } finally {
    sys.close(fd);
  }
}
