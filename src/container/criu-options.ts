// The options `checkpoint` and `restore` share (runc's CriuOpts), checked
// and turned into what CRIU's RPC takes, with runc's rules and words: the
// image directory (made when missing), a --parent-path relative to it, the
// cgroup mode, --empty-ns, --page-server.
import * as fs from 'fs';
import * as path from 'path';
import { RuntimeError } from '../errors';
import { CgMode, type CriuOpts } from '../criu/rpc';
import { type Spec } from '../bundle/spec-types';

const CLONE_NEWNET = 0x40000000;

export interface CriuFlags {
  /** The criu binary (the global --criu; default "criu", found in PATH). */
  criu?: string;
  imagePath?: string;
  workPath?: string;
  parentPath?: string;
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  preDump?: boolean;
  autoDedup?: boolean;
  lazyPages?: boolean;
  /** --status-fd: -1 (none) or an fd of the caller's that gets "\0" once the lazy-pages server is ready. */
  statusFd?: number;
  /** --page-server ADDRESS:PORT. */
  pageServer?: string;
  manageCgroupsMode?: string;
  emptyNs?: string[];
  lsmProfile?: string;
  lsmMountContext?: string;
}

export interface CriuOptions {
  criu: string;
  imagePath: string;
  workPath?: string;
  parentPath?: string;
  leaveRunning: boolean;
  tcpEstablished: boolean;
  extUnixSk: boolean;
  shellJob: boolean;
  fileLocks: boolean;
  preDump: boolean;
  autoDedup: boolean;
  lazyPages: boolean;
  statusFd: number;
  pageServer?: { address: string; port: number };
  cgMode: CgMode;
  /** CLONE_NEW* bits of the namespaces CRIU makes empty: always the network (runc does not manage network devices). */
  emptyNs: number;
  lsmProfile?: string;
  lsmMountContext?: string;
}

/** runc's criuCgMode. */
export function cgroupMode(mode: string | undefined): CgMode {
  switch (mode ?? '') {
    case '':
      return CgMode.DEFAULT;
    case 'soft':
      return CgMode.SOFT;
    case 'full':
      return CgMode.FULL;
    case 'strict':
      return CgMode.STRICT;
    case 'ignore':
      return CgMode.IGNORE;
    default:
      throw new RuntimeError(`invalid manage-cgroups-mode value: ${JSON.stringify(mode)} (one of soft, full, strict, ignore)`);
  }
}

/** --page-server ADDRESS:PORT, as Go's net.SplitHostPort reads it ("[::1]:27" too). */
function pageServer(spec: string): { address: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(spec);
  const address = m ? (m[1] ?? m[2]) : '';
  if (!m || !address || !m[3]) throw new RuntimeError('Use --page-server ADDRESS:PORT to specify page server');
  if (!/^\d+$/.test(m[3]) || Number(m[3]) > 0x7fffffff) throw new RuntimeError('Invalid port number');
  return { address, port: Number(m[3]) };
}

/**
 * The image directory (--image-path, default ./checkpoint), made if missing
 * (0700: CRIU's images hold the container's memory), and --parent-path,
 * which must be relative to it and name a directory there.
 */
