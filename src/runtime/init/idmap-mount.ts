// Idmapped bind mounts (config.md: idmap, ridmap, a mount's uidMappings and
// gidMappings), made by the bind-source helper (bind-sources.ts), which has
// the host root's credentials and is in the container's mount namespace:
// MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN in the user namespace of the source's
// filesystem (the host's) and in the one that carries the mapping. A
// detached copy of the source (open_tree(OPEN_TREE_CLONE), the whole tree
// for rbind) gets the mapping before anything can see it; stage 2 attaches
// it below the rootfs by fd (mounts.ts). The mapping is the user namespace's:
// a file owned by id N on disk is seen as the host id N maps to, so a
// container whose user namespace maps the same host ids sees N, and ids the
// mapping leaves out are nobody's (65534) and cannot be written.
// Runs in a forked child: synchronous only.
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { SyscallError } from '../../linux/errors';
import { sendMsg, recvMsg } from '../../linux/fdpass';
import { writeProcFile } from '../../linux/procfs';
import { type IdMapping } from '../../bundle/spec-types';
import { idMapText } from '../../bundle/mount-idmap';

/**
 * A new user namespace with these maps, as an fd (what MOUNT_ATTR_IDMAP
 * takes). A child made for it unshares it and hands over its nsfs fd; this
 * process, in the parent namespace with CAP_SETUID, writes the maps, and the
 * child exits once this end of the socket is closed (the fd keeps the
 * namespace). `procFd` is the host's procfs, where the child's pid is valid.
 */
export function newUserNamespace(procFd: number, uidMaps: IdMapping[], gidMaps: IdMapping[]): number {
  const [mine, its] = sys.socketpair(C.SOCK_SEQPACKET);
  const pid = sys.safeFork();
  if (pid === 0) {
    try {
      sys.close(mine);
      sys.prctl(C.PR_SET_PDEATHSIG, 9);
      sys.unshare(C.CLONE_NEWUSER);
      const ns = sys.openat(procFd, 'self/ns/user', C.O_RDONLY | C.O_CLOEXEC);
      sendMsg(its, Buffer.from('+'), ns);
      recvMsg(its, 1); // EOF: the maps are written and the fd is held
      sys.exit(0);
    } catch (e) {
      try {
        sendMsg(its, Buffer.from(`!${(e as Error).message}`));
      } catch {
        /* parent gone */
      }
      sys.exit(1);
    }
  }
  sys.close(its);
  try {
    const got = recvMsg(mine, 4096);
    if (got.fd === undefined) throw new Error(`creating a user namespace for the mapping: ${got.data.subarray(1).toString() || 'the child exited'}`);
    try {
      writeProcFile(procFd, `${pid}/uid_map`, idMapText(uidMaps));
      writeProcFile(procFd, `${pid}/gid_map`, idMapText(gidMaps));
    } catch (e) {
      sys.close(got.fd);
      throw new Error(`writing the mapping's uid_map/gid_map: ${(e as Error).message}`, { cause: e });
    }
    return got.fd;
  } finally {
    sys.close(mine);
    sys.waitpid(pid);
  }
}

/** mountinfo lines of this mount namespace: mount id, mount point, filesystem type, per-mount options. */
function mountinfo(procFd: number): { id: string; mountPoint: string; fsType: string; options: string[] }[] {
  const fd = sys.openat(procFd, 'self/mountinfo', C.O_RDONLY | C.O_CLOEXEC);
  let text: string;
  try {
    text = fs.readFileSync(fd, 'utf8');
  } finally {
    sys.close(fd);
  }
  return text.split('\n').filter(Boolean).map((line) => {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    return { id: f[0], mountPoint: unescape(f[4]), fsType: f[dash + 1], options: f[5].split(',') };
  });
}

/** Why MOUNT_ATTR_IDMAP was refused on `source`, in words (the errno alone says little). */
function explain(e: SyscallError, procFd: number, src: number, recursive: boolean): string {
  if (e.code === 'ENOSYS') return 'idmapped mounts need Linux 5.12 or later (mount_setattr)';
  let mounts: ReturnType<typeof mountinfo>;
  let at: string;
  let id: string;
  try {
    mounts = mountinfo(procFd);
    at = sys.readlinkat(procFd, `self/fd/${src}`);
    id = String(sys.fstatx(src).mntId);
  } catch {
    return e.message;
  }
  const own = mounts.find((m) => m.id === id);
  if (e.code === 'EPERM' && own?.options.includes('idmapped')) return `${e.message}: it is on an idmapped mount already (${own.mountPoint}), whose mapping cannot be changed`;
  if (e.code !== 'EINVAL') return e.message;
  // the filesystems the mapping was to cover: the source's, and with ridmap every one mounted below it
  const below = recursive ? mounts.filter((m) => m.mountPoint.startsWith(at === '/' ? '/' : `${at}/`)) : [];
  const types = [...new Set([own, ...below].filter((m) => m !== undefined).map((m) => m.fsType))];
  const which = types.length === 1 ? `its filesystem (${types[0]})` : `one of its filesystems (${types.join(', ')})`;
  return `${e.message}: ${which} does not support idmapped mounts on this kernel`;
}

/**
 * A detached copy of the mount at `source` (its whole tree with `rbind`)
 * whose ids are mapped through `usernsFd` (on every mount of the tree with
 * `recursive`, ridmap; on its top one otherwise, idmap). Returns its fd.
 */
export function idmappedTree(procFd: number, source: string, rbind: boolean, recursive: boolean, usernsFd: number): number {
  const src = sys.open(source, C.O_PATH | C.O_CLOEXEC);
  try {
    const tree = sys.openTree(src, '', C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC | C.AT_EMPTY_PATH | (rbind ? C.AT_RECURSIVE : 0));
    try {
      sys.mountSetattrIdmap(tree, recursive, usernsFd);
    } catch (e) {
      sys.close(tree);
      if (!(e instanceof SyscallError)) throw e;
      throw new Error(explain(e, procFd, src, recursive), { cause: e });
    }
    return tree;
  } finally {
    sys.close(src);
  }
}
