// Installing a compiled seccomp filter (compile.ts) in the container's init:
// one seccomp(SECCOMP_SET_MODE_FILTER) syscall with the BPF program the
// parent exported from libseccomp. No libseccomp in the child; synchronous,
// safe after fork.
import { SyscallError } from '../linux/errors';
import { trySeccompFilter, strerror } from '../linux/sys';

/** What the parent hands the container's init (through InitPlan). */
export interface CompiledFilter {
  /** struct sock_filter[] (8 bytes each) as libseccomp exported it. */
  bpf: Buffer;
  /** SECCOMP_FILTER_FLAG_* from the config's `flags` (NEW_LISTENER is added at load time). */
  flags: number;
  /** The config's flag names, for messages. */
  flagNames: string[];
  /** Some rule uses SCMP_ACT_NOTIFY: load with a listener and pass its fd on. */
  notify: boolean;
  /** Where the parent sends the listener fd (set whenever `notify` is). */
  listenerPath?: string;
  listenerMetadata?: string;
}

// seccomp(2) operations and filter flags (linux/seccomp.h)
export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_FILTER_FLAG_TSYNC = 1 << 0;
export const SECCOMP_FILTER_FLAG_LOG = 1 << 1;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 1 << 2;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;
export const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 1 << 4;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5;

/** The kernel's BPF_MAXINSNS: longer programs are refused with EINVAL. */
export const BPF_MAXINSNS = 4096;

const EACCES = 13;

/**
 * Does the running kernel know these SECCOMP_FILTER_FLAG_* bits? Asks with a
 * NULL program: the kernel checks the flags first (EINVAL when unknown), then
 * fails to read the program (EFAULT). Nothing is installed either way.
 */
export function kernelAcceptsFlags(flags: number): boolean {
  return trySeccompFilter(flags, null) !== -22; /* EINVAL; >= 0 cannot happen with a NULL program */
}

/** The flags passed to seccomp(2) for this filter. */
export function loadFlags(filter: CompiledFilter): number {
  let flags = filter.flags;
  if (filter.notify) {
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // TSYNC reports a failing thread by its TID, which collides with the listener fd: ask for ESRCH.
    if (flags & SECCOMP_FILTER_FLAG_TSYNC) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  } else {
    // Only meaningful with a listener; the kernel refuses it without one.
    flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  }
  return flags;
}

/**
 * Installs the filter on the calling process (the container's init). Returns
 * the listener fd when the filter has SCMP_ACT_NOTIFY rules, else undefined.
 * The kernel requires no_new_privs or CAP_SYS_ADMIN; without either it says
 * EACCES, which we explain.
 */
export function loadSeccomp(filter: CompiledFilter): number | undefined {
  const flags = loadFlags(filter);
  const r = trySeccompFilter(flags, filter.bpf);
  if (r < 0) {
    const e = -r;
    const shownFlags = [...filter.flagNames, ...(filter.notify ? ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] : [])].join('|') || '0';
    const err = new SyscallError('seccomp', ['SECCOMP_SET_MODE_FILTER', shownFlags], e, strerror(e));
    if (e === EACCES) {
      err.message =
        `seccomp: loading the filter needs no_new_privs or CAP_SYS_ADMIN: set process.noNewPrivileges ` +
        `or keep CAP_SYS_ADMIN in process.capabilities.effective (${err.message})`;
    } else {
      err.message = `seccomp: loading the filter failed: ${err.message}`;
    }
    throw err;
  }
  return filter.notify ? r : undefined;
}

/** When stage 2 installs the filter (see loadPointFor). */
export type SeccompLoadPoint = 'before-user' | 'before-ready';

interface ProcessPrivileges {
  user: { uid: number };
  capabilities?: { effective?: string[] };
  noNewPrivileges?: boolean;
}

/**
 * - 'before-ready' (the usual case): the process is set up, and the filter
 *   is in force before the runtime is told so. A created container's init
 *   then waits for `start` already filtered (as runc's does): a process that
 *   could trace it must not be able to run through it what the profile
 *   forbids. The filter must allow what the init does after it: the exec
 *   fifo, startContainer hooks, execve (any profile that lets a runtime start
 *   a process does).
 * - 'before-user': without no_new_privs the kernel wants CAP_SYS_ADMIN to
 *   install a filter; when the process will not keep it, install it while the
 *   init still has it, before the user and capability switch (runc does too).
 */
export function loadPointFor(p: ProcessPrivileges): SeccompLoadPoint {
  const keepsSysAdmin = p.capabilities ? (p.capabilities.effective ?? []).includes('CAP_SYS_ADMIN') : p.user.uid === 0;
  return !p.noNewPrivileges && !keepsSysAdmin ? 'before-user' : 'before-ready';
}
