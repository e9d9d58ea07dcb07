// Talking to CRIU as runc does: `criu swrk 3` started with one end of a
// SOCK_SEQPACKET socketpair as its fd 3, one protobuf request, then answers:
// notifications (each acknowledged before CRIU goes on) and the final one.
// The exchange is synchronous (CRIU waits for us at each notification, and a
// notification's work, hooks included, is synchronous); only the wait for
// CRIU's exit is not.
import * as fs from 'fs';
import * as path from 'path';
import type * as ChildProcess from 'child_process';
import * as sys from '../linux/sys';
import * as C from '../linux/constants';
import { sendMsg, recvMsg } from '../linux/fdpass';
import { RuntimeError } from '../errors';
import { ReqType, encodeReq, decodeResp, versionNumber, type CriuReq, type CriuResp } from './rpc';

const childProcess = (): typeof ChildProcess => require('child_process');

// Where a root shell finds criu (Debian installs it in /usr/sbin) when the caller's PATH is unset (conmon may unset it).
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// runc's buffer for an answer (10 pages): CRIU's answers are small
const MAX_ANSWER = 10 * 4096;

/** CRIU answered a request with success = false. */
export class CriuFailure extends RuntimeError {
  constructor(readonly type: ReqType, readonly errno: number, readonly errmsg: string | undefined) {
    super(`criu failed: type ${ReqType[type] ?? type} errno ${errno}${errmsg ? `: ${errmsg}` : ''}`);
  }
}

/**
 * The criu binary: `binary` itself when it has a slash, else the first
 * executable of that name in PATH; a clear error naming what is missing.
 */
