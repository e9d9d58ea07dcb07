// The container process's identity and environment (stage 2, last steps
// before exec): rlimits, oom score, capabilities, user, umask, cwd, no_new_privs,
// the executable's lookup, and the final fd cleanup.
import * as fs from 'fs';
import * as path from 'path';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { type Process } from '../../bundle/spec-types';
import { writeProcFile } from '../../linux/procfs';
import { capNumber, limitBoundingSet, setCapabilities, setAmbient } from '../../linux/capabilities';

const RLIMIT_NUMBERS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

const U64_MAX = 0xffffffffffffffffn;
/** JSON numbers above 2^53 lose precision; anything at or past 2^64-1 means "unlimited". */
function toU64(n: number): bigint {
  return n >= 18446744073709551615 ? U64_MAX : BigInt(Math.floor(n));
}

export function applyRlimits(p: Process): void {
  for (const r of p.rlimits ?? []) {
    try {
      sys.prlimit(RLIMIT_NUMBERS[r.type], toU64(r.soft), toU64(r.hard), r.type);
    } catch (e) {
      const hint = (e as { code?: string }).code === 'EPERM' ? ' (raising a hard limit needs CAP_SYS_RESOURCE)' : '';
      throw new Error(`process.rlimits: cannot set ${r.type} to soft ${r.soft} hard ${r.hard}: ${(e as Error).message}${hint}`, { cause: e });
    }
  }
}

export function applyOomScoreAdj(p: Process, procFd: number): void {
  if (p.oomScoreAdj === undefined) return;
  try {
    writeProcFile(procFd, 'self/oom_score_adj', String(p.oomScoreAdj));
  } catch (e) {
    throw new Error(`process.oomScoreAdj: cannot set ${p.oomScoreAdj}: ${(e as Error).message}`, { cause: e });
  }
}

function caps(names: string[] | undefined): number[] {
  return (names ?? []).map((n) => capNumber(n) as number);
}

/** Bounding set, user and groups, then the other capability sets (which setuid would clear). */
export function applyUserAndCapabilities(p: Process): void {
  const c = p.capabilities;
  if (c) {
    sys.prctl(C.PR_SET_KEEPCAPS, 1);
    limitBoundingSet(caps(c.bounding));
  }
  const groups = p.user.additionalGids ?? [];
  try {
    sys.setgroups(groups);
  } catch (e) {
    // A user namespace whose gid_map was written without privilege denies setgroups(2);
    // with no additional groups asked for there is nothing to do.
    if ((e as { code?: string }).code !== 'EPERM' || groups.length) throw e;
  }
  sys.setresgid(p.user.gid);
  sys.setresuid(p.user.uid);
  if (c) {
    sys.prctl(C.PR_SET_KEEPCAPS, 0);
    setCapabilities(caps(c.effective), caps(c.permitted), caps(c.inheritable));
    setAmbient(caps(c.ambient), caps(c.inheritable));
  }
  sys.umask(p.user.umask ?? 0o022);
}

/** The process environment, with HOME from the container's /etc/passwd when not given. */
export function processEnv(p: Process): string[] {
  const env = [...(p.env ?? [])];
  if (!env.some((e) => e.startsWith('HOME='))) {
    let home = '/';
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length >= 6 && Number(f[2]) === p.user.uid) {
          home = f[5] || '/';
          break;
        }
      }
    } catch {
      /* no passwd file: HOME=/ */
    }
    env.push(`HOME=${home}`);
  }
  return env;
}

function isExecutableFile(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds args[0] as the container will exec it, with the container's PATH. */
export function lookupExecutable(arg0: string, env: string[]): string {
  if (arg0.includes('/')) {
    if (!fs.existsSync(arg0)) throw new Error(`exec: "${arg0}": stat ${arg0}: no such file or directory`);
    if (!isExecutableFile(arg0)) throw new Error(`exec: "${arg0}": permission denied`);
    return arg0;
  }
  const pathVar = env.filter((e) => e.startsWith('PATH=')).pop()?.slice(5) ?? '';
  for (const dir of pathVar.split(':')) {
    const candidate = path.join(dir || '.', arg0);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new Error(`exec: "${arg0}": executable file not found in $PATH`);
}

/** stdio stays open across exec, the --preserve-fds range too, nothing else does. */
export function prepareFds(preserveFds: number): void {
  for (let fd = 0; fd < 3 + preserveFds; fd++) {
    if (!sys.fdIsOpen(fd)) continue;
    sys.setCloexec(fd, false);
    if (fd < 3) {
      try {
        sys.setNonblock(fd, false);
      } catch {
        /* not every fd type takes F_SETFL */
      }
    }
  }
  sys.closeRangeCloexec(3 + preserveFds);
}

/**
 * Gives the container user its stdio (the tty, pipes), as runc's
 * fixStdioPermissions: the owner only, the group stays (the pty's is devpts's
 * gid=5, tty); /dev/null stays root's.
 */
export function fixStdioOwnership(p: Process): void {
  if (p.user.uid === 0) return;
  for (const fd of [0, 1, 2]) {
    try {
      const st = fs.fstatSync(fd);
      if (st.isCharacterDevice() && st.rdev === 259) continue; // /dev/null (1:3)
      fs.fchownSync(fd, p.user.uid, st.gid);
    } catch {
      /* EPERM/EINVAL on some fds: keep going */
    }
  }
}
