// Bind sources of a container with a user namespace, opened with the host
// root's credentials (runc 1.1.5's mount sources: nsexec's
// send_mountsources). Once stage 1 is in the user namespace it has no
// capability over host files, so a source below a directory only the host's
// root may enter could not be reached. A helper forked from stage 1 before
// it joins or creates any namespace keeps those credentials; when stage 1's
// mount namespace is final the helper enters it (setns) and opens each source
// there with O_PATH, so the fds refer to that namespace's mounts (open_tree
// and bind mounts accept no mount of another namespace), and passes them
// back over a socket. Sources are the caller's paths: trusted, as in runc.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { sendMsg, recvMsg } from '../../linux/fdpass';
import { type Mount } from '../../bundle/spec-types';
import { parseMountOptions } from '../../bundle/mount-options';

/**
 * libc's fork runs libuv's atfork handler in the child, which closes the fds
 * libuv's signal lock pipe had in the parent and opens a new pipe. A stage
 * inherited those numbers from its own fork and closed them (guardStage):
 * an fd that lands there is lost in the next fork's child. The fds kept
 * across a fork are moved above every fd the stage had when it began
 * (`floor`), where that pipe never is.
 */
function above(fd: number, floor: number): number {
  let n = floor;
  while (sys.fdIsOpen(n)) n++;
  sys.dup3(fd, n, C.O_CLOEXEC);
  sys.close(fd);
  return n;
}

/** One more than the highest fd open now: call at a stage's start, before guardStage. */
export function fdFloor(): number {
  return Math.max(...fs.readdirSync('/proc/self/fd').map(Number)) + 1;
}

export interface SourceOpener {
  pid: number;
  sock: number;
  sources: (string | undefined)[];
}

/** Per mounts[] entry: the absolute host path of a bind source, undefined for other mounts. */
export function bindSourcePaths(mounts: Mount[] | undefined, bundleDir: string): (string | undefined)[] {
  return (mounts ?? []).map((m) => (parseMountOptions(m.options, m.type).bind ? path.resolve(bundleDir, m.source ?? '') : undefined));
}

/** Forks the helper; call before any namespace is joined or created. Undefined when there is no bind source. */
export function startSourceOpener(sources: (string | undefined)[], floor: number): SourceOpener | undefined {
  if (!sources.some((s) => s !== undefined)) return undefined;
  const pair = sys.socketpair(C.SOCK_SEQPACKET);
  const mine = above(pair[0], floor);
  const its = above(pair[1], floor);
  const pid = sys.safeFork();
  if (pid === 0) {
    try {
      sys.close(mine);
      const ns = recvMsg(its, 16);
      if (ns.fd === undefined) sys.exit(1); // stage 1 failed before
      sys.setns(ns.fd, C.CLONE_NEWNS, "the container's mount namespace");
      sys.close(ns.fd);
      for (const src of sources) {
        if (src === undefined) continue;
        let fd: number | undefined;
        try {
          fd = sys.open(src, C.O_PATH | C.O_CLOEXEC);
        } catch {
          fd = undefined; // stage 2 tries the path itself and reports what fails
        }
        sendMsg(its, Buffer.from(fd === undefined ? '-' : '+'), fd);
        if (fd !== undefined) sys.close(fd);
      }
      sys.exit(0);
    } catch {
      sys.exit(1);
    }
  }
  sys.close(its);
  return { pid, sock: mine, sources };
}

/**
 * In stage 1, once its mount namespace is final: has the helper open the
 * sources there and returns their fds, per mounts[] entry (undefined where
 * the mount is not a bind or the helper could not open it).
 */
export function receiveSources(opener: SourceOpener, procFd: number, floor: number): (number | undefined)[] {
  const mntns = sys.openat(procFd, 'self/ns/mnt', C.O_RDONLY | C.O_CLOEXEC);
  try {
    sendMsg(opener.sock, Buffer.from('n'), mntns);
  } finally {
    sys.close(mntns);
  }
  const fds = opener.sources.map((src) => {
    if (src === undefined) return undefined;
    const m = recvMsg(opener.sock, 16);
    if (m.data.length === 0) throw new Error(`opening the bind mount source ${src} as the host's root: the helper exited`);
    return m.fd === undefined ? undefined : above(m.fd, floor);
  });
  sys.close(opener.sock);
  sys.waitpid(opener.pid);
  return fds;
}
