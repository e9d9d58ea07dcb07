// `checkpoint`: CRIU dumps the running container's processes into an image
// directory (runc's Container.Checkpoint). Afterwards the container is gone
// (deleted as `delete` would), unless --leave-running or --pre-dump. When
// CRIU cannot dump (not installed, or this kernel is one it cannot work
// with), the error names the cause and the container runs on untouched.
import * as fs from 'fs';
import * as sys from '../linux/sys';
import * as C from '../linux/constants';
import { type StateStore } from '../state/store';
import { type Spec } from '../bundle/spec-types';
import { cgroupManagerFromState } from '../cgroups';
import { RuntimeError } from '../errors';
import { ReqType, type CriuOpts } from '../criu/rpc';
import { criuSwrk, criuVersion, missingFeatures, resolveCriu, CriuFailure } from '../criu/swrk';
import { criuLogErrors } from '../criu/log';
import { loadWithStatus, deleteContainer } from './lifecycle';
import { type CriuOptions, commonCriuRequest } from './criu-options';
import { dumpExternalMounts, maskedFileMounts } from './criu-mounts';

export const DESCRIPTORS = 'descriptors.json';
const DUMP_LOG = 'dump.log';

export interface CriuReporting {
  warn?: (msg: string) => void;
  debug?: (msg: string) => void;
}

/** How CRIU names an external namespace (runc's criuNsToKey): extRootNetNS, extRootPidNS. */
export function externalNsKey(type: 'network' | 'pid'): string {
  return type === 'network' ? 'extRootNetNS' : 'extRootPidNS';
}

/** The stdio of the container's init as /proc shows it ("pipe:[123]", "/dev/null"): a restore gives pipes back by these names. */
function externalDescriptors(pid: number): string[] {
  return [0, 1, 2].map((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '/dev/null';
    }
  });
}

/**
 * A CRIU failure explained: CRIU's own first error (from its answer or its
 * log), and the log quoted as warnings, as runc quotes it.
 */
export function explainCriuFailure(e: unknown, logDir: string, logFile: string, report: CriuReporting): never {
  const errors = criuLogErrors(logDir, logFile);
  if (errors?.quoted.length) {
    report.warn?.(`--- Quoting "${errors.file}"`);
    for (const l of errors.quoted) report.warn?.(l);
    report.warn?.('---');
  }
  if (e instanceof CriuFailure) {
    const cause = e.errmsg || errors?.first;
    const kernel = errors?.kerndat ? '; CRIU cannot work with this kernel (its detection of the kernel\'s features failed; `criu check` tells the same)' : '';
    throw new RuntimeError(`criu failed: type ${ReqType[e.type]} errno ${e.errno}${cause ? `: ${cause}` : ''}${kernel}${errors ? ` (log: ${errors.file})` : ''}`, 1, { cause: e });
  }
  throw e;
}

