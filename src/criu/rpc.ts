// CRIU's RPC messages (images/rpc.proto, proto2): the requests tsrunc sends
// to `criu swrk` and the answers it reads, with the field numbers of
// rpc.proto. Only the fields runc's checkpoint and restore use are described;
// others in an answer are skipped.
import { encode, decode, type Schema, type ProtoMessage } from './proto';

export enum ReqType {
  EMPTY = 0,
  DUMP = 1,
  RESTORE = 2,
  CHECK = 3,
  PRE_DUMP = 4,
  PAGE_SERVER = 5,
  NOTIFY = 6,
  CPUINFO_DUMP = 7,
  CPUINFO_CHECK = 8,
  FEATURE_CHECK = 9,
  VERSION = 10,
}

/** criu_cg_mode: how CRIU treats the cgroups of the tasks (--manage-cgroups-mode). */
export enum CgMode {
  IGNORE = 0,
  CG_NONE = 1,
  PROPS = 2,
  SOFT = 3,
  FULL = 4,
  STRICT = 5,
  DEFAULT = 6,
}

export interface ExtMountMap { key: string; val: string }
export interface InheritFd { key: string; fd: number }
export interface JoinNamespace { ns: string; nsFile: string }
export interface CgroupRoot { ctrl?: string; path: string }
export interface PageServerInfo { address?: string; port?: number; pid?: number; fd?: number }

/** criu_opts: what one request asks CRIU to do. */
export interface CriuOpts {
  imagesDirFd: number;
  pid?: number;
  leaveRunning?: boolean;
  extUnixSk?: boolean;
  tcpEstablished?: boolean;
  evasiveDevices?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  logLevel?: number;
  logFile?: string;
  ps?: PageServerInfo;
  notifyScripts?: boolean;
  root?: string;
  parentImg?: string;
  trackMem?: boolean;
  autoDedup?: boolean;
  workDirFd?: number;
  linkRemap?: boolean;
  extMnt?: ExtMountMap[];
  manageCgroups?: boolean;
  cgRoot?: CgroupRoot[];
  rstSibling?: boolean;
  inheritFd?: InheritFd[];
  manageCgroupsMode?: CgMode;
  external?: string[];
  emptyNs?: number;
  joinNs?: JoinNamespace[];
  freezeCgroup?: string;
  tcpSkipInFlight?: boolean;
  lazyPages?: boolean;
  statusFd?: number;
  orphanPtsMaster?: boolean;
  configFile?: string;
  lsmProfile?: string;
  lsmMountContext?: string;
}

export interface CriuFeatures { memTrack?: boolean; lazyPages?: boolean }

export interface CriuReq {
  type: ReqType;
  opts?: CriuOpts;
  notifySuccess?: boolean;
  features?: CriuFeatures;
}

export interface CriuResp {
  type: ReqType;
  success: boolean;
  dump?: { restored?: boolean };
  restore?: { pid: number };
  notify?: { script?: string; pid?: number };
  crErrno?: number;
  features?: CriuFeatures;
  crErrmsg?: string;
  version?: { majorNumber: number; minorNumber: number; gitid?: string; sublevel?: number; extra?: number; name?: string };
  status?: number;
}

const PAGE_SERVER: Schema = {
  address: { no: 1, type: 'string' },
  port: { no: 2, type: 'int32' },
  pid: { no: 3, type: 'int32' },
  fd: { no: 4, type: 'int32' },
};

