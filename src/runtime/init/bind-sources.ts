// Bind sources opened with the host root's credentials (runc's mount
// sources: nsexec's send_mountsources, goCreateMountSources). Once stage 1
// is in the user namespace it has no capability over host files, so a
// source below a directory only the host's root may enter could not be
// reached; and an idmapped mount (idmap-mount.ts) needs CAP_SYS_ADMIN over
// the source's filesystem, with or without a container user namespace. A
// helper forked from stage 1 before it joins or creates any namespace keeps
// those credentials; when stage 1's mount namespace is final the helper
// enters it (setns) and, per mounts[] entry, opens the source there with
// O_PATH or makes its idmapped copy, so the fds refer to that namespace's
// mounts (open_tree and bind mounts accept no mount of another namespace),
// and passes them back over a socket. Sources are the caller's paths:
// trusted, as in runc.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { sendMsg, recvMsg } from '../../linux/fdpass';
import { type Spec, type IdMapping } from '../../bundle/spec-types';
import { parseMountOptions } from '../../bundle/mount-options';
import { mountIdmap, idMapText, type MountIdmap } from '../../bundle/mount-idmap';
import { openProcfs } from '../../linux/procfs';
import { newUserNamespace, idmappedTree } from './idmap-mount';

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

/** What the helper makes for one mounts[] entry: an O_PATH fd of the source, or its idmapped copy. */
export type SourceJob = { kind: 'open'; path: string } | { kind: 'idmap'; path: string; rbind: boolean; idmap: MountIdmap };

/** What stage 2 mounts for one mounts[] entry: the source's O_PATH fd, a detached idmapped tree to attach, or why there is none. */
export type MountSource = { kind: 'path'; fd: number } | { kind: 'tree'; fd: number } | { kind: 'error'; message: string };

export interface SourceOpener {
  pid: number;
  sock: number;
  jobs: (SourceJob | undefined)[];
}

/**
 * Per mounts[] entry, the helper's job: every idmapped mount's tree, and with
 * `openBinds` (a container with a user namespace) every other bind source.
 */
export function sourceJobs(spec: Spec, bundleDir: string, openBinds: boolean): (SourceJob | undefined)[] {
  return (spec.mounts ?? []).map((m) => {
    const o = parseMountOptions(m.options, m.type);
    if (!o.bind) return undefined;
    const p = path.resolve(bundleDir, m.source ?? '');
    const idmap = mountIdmap(spec, m);
    if (idmap) return { kind: 'idmap', path: p, rbind: (o.flags & C.MS_REC) !== 0, idmap };
    return openBinds ? { kind: 'open', path: p } : undefined;
  });
}

/** The helper's part, in the container's mount namespace: one message per job. */
function serveJobs(sock: number, jobs: (SourceJob | undefined)[], procFd: number, containerUserns: number | undefined): void {
  const made = new Map<string, number>(); // one user namespace per distinct mapping
  const usernsFor = (uid: IdMapping[] | undefined, gid: IdMapping[] | undefined): number => {
    if (uid === undefined || gid === undefined) {
      if (containerUserns === undefined) throw new Error('no mapping: the container has no user namespace');
      return containerUserns;
    }
    const key = `${idMapText(uid)}|${idMapText(gid)}`;
    let fd = made.get(key);
    if (fd === undefined) made.set(key, (fd = newUserNamespace(procFd, uid, gid)));
    return fd;
  };
  for (const job of jobs) {
    if (job === undefined) continue;
    if (job.kind === 'open') {
      let fd: number | undefined;
      try {
        fd = sys.open(job.path, C.O_PATH | C.O_CLOEXEC);
      } catch {
        fd = undefined; // stage 2 tries the path itself and reports what fails
      }
      sendMsg(sock, Buffer.from(fd === undefined ? '-' : '+'), fd);
      if (fd !== undefined) sys.close(fd);
      continue;
    }
    let tree: number;
    try {
      const userns = usernsFor(job.idmap.uidMappings, job.idmap.gidMappings);
      tree = idmappedTree(procFd, job.path, job.rbind, job.idmap.recursive, userns);
    } catch (e) {
      sendMsg(sock, Buffer.from(`!idmapped mount of ${job.path}: ${(e as Error).message}`));
      continue;
    }
    sendMsg(sock, Buffer.from('+'), tree);
    sys.close(tree);
  }
}

/** Forks the helper; call before any namespace is joined or created. Undefined when it has nothing to do. */
export function startSourceOpener(jobs: (SourceJob | undefined)[], floor: number): SourceOpener | undefined {
  if (!jobs.some((j) => j !== undefined)) return undefined;
  const pair = sys.socketpair(C.SOCK_SEQPACKET);
  const mine = above(pair[0], floor);
  const its = above(pair[1], floor);
  const pid = sys.safeFork();
  if (pid === 0) {
    try {
      sys.close(mine);
      // the host's procfs, opened before the container's mount namespace is entered
      const procFd = openProcfs('/proc');
      const ns = recvMsg(its, 16);
      if (ns.fd === undefined) sys.exit(1); // stage 1 failed before
      sys.setns(ns.fd, C.CLONE_NEWNS, "the container's mount namespace");
      sys.close(ns.fd);
      const userns = recvMsg(its, 16);
      if (userns.data.length === 0) sys.exit(1);
      serveJobs(its, jobs, procFd, userns.fd);
      sys.exit(0);
    } catch {
      sys.exit(1);
    }
  }
  sys.close(its);
  return { pid, sock: mine, jobs };
}

/**
 * In stage 1, once its mount namespace is final (and its user namespace, if
 * any, made or joined): has the helper do its jobs there and returns what
 * each mounts[] entry gets (undefined where the helper had nothing to do or
 * could not open a plain source).
 */
export function receiveSources(opener: SourceOpener, procFd: number, floor: number, inUserNs: boolean): (MountSource | undefined)[] {
  for (const [tag, ns] of [['n', 'mnt'], ['u', inUserNs ? 'user' : undefined]] as const) {
    const fd = ns === undefined ? undefined : sys.openat(procFd, `self/ns/${ns}`, C.O_RDONLY | C.O_CLOEXEC);
    try {
      sendMsg(opener.sock, Buffer.from(tag), fd);
    } finally {
      if (fd !== undefined) sys.close(fd);
    }
  }
  const sources = opener.jobs.map((job): MountSource | undefined => {
    if (job === undefined) return undefined;
    const m = recvMsg(opener.sock, 4096);
    if (m.data.length === 0) throw new Error(`opening the bind mount source ${job.path} as the host's root: the helper exited`);
    if (m.data[0] === 0x21 /* ! */) return { kind: 'error', message: m.data.subarray(1).toString() };
    if (m.fd === undefined) return undefined;
    return { kind: job.kind === 'idmap' ? 'tree' : 'path', fd: above(m.fd, floor) };
  });
  sys.close(opener.sock);
  sys.waitpid(opener.pid);
  return sources;
}
