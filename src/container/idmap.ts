// uid_map / gid_map of a new user namespace, written by the parent (which is
// outside it) for the stage-1 child that created it.
import * as sys from '../linux/sys';
import { openProcfs, writeProcFile } from '../linux/procfs';
import { type Spec, type IdMapping } from '../bundle/spec-types';
import { RuntimeError } from '../errors';
import { idMapText } from '../bundle/mount-idmap';

/** True when an unprivileged caller maps exactly its own id (all the kernel lets it write). */
function onlyOwnId(maps: IdMapping[], own: number): boolean {
  return maps.length === 1 && maps[0].hostID === own && maps[0].size === 1;
}

export function writeIdMaps(pid: number, spec: Spec): void {
  const uidMaps = spec.linux?.uidMappings ?? [];
  const gidMaps = spec.linux?.gidMappings ?? [];
  const rootless = process.getuid!() !== 0;
  if (rootless && (!onlyOwnId(uidMaps, process.getuid!()) || !onlyOwnId(gidMaps, process.getgid!()))) {
    throw new RuntimeError(
      `linux.uidMappings/gidMappings: without root only your own uid ${process.getuid!()} and gid ${process.getgid!()} can be mapped (size 1)`,
    );
  }
  // through the host's procfs, verified (src/linux/procfs.ts)
  const proc = openProcfs('/proc');
  try {
    // An unprivileged gid_map needs setgroups(2) disabled in the namespace first.
    if (rootless) writeProcFile(proc, `${pid}/setgroups`, 'deny');
    try {
      writeProcFile(proc, `${pid}/uid_map`, idMapText(uidMaps));
    } catch (e) {
      throw new RuntimeError(`linux.uidMappings: cannot write uid_map: ${(e as Error).message}`, 1, { cause: e });
    }
    try {
      writeProcFile(proc, `${pid}/gid_map`, idMapText(gidMaps));
    } catch (e) {
      throw new RuntimeError(`linux.gidMappings: cannot write gid_map: ${(e as Error).message}`, 1, { cause: e });
    }
  } finally {
    sys.close(proc);
  }
}