export function resolveCriu(binary: string): string {
  if (binary.includes('/')) {
    try {
      fs.accessSync(binary, fs.constants.X_OK);
      if (!fs.statSync(binary).isFile()) throw new Error('not a file');
    } catch {
      throw new RuntimeError(`criu binary ${binary} (--criu) does not exist or is not executable`);
    }
    return binary;
  }
  const dirs = (process.env.PATH || DEFAULT_PATH).split(':').filter(Boolean);
  for (const dir of dirs) {
    const p = path.join(dir, binary);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  throw new RuntimeError(`${binary} not found in PATH (${dirs.join(':')}): checkpoint and restore need CRIU (Debian: apt-get install criu), or its path in --criu`);
}

export interface SwrkCall {
  /** The criu binary (resolveCriu's answer). */
  binary: string;
  req: CriuReq;
  /** CRIU's stdio: ours (restore: the restored tasks inherit pipes from it), or /dev/null. */
  stdio: 'inherit' | 'ignore';
  /** More fds for CRIU, at 4, 5, ... (namespaces for inherit_fd). */
  extraFds?: number[];
  /** Runs once CRIU runs, before the request is sent: the restore puts CRIU in the container's cgroup and names it in req. */
  beforeRequest?: (criuPid: number, req: CriuReq) => void;
  /** A notification (notify_scripts): `fd` is the one CRIU attached (orphan-pts-master), owned by the handler. Throwing aborts. */
  onNotify?: (script: string, pid: number, fd: number | undefined) => void;
  debug?: (msg: string) => void;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs one request through `criu swrk`: its final answer, or a CriuFailure / RuntimeError. */
export async function criuSwrk(call: SwrkCall): Promise<CriuResp> {
  const [ours, theirs] = sys.socketpair(C.SOCK_SEQPACKET);
  let child: ChildProcess.ChildProcess;
  try {
    const io = call.stdio === 'inherit' ? [0, 1, 2] : ['ignore', 'ignore', 'ignore'];
    child = childProcess().spawn(call.binary, ['swrk', '3'], { stdio: [...io, theirs, ...(call.extraFds ?? [])] as ChildProcess.StdioOptions });
  } catch (e) {
    sys.close(ours);
    throw new RuntimeError(`starting ${call.binary} swrk: ${(e as Error).message}`, 1, { cause: e });
  } finally {
    // closed here so that we see EOF should CRIU die
    sys.close(theirs);
  }
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: 127, signal: null }));
  });
  let exit: Exit | undefined;
  try {
    if (child.pid === undefined) {
      exit = await exited;
      throw new RuntimeError(`cannot run ${call.binary} swrk`);
    }
    call.debug?.(`criu swrk (pid ${child.pid}): request ${ReqType[call.req.type]}`);
    call.beforeRequest?.(child.pid, call.req);
    sendMsg(ours, encodeReq(call.req));
    for (;;) {
      const { data, fd } = recvMsg(ours, MAX_ANSWER);
      if (data.length === 0) {
        if (fd !== undefined) sys.close(fd);
        exit = await exited;
        throw new RuntimeError(`criu exited without answering (${describeExit(exit)})`);
      }
      if (data.length === MAX_ANSWER) throw new RuntimeError('criu\'s answer is larger than the buffer');
      let resp: CriuResp;
      try {
        resp = decodeResp(data);
      } catch (e) {
        if (fd !== undefined) sys.close(fd);
        throw new RuntimeError(`unreadable answer from criu: ${(e as Error).message}`);
      }
      if (!resp.success) {
        if (fd !== undefined) sys.close(fd);
        throw new CriuFailure(resp.type, resp.crErrno ?? 0, resp.crErrmsg);
      }
      if (resp.type !== ReqType.NOTIFY) {
        if (fd !== undefined) sys.close(fd);
        if (![ReqType.DUMP, ReqType.PRE_DUMP, ReqType.RESTORE, ReqType.VERSION, ReqType.FEATURE_CHECK].includes(resp.type)) {
          throw new RuntimeError(`unexpected answer from criu: type ${ReqType[resp.type] ?? resp.type}`);
        }
        sys.close(ours);
        exit = await exited;
        // after PRE_DUMP's answer CRIU waits for more pre-dumps; the closed socket ends it, whatever its status
        if (resp.type !== ReqType.PRE_DUMP && (exit.code !== 0 || exit.signal)) throw new RuntimeError(`criu failed: ${describeExit(exit)}`);
        return resp;
      }
      const script = resp.notify?.script ?? '';
      call.debug?.(`criu notification: ${script}${resp.notify?.pid ? ` (pid ${resp.notify.pid})` : ''}`);
      if (call.onNotify) call.onNotify(script, resp.notify?.pid ?? 0, fd);
      else if (fd !== undefined) sys.close(fd);
      sendMsg(ours, encodeReq({ type: ReqType.NOTIFY, notifySuccess: true }));
    }
  } finally {
    if (exit === undefined) {
      // an error of ours: CRIU sees the socket close and undoes what it did (a dump resumes the tasks)
      try {
        sys.close(ours);
      } catch {
        /* closed already */
      }
      await exited;
    }
  }
}

function describeExit(exit: Exit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code}`;
}

/** CRIU's version as runc counts it (3.17.1 = 31701); runc's words when it cannot be had. */
export async function criuVersion(binary: string, debug?: (msg: string) => void): Promise<number> {
  try {
    const resp = await criuSwrk({ binary, req: { type: ReqType.VERSION }, stdio: 'ignore', debug });
    if (!resp.version) throw new RuntimeError('criu did not say its version');
    return versionNumber(resp.version);
  } catch (e) {
    throw new RuntimeError(`CRIU version check failed: ${(e as Error).message}`, 1, { cause: e });
  }
}

/** CRIU's answer to a FEATURE_CHECK of `want`: the names of those missing (runc's "MemTrack", "LazyPages"). */
export async function missingFeatures(binary: string, want: { memTrack?: boolean; lazyPages?: boolean }, debug?: (msg: string) => void): Promise<string[]> {
  let resp: CriuResp;
  try {
    resp = await criuSwrk({ binary, req: { type: ReqType.FEATURE_CHECK, features: want }, stdio: 'ignore', debug });
  } catch (e) {
    throw new RuntimeError(`CRIU feature check failed: ${(e as Error).message}`, 1, { cause: e });
  }
  const missing: string[] = [];
  if (want.memTrack && resp.features?.memTrack === false) missing.push('MemTrack');
  if (want.lazyPages && resp.features?.lazyPages === false) missing.push('LazyPages');
  return missing;
}