export async function checkpointContainer(store: StateStore, id: string, opts: CriuOptions, report: CriuReporting = {}): Promise<void> {
  const { state, status } = loadWithStatus(store, id);
  if (status === 'created' || status === 'stopped') throw new RuntimeError(`Container cannot be checkpointed in ${status} state`);
  const spec = state.config as Spec;
  const binary = resolveCriu(opts.criu);
  // the version RPC came with CRIU 3.0
  const version = await criuVersion(binary, report.debug);
  if (version < 30000) throw new RuntimeError(`CRIU version ${version} must be 30000 or higher`);
  report.debug?.(`Using CRIU ${version}`);

  const fds: number[] = [];
  try {
    const { request, logDir } = commonCriuRequest(opts, spec, fds);
    const rpc: CriuOpts = { ...request, logFile: DUMP_LOG, root: state.rootfs, pid: state.pid, leaveRunning: opts.leaveRunning };
    // a network or PID namespace the config names by path is not the container's to dump: CRIU expects it at restore
    for (const ns of spec.linux?.namespaces ?? []) {
      if ((ns.type !== 'network' && ns.type !== 'pid') || !ns.path) continue;
      const min = ns.type === 'network' ? 31100 : 31500;
      if (version < min) throw new RuntimeError(`criu lacks support for external ${ns.type === 'network' ? 'net' : 'pid'} namespace during checkpointing process (old criu version?)`);
      const ino = fs.statSync(ns.path).ino;
      (rpc.external ??= []).push(`${ns.type === 'network' ? 'net' : 'pid'}[${ino}]:${externalNsKey(ns.type)}`);
    }
    // CRIU freezes the cgroup (v2's freezer since CRIU 3.14) rather than stopping each task with ptrace
    const cgroup = state.cgroup ? cgroupManagerFromState(state.cgroup) : undefined;
    if (cgroup && (cgroup.version === 1 || version >= 31400)) {
      const freezer = cgroup.version === 2 ? cgroup.paths[''] : cgroup.paths['freezer'];
      if (freezer) rpc.freezeCgroup = freezer;
    }
    if (opts.pageServer) rpc.ps = { address: opts.pageServer.address, port: opts.pageServer.port };
    if (opts.parentPath) {
      rpc.parentImg = opts.parentPath;
      rpc.trackMem = true;
    }
    if (opts.preDump) {
      const missing = await missingFeatures(binary, { memTrack: true }, report.debug);
      if (missing.length) throw new RuntimeError(`criu is missing features: [${missing.join(' ')}]`);
    }
    let statusFd = opts.statusFd;
    if (opts.lazyPages) {
      const missing = await missingFeatures(binary, { lazyPages: true }, report.debug);
      if (missing.length) throw new RuntimeError(`criu is missing features: [${missing.join(' ')}]`);
      if (statusFd !== -1) checkStatusFd(statusFd);
      // CRIU before 3.15 writes to the fd itself; later ones tell us (status-ready)
      if (statusFd !== -1 && version < 31500) rpc.statusFd = statusFd;
    }
    if (!opts.preDump) {
      const rootFd = sys.open(state.rootfs, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
      try {
        const views = cgroup?.views() ?? [];
        rpc.extMnt = [...dumpExternalMounts(spec, rootFd, views, cgroup?.version === 2), ...maskedFileMounts(spec, state.pid)];
      } finally {
        sys.close(rootFd);
      }
      writeInDir(request.imagesDirFd, DESCRIPTORS, JSON.stringify(externalDescriptors(state.pid)));
    }
    report.debug?.(`criu options: ${JSON.stringify(rpc)}`);
    try {
      await criuSwrk({
        binary,
        req: { type: opts.preDump ? ReqType.PRE_DUMP : ReqType.DUMP, opts: rpc },
        stdio: 'ignore',
        debug: report.debug,
        onNotify: (script, _pid, fd) => {
          if (fd !== undefined) sys.close(fd);
          if (script === 'status-ready' && statusFd !== -1) {
            try {
              fs.writeSync(statusFd, Buffer.from([0]));
            } catch (e) {
              report.warn?.(`can't write \\0 to status fd: ${(e as Error).message}`);
            }
            fs.closeSync(statusFd);
            statusFd = -1;
          }
        },
      });
    } catch (e) {
      explainCriuFailure(e, logDir, DUMP_LOG, report);
    }
  } finally {
    for (const fd of fds) sys.close(fd);
  }
  // the processes are gone with the dump: what is left of the container goes too
  if (!opts.leaveRunning && !opts.preDump) deleteContainer(store, id, true, (m) => report.warn?.(m));
}

/**
 * A new file `name` (0600) in the directory `dirFd` holding `text`: whatever
 * was there goes first, and the file is made O_EXCL|O_NOFOLLOW, so a link
 * planted in an image directory others can write cannot redirect the write.
 */
function writeInDir(dirFd: number, name: string, text: string): void {
  const gone = sys.tryUnlinkat(dirFd, name);
  if (gone < 0 && gone !== -2 /* ENOENT */) sys.throwErrno('unlinkat', [name], -gone);
  const fd = sys.openat(dirFd, name, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_CLOEXEC, 0o600);
  try {
    fs.writeSync(fd, text);
  } finally {
    sys.close(fd);
  }
}

/** --status-fd must be an open fd of ours that can be written. */
function checkStatusFd(fd: number): void {
  let flags: number;
  try {
    flags = sys.fcntlGetFl(fd);
  } catch (e) {
    throw new RuntimeError(`invalid --status-fd argument ${fd}: ${(e as Error).message}`);
  }
  if ((flags & C.O_ACCMODE) === C.O_RDONLY) throw new RuntimeError(`invalid --status-fd argument ${fd}: not writable`);
}
