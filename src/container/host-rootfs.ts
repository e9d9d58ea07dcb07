// A container without a mount namespace of its own (the runtime-spec lets a
// config leave "mount" out: the container inherits the runtime's) has its
// mounts in the runtime's mount namespace: stage 2 binds the rootfs onto
// itself as a private tree, mounts config.json's mounts into it and chroots
// there (src/runtime/init/rootfs.ts). runc 1.1.5 does the same and leaves it
// all mounted on the host after delete; tsrunc detaches that bind, and
// everything in it, at delete (and when create fails). Which mount is the
// container's: create records the mount the rootfs path is on before the
// init exists; a mount root at that path other than it is the bind (or
// something the container mounted over its own "/", which goes too).
import * as sys from '../linux/sys';
import * as C from '../linux/constants';
import { fdLink } from '../linux/inroot';
import { type Spec } from '../bundle/spec-types';
import { inRuntimeMountNs } from '../bundle/semantic';
import { RuntimeError } from '../errors';
import { type HostRootfs } from '../state/store';

const MAX_STACKED = 16;

/** What to record before the init exists; undefined for a container with a mount namespace of its own. */
export function hostRootfsBefore(spec: Spec, rootfs: string): HostRootfs | undefined {
  if (!inRuntimeMountNs(spec)) return undefined;
  const id = sys.statx(C.AT_FDCWD, rootfs, 0).mntId;
  if (id === undefined) {
    throw new RuntimeError('linux.namespaces: a container without a mount namespace needs Linux 5.8 or later here (statx\'s mount id) to find its mounts again at delete');
  }
  return { path: rootfs, mountBefore: Number(id) };
}

/** Detaches the container's mounts at the rootfs path; nothing when they are gone already. */
export function detachHostRootfs(rec: HostRootfs): void {
  if (typeof rec?.path !== 'string' || !Number.isInteger(rec.mountBefore)) return;
  for (let i = 0; i < MAX_STACKED; i++) {
    const fd = sys.tryOpenat(C.AT_FDCWD, rec.path, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC);
    if (fd < 0) return; // gone with the bundle
    try {
      const st = sys.fstatx(fd);
      if (st.mntId === undefined || Number(st.mntId) === rec.mountBefore || st.mountRoot === false) return;
      sys.umount2(fdLink(fd), C.MNT_DETACH);
    } finally {
      sys.close(fd);
    }
  }
}
