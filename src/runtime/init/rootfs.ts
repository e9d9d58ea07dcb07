// The container's root filesystem (stage 2): propagation, mounts, devices,
// pivot_root, then the masked and read-only paths.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { SyscallError } from '../../linux/errors';
import { Spec } from '../../bundle/spec-types';
import { parseMountOptions } from '../../bundle/mount-options';
import { mountOne, setMountAttrs, CgroupView } from './mounts';
import { openProcfs } from '../../linux/procfs';
import { secureJoin } from './securejoin';
import { devicesToCreate, createDevice, bindDevice, createDevSymlinks } from './devices';

export interface RootfsPlan {
  rootfs: string;
  bundleDir: string;
  spec: Spec;
  noPivot: boolean;
  cgroupViews: CgroupView[];
  cgroupV2: boolean;
  inUserNs: boolean;
}

const PROPAGATION: Record<string, number> = {
  private: C.MS_PRIVATE, rprivate: C.MS_PRIVATE | C.MS_REC,
  shared: C.MS_SHARED, rshared: C.MS_SHARED | C.MS_REC,
  slave: C.MS_SLAVE, rslave: C.MS_SLAVE | C.MS_REC,
  unbindable: C.MS_UNBINDABLE, runbindable: C.MS_UNBINDABLE | C.MS_REC,
};

function devIsBindMounted(spec: Spec): boolean {
  return (spec.mounts ?? []).some((m) => m.destination.replace(/\/+$/, '') === '/dev' && parseMountOptions(m.options, m.type).bind);
}

/** Propagation, mounts[] and /dev, below the rootfs (still seen from the host's root). */
export function setupRootfs(plan: RootfsPlan): { procFd?: number } {
  const { rootfs, spec } = plan;
  // Stop mount events from reaching the host, then make the rootfs a mount point of its own.
  const propagation = spec.linux?.rootfsPropagation;
  const initial = propagation === 'private' || propagation === 'rprivate' ? C.MS_PRIVATE | C.MS_REC : C.MS_SLAVE | C.MS_REC;
  sys.mount(null, '/', null, initial, null);
  sys.mount(rootfs, rootfs, null, C.MS_BIND | C.MS_REC, null);

  for (const m of spec.mounts ?? []) {
    try {
      mountOne(rootfs, plan.bundleDir, m, plan.cgroupViews, plan.cgroupV2);
    } catch (e) {
      throw new Error(`mounting ${m.source ?? m.type} to ${m.destination}: ${(e as Error).message}`);
    }
  }

  const devices = devIsBindMounted(spec) ? spec.linux?.devices ?? [] : devicesToCreate(spec.linux?.devices);
  // A user namespace cannot mknod: the host's device nodes are bind-mounted instead.
  for (const d of devices) (plan.inUserNs ? bindDevice : createDevice)(rootfs, d);
  createDevSymlinks(rootfs);
  // the container's /proc, proven to be procfs, for the init's /proc writes
  const hasProc = (spec.mounts ?? []).some((m) => m.type === 'proc' && path.posix.normalize(m.destination) === '/proc');
  return { procFd: hasProc ? openProcfs(secureJoin(rootfs, '/proc')) : undefined };
}

/** Makes the prepared rootfs "/" of the container: pivot_root, or MS_MOVE + chroot with --no-pivot. */
export function enterRootfs(plan: RootfsPlan): void {
  if (plan.noPivot) moveRoot(plan.rootfs);
  else pivotRoot(plan.rootfs);
}

function pivotRoot(rootfs: string): void {
  const oldRoot = sys.open('/', C.O_DIRECTORY | C.O_RDONLY | C.O_CLOEXEC);
  const newRoot = sys.open(rootfs, C.O_DIRECTORY | C.O_RDONLY | C.O_CLOEXEC);
  try {
    sys.fchdir(newRoot);
    // pivot_root(".", ".") stacks the old root on top of the new one; it is then unmounted.
    sys.pivotRoot('.', '.');
    sys.fchdir(oldRoot);
    sys.mount(null, '.', null, C.MS_SLAVE | C.MS_REC, null);
    sys.umount2('.', C.MNT_DETACH);
  } finally {
    sys.close(oldRoot);
    sys.close(newRoot);
  }
  process.chdir('/');
  detachStackedRoots();
}

const MAX_STACKED = 16;

/**
 * Where the host's root fs is mounted more than once on "/", a copy of it is
 * left stacked over the new root after pivot_root: "/" is the rootfs, but
 * "/.." (which the kernel resolves to the topmost mount on the root) and a
 * process that joins the mount namespace (`exec`) land in the host's "/".
 * Detach every such mount, then check that "/.." is "/".
 */
function detachStackedRoots(): void {
  for (let i = 0; !sameInode('/', '/..'); i++) {
    if (i === MAX_STACKED) throw new Error('a mount stacked over the container\'s root cannot be detached: "/.." is not "/"');
    sys.umount2('/..', C.MNT_DETACH);
  }
}

function sameInode(a: string, b: string): boolean {
  const x = fs.statSync(a);
  const y = fs.statSync(b);
  return x.dev === y.dev && x.ino === y.ino;
}

/** --no-pivot: move the rootfs mount over "/" and chroot into it. */
function moveRoot(rootfs: string): void {
  process.chdir(rootfs);
  sys.mount(rootfs, '/', null, C.MS_MOVE, null);
  sys.chroot('.');
  process.chdir('/');
}

/** After pivot_root: masked and read-only paths, root propagation, read-only root. */
export function finishRootfs(spec: Spec): void {
  for (const p of spec.linux?.maskedPaths ?? []) maskPath(p);
  for (const p of spec.linux?.readonlyPaths ?? []) readonlyPath(p);
  const propagation = spec.linux?.rootfsPropagation;
  if (propagation && PROPAGATION[propagation] !== undefined) {
    sys.mount(null, '/', null, PROPAGATION[propagation], null);
  }
}

/** Remounts "/" read-only when root.readonly; last, after everything that writes into the rootfs. */
export function makeRootReadonly(spec: Spec): void {
  if (spec.root?.readonly) setMountAttrs('/', C.MS_RDONLY, 0);
}

function isMissing(e: unknown): boolean {
  return e instanceof SyscallError ? e.code === 'ENOENT' : (e as NodeJS.ErrnoException).code === 'ENOENT';
}

function maskPath(p: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
  if (st.isDirectory()) sys.mount('tmpfs', p, 'tmpfs', C.MS_RDONLY, null);
  else sys.mount('/dev/null', p, null, C.MS_BIND, null);
}

function readonlyPath(p: string): void {
  try {
    sys.mount(p, p, null, C.MS_BIND | C.MS_REC, null);
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
  setMountAttrs(p, C.MS_RDONLY, 0, true);
}