const OPTS: Schema = {
  imagesDirFd: { no: 1, type: 'int32' },
  pid: { no: 2, type: 'int32' },
  leaveRunning: { no: 3, type: 'bool' },
  extUnixSk: { no: 4, type: 'bool' },
  tcpEstablished: { no: 5, type: 'bool' },
  evasiveDevices: { no: 6, type: 'bool' },
  shellJob: { no: 7, type: 'bool' },
  fileLocks: { no: 8, type: 'bool' },
  logLevel: { no: 9, type: 'int32' },
  logFile: { no: 10, type: 'string' },
  ps: { no: 11, type: 'message', message: PAGE_SERVER },
  notifyScripts: { no: 12, type: 'bool' },
  root: { no: 13, type: 'string' },
  parentImg: { no: 14, type: 'string' },
  trackMem: { no: 15, type: 'bool' },
  autoDedup: { no: 16, type: 'bool' },
  workDirFd: { no: 17, type: 'int32' },
  linkRemap: { no: 18, type: 'bool' },
  extMnt: { no: 23, type: 'message', repeated: true, message: { key: { no: 1, type: 'string' }, val: { no: 2, type: 'string' } } },
  manageCgroups: { no: 24, type: 'bool' },
  cgRoot: { no: 25, type: 'message', repeated: true, message: { ctrl: { no: 1, type: 'string' }, path: { no: 2, type: 'string' } } },
  rstSibling: { no: 26, type: 'bool' },
  inheritFd: { no: 27, type: 'message', repeated: true, message: { key: { no: 1, type: 'string' }, fd: { no: 2, type: 'int32' } } },
  manageCgroupsMode: { no: 34, type: 'enum' },
  external: { no: 37, type: 'string', repeated: true },
  emptyNs: { no: 38, type: 'uint32' },
  joinNs: { no: 39, type: 'message', repeated: true, message: { ns: { no: 1, type: 'string' }, nsFile: { no: 2, type: 'string' } } },
  freezeCgroup: { no: 44, type: 'string' },
  tcpSkipInFlight: { no: 46, type: 'bool' },
  lazyPages: { no: 48, type: 'bool' },
  statusFd: { no: 49, type: 'int32' },
  orphanPtsMaster: { no: 50, type: 'bool' },
  configFile: { no: 51, type: 'string' },
  lsmProfile: { no: 53, type: 'string' },
  lsmMountContext: { no: 63, type: 'string' },
};

const FEATURES: Schema = {
  memTrack: { no: 1, type: 'bool' },
  lazyPages: { no: 2, type: 'bool' },
};

const REQ: Schema = {
  type: { no: 1, type: 'enum' },
  opts: { no: 2, type: 'message', message: OPTS },
  notifySuccess: { no: 3, type: 'bool' },
  features: { no: 5, type: 'message', message: FEATURES },
};

const RESP: Schema = {
  type: { no: 1, type: 'enum' },
  success: { no: 2, type: 'bool' },
  dump: { no: 3, type: 'message', message: { restored: { no: 1, type: 'bool' } } },
  restore: { no: 4, type: 'message', message: { pid: { no: 1, type: 'int32' } } },
  notify: { no: 5, type: 'message', message: { script: { no: 1, type: 'string' }, pid: { no: 2, type: 'int32' } } },
  crErrno: { no: 7, type: 'int32' },
  features: { no: 8, type: 'message', message: FEATURES },
  crErrmsg: { no: 9, type: 'string' },
  version: {
    no: 10,
    type: 'message',
    message: {
      majorNumber: { no: 1, type: 'int32' },
      minorNumber: { no: 2, type: 'int32' },
      gitid: { no: 3, type: 'string' },
      sublevel: { no: 4, type: 'int32' },
      extra: { no: 5, type: 'int32' },
      name: { no: 6, type: 'string' },
    },
  },
  status: { no: 11, type: 'int32' },
};

export function encodeReq(req: CriuReq): Buffer {
  return encode(REQ, req as unknown as ProtoMessage);
}

/** An answer of CRIU's; its two required fields checked. */
export function decodeResp(buf: Buffer): CriuResp {
  const msg = decode(RESP, buf) as unknown as CriuResp;
  if (msg.type === undefined || msg.success === undefined) throw new Error('malformed answer from criu (no type or success)');
  return msg;
}

/** Only for tests: a message as CRIU would send it. */
export function encodeResp(resp: CriuResp): Buffer {
  return encode(RESP, resp as unknown as ProtoMessage);
}

/** Only for tests: a request as CRIU would read it. */
export function decodeReq(buf: Buffer): CriuReq {
  return decode(REQ, buf) as unknown as CriuReq;
}

/** CRIU's version as one number, runc's way: 3.17.1 is 31701. */
export function versionNumber(v: NonNullable<CriuResp['version']>): number {
  return v.majorNumber * 10000 + v.minorNumber * 100 + (v.sublevel ?? 0);
}