function imagePaths(flags: CriuFlags): { imagePath: string; parentPath?: string } {
  const imagePath = path.resolve(flags.imagePath || path.join(process.cwd(), 'checkpoint'));
  fs.mkdirSync(imagePath, { recursive: true, mode: 0o700 });
  const parentPath = flags.parentPath || undefined;
  if (parentPath === undefined) return { imagePath };
  if (path.isAbsolute(parentPath)) throw new RuntimeError('--parent-path must be relative');
  const realParent = path.join(imagePath, parentPath);
  let st: fs.Stats;
  try {
    st = fs.statSync(realParent);
  } catch (e) {
    throw new RuntimeError(`invalid --parent-path: stat ${realParent}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (!st.isDirectory()) throw new RuntimeError(`invalid --parent-path: ${realParent}: not a directory`);
  return { imagePath, parentPath };
}

/** runc's criuOptions: checks the flags (before anything is touched but the image directory) and fills in the defaults. */
export function criuOptions(flags: CriuFlags): CriuOptions {
  const cgMode = cgroupMode(flags.manageCgroupsMode);
  const ps = flags.pageServer ? pageServer(flags.pageServer) : undefined;
  let emptyNs = CLONE_NEWNET;
  for (const ns of flags.emptyNs ?? []) {
    if (ns !== 'network') throw new RuntimeError(`namespace ${JSON.stringify(ns)} is not supported`);
    emptyNs |= CLONE_NEWNET;
  }
  const statusFd = flags.statusFd ?? -1;
  if (!Number.isInteger(statusFd) || statusFd < -1) throw new RuntimeError(`invalid --status-fd argument ${statusFd}`);
  return {
    criu: flags.criu || 'criu',
    ...imagePaths(flags),
    workPath: flags.workPath ? path.resolve(flags.workPath) : undefined,
    leaveRunning: Boolean(flags.leaveRunning),
    tcpEstablished: Boolean(flags.tcpEstablished),
    extUnixSk: Boolean(flags.extUnixSk),
    shellJob: Boolean(flags.shellJob),
    fileLocks: Boolean(flags.fileLocks),
    preDump: Boolean(flags.preDump),
    autoDedup: Boolean(flags.autoDedup),
    lazyPages: Boolean(flags.lazyPages),
    statusFd,
    pageServer: ps,
    cgMode,
    emptyNs,
    lsmProfile: flags.lsmProfile || undefined,
    lsmMountContext: flags.lsmMountContext || undefined,
  };
}

/** A directory for CRIU (made 0700 if missing) opened O_DIRECTORY: CRIU opens it again through /proc/<our pid>/fd/N. */
export function openCriuDir(dir: string): number {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
}

/** The part of a CRIU request that checkpoint and restore make alike. */
export type CommonCriuRequest = Pick<CriuOpts, 'imagesDirFd' | 'workDirFd' | 'logLevel' | 'manageCgroups' | 'manageCgroupsMode' | 'notifyScripts' | 'shellJob'
  | 'extUnixSk' | 'tcpEstablished' | 'fileLocks' | 'emptyNs' | 'orphanPtsMaster' | 'autoDedup' | 'lazyPages' | 'configFile'>;

/**
 * What checkpoint and restore ask of CRIU alike, from the same flags (runc's
 * criuOpts): the image directory and the work directory opened (their fds go
 * into `fds`, which the caller closes), and `logDir`, where CRIU writes its
 * log: the work directory, else the image directory.
 */
export function commonCriuRequest(o: CriuOptions, spec: Spec, fds: number[]): { request: CommonCriuRequest; logDir: string } {
  const imagesDirFd = openCriuDir(o.imagePath);
  fds.push(imagesDirFd);
  const workDirFd = o.workPath ? openCriuDir(o.workPath) : undefined;
  if (workDirFd !== undefined) fds.push(workDirFd);
  return {
    request: {
      imagesDirFd,
      workDirFd,
      logLevel: 4,
      manageCgroups: true,
      manageCgroupsMode: o.cgMode,
      notifyScripts: true,
      shellJob: o.shellJob,
      extUnixSk: o.extUnixSk,
      tcpEstablished: o.tcpEstablished,
      fileLocks: o.fileLocks,
      emptyNs: o.emptyNs,
      orphanPtsMaster: true,
      autoDedup: o.autoDedup,
      lazyPages: o.lazyPages,
      configFile: criuConfigFile(spec.annotations),
    },
    logDir: o.workPath || o.imagePath,
  };
}

/** runc's configuration file for CRIU: the annotation org.criu.config (empty: none), else /etc/criu/runc.conf. */
export function criuConfigFile(annotations: Record<string, string> | undefined): string | undefined {
  if (annotations && Object.prototype.hasOwnProperty.call(annotations, 'org.criu.config')) return annotations['org.criu.config'] || undefined;
  return '/etc/criu/runc.conf';
}
