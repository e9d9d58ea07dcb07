// Typed wrappers over the libc bindings: each returns a useful value or throws
// a SyscallError naming the call and its arguments. Safe to use in a forked
// child: everything here is synchronous and allocates only JS objects.
import * as fs from 'fs';
import { lib, errno, koffiModule } from './ffi';
import { SyscallError } from './errors';
import * as C from './constants';
import type * as ThisModule from './sys';

/** Throws a SyscallError for the errno the last libc call left. */
export function fail(call: string, args: unknown[]): never {
  const e = errno();
  throw new SyscallError(call, args, e, String(lib().strerror(e)));
}

/** Throws when a libc call returned -1 (or less); returns the result otherwise. */
function check(call: string, args: unknown[], ret: number | bigint): number {
  const n = Number(ret);
  if (n < 0) fail(call, args);
  return n;
}


export function exit(status: number): never {
  lib()._exit(status);
  throw new Error('unreachable');
}

export function execve(path: string, argv: string[], env: string[]): never {
  lib().execve(path, [...argv, null], [...env, null]);
  fail('execve', [path]);
}

export interface WaitResult {
  pid: number;
  /** Exit code, or undefined when killed by a signal. */
  code?: number;
  signal?: number;
  /** Killed by a signal and a core was dumped (WCOREDUMP); absent otherwise. */
  coreDumped?: true;
}

export function decodeWaitStatus(pid: number, status: number): WaitResult {
  const sig = status & 0x7f;
  if (sig === 0) return { pid, code: (status >> 8) & 0xff };
  return status & 0x80 ? { pid, signal: sig, coreDumped: true } : { pid, signal: sig };
}

/** waitpid; with WNOHANG returns undefined while the child still runs. Retries EINTR. */
export function waitpid(pid: number, options = 0): WaitResult | undefined {
  const out = [0];
  for (;;) {
    const r = lib().waitpid(pid, out, options);
    if (r === 0) return undefined;
    if (r > 0) return decodeWaitStatus(r, out[0]);
    if (errno() !== 4 /* EINTR */) fail('waitpid', [pid, options]);
  }
}

/** Blocks the calling thread (safe in a forked child: no timers, no event loop). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function getpid(): number {
  return lib().getpid();
}

/**
 * kill(2) through Node's own binding (synchronous, so safe in a forked child
 * too): `kill` and `start` then never load the libc bindings, about 17 ms.
 */
export function kill(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    const n = -((e as NodeJS.ErrnoException).errno ?? 0);
    if (!n) throw e; // not from the system call (a bad argument)
    throw new SyscallError('kill', [pid, sig], n, systemErrorMessage(n));
  }
}

/** kill(pid, 0): does the process exist? */
export function processExists(pid: number): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch (e) {
    return (e as SyscallError).code === 'EPERM'; // exists, not ours
  }
}

/** strerror() without libc: libuv's table of system error messages, capitalized as glibc's. */
function systemErrorMessage(errnum: number): string {
  const entry = (require('util') as { getSystemErrorMap(): Map<number, [string, string]> }).getSystemErrorMap().get(-errnum);
  return entry ? entry[1].charAt(0).toUpperCase() + entry[1].slice(1) : `errno ${errnum}`;
}

export function setsid(): void {
  check('setsid', [], lib().setsid());
}

export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
  return check('prctl', [option, a2, a3, a4, a5], lib().prctl(option, a2, a3, a4, a5));
}

export function unshare(flags: number): void {
  check('unshare', ['0x' + flags.toString(16)], lib().unshare(flags));
}

export function setns(fd: number, nstype: number, what = ''): void {
  check('setns', [what || fd, '0x' + nstype.toString(16)], lib().setns(fd, nstype));
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  check('mount', [source, target, fstype, '0x' + flags.toString(16), data], lib().mount(source, target, fstype, flags, data));
}

export function umount2(target: string, flags: number): void {
  check('umount2', [target, flags], lib().umount2(target, flags));
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check('pivot_root', [newRoot, putOld], lib().pivot_root(newRoot, putOld));
}

export function chroot(path: string): void {
  check('chroot', [path], lib().chroot(path));
}

export function fchdir(fd: number): void {
  check('fchdir', [fd], lib().fchdir(fd));
}

export function sethostname(name: string): void {
  check('sethostname', [name], lib().sethostname(name, Buffer.byteLength(name)));
}

export function setdomainname(name: string): void {
  check('setdomainname', [name], lib().setdomainname(name, Buffer.byteLength(name)));
}

const SYS_keyctl = process.arch === 'arm64' ? 219 : 250;
const KEYCTL_JOIN_SESSION_KEYRING = 1;
const KEYCTL_SETPERM = 5;
const KEYCTL_DESCRIBE = 6;

/**
 * Joins the session keyring named `name`: one of that name the process may
 * search, or a new one (so containers don't share the host's). Its serial.
 */
export function joinSessionKeyring(name: string): number {
  const nameBuf = Buffer.from(name + '\0');
  const ret = lib().syscall6(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, ptr(nameBuf), 0, 0, 0);
  return check('keyctl', ['KEYCTL_JOIN_SESSION_KEYRING', name], ret);
}

/** Adds permission bits (KEY_USR_SEARCH...) to a key's: KEYCTL_DESCRIBE's "type;uid;gid;perm;description", then KEYCTL_SETPERM. */
export function addKeyPermissions(serial: number, bits: number): void {
  const buf = Buffer.alloc(4096);
  const n = check('keyctl', ['KEYCTL_DESCRIBE', serial], lib().syscall6(SYS_keyctl, KEYCTL_DESCRIBE, serial, ptr(buf), buf.length, 0));
  const perm = parseInt(buf.toString('utf8', 0, Math.min(n, buf.length)).split(';')[3], 16);
  if (!Number.isInteger(perm)) throw new Error(`keyctl(KEYCTL_DESCRIBE, ${serial}): no permissions in the description`);
  check('keyctl', ['KEYCTL_SETPERM', serial], lib().syscall6(SYS_keyctl, KEYCTL_SETPERM, serial, (perm | bits) >>> 0, 0, 0));
}

const SYS_mount_setattr = 442; // same number on x86_64 and aarch64

/** mount_setattr(2) on `path`: set and clear mount attributes, recursively when asked. */
export function mountSetattr(path: string, recursive: boolean, set: number, clear: number): void {
  // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }
  const attr = Buffer.alloc(32);
  attr.writeBigUInt64LE(BigInt(set), 0);
  attr.writeBigUInt64LE(BigInt(clear), 8);
  const pathBuf = Buffer.from(path + '\0');
  const flags = recursive ? C.AT_RECURSIVE : 0;
  const ret = lib().syscall6(SYS_mount_setattr, -100 /* AT_FDCWD */, ptr(pathBuf), flags, ptr(attr), 32);
  check('mount_setattr', [path, recursive ? 'AT_RECURSIVE' : 0, '0x' + set.toString(16), '0x' + clear.toString(16)], ret);
}

/** Address of a Buffer's memory as a number for generic syscall(2) arguments. */
export function ptr(buf: Buffer): number {
  // koffi.address returns a bigint address of the buffer's memory
  return Number(koffiModule().address(buf));
}

export function setresuid(uid: number): void {
  check('setresuid', [uid, uid, uid], lib().setresuid(uid, uid, uid));
}

export function setresgid(gid: number): void {
  check('setresgid', [gid, gid, gid], lib().setresgid(gid, gid, gid));
}

export function setgroups(gids: number[]): void {
  check('setgroups', [gids.join(',')], lib().setgroups(gids.length, new Uint32Array(gids)));
}

export function umask(mask: number): number {
  return lib().umask(mask);
}

export function prlimit(resource: number, soft: bigint, hard: bigint, name: string): void {
  const buf = Buffer.alloc(16);
  buf.writeBigUInt64LE(soft, 0);
  buf.writeBigUInt64LE(hard, 8);
  check('setrlimit', [name, soft, hard], lib().prlimit(0, resource, buf, null));
}

export function open(path: string, flags: number, mode = 0): number {
  return check('open', [path, '0o' + flags.toString(8)], lib().open(path, flags, mode));
}

export function openat(dirfd: number, path: string, flags: number, mode = 0): number {
  return check('openat', [dirfd, path, '0o' + flags.toString(8)], lib().openat(dirfd, path, flags, mode));
}

export function close(fd: number): void {
  lib().close(fd);
}

export function dup3(oldfd: number, newfd: number, flags = 0): void {
  check('dup3', [oldfd, newfd], lib().dup3(oldfd, newfd, flags));
}

export function setCloexec(fd: number, on: boolean): void {
  const cur = check('fcntl', [fd, 'F_GETFD'], lib().fcntl(fd, C.F_GETFD, 0));
  const next = on ? cur | C.FD_CLOEXEC : cur & ~C.FD_CLOEXEC;
  if (next !== cur) check('fcntl', [fd, 'F_SETFD', next], lib().fcntl(fd, C.F_SETFD, next));
}

export function setNonblock(fd: number, on: boolean): void {
  const cur = check('fcntl', [fd, 'F_GETFL'], lib().fcntl(fd, C.F_GETFL, 0));
  const next = on ? cur | C.O_NONBLOCK : cur & ~C.O_NONBLOCK;
  if (next !== cur) check('fcntl', [fd, 'F_SETFL', next], lib().fcntl(fd, C.F_SETFL, next));
}

/** fcntl(F_GETFL): the open file status flags and access mode. */
export function fcntlGetFl(fd: number): number {
  return check('fcntl', [fd, 'F_GETFL'], lib().fcntl(fd, C.F_GETFL, 0));
}

export function fdIsOpen(fd: number): boolean {
  return lib().fcntl(fd, C.F_GETFD, 0) >= 0;
}

/**
 * Marks every fd from `first` up close-on-exec. One close_range(2) call; where
 * that is refused (older kernels, or a seccomp filter already in place that
 * does not allow it) each open fd is marked through /proc/self/fd instead.
 */
export function closeRangeCloexec(first: number): void {
  if (lib().close_range(first, 0xffffffff, C.CLOSE_RANGE_CLOEXEC) === 0) return;
  let fds: number[];
  try {
    fds = fs.readdirSync('/proc/self/fd').map(Number);
  } catch {
    fail('close_range', [first, '~0', 'CLOSE_RANGE_CLOEXEC']);
  }
  for (const fd of fds) {
    if (fd >= first && lib().fcntl(fd, C.F_SETFD, C.FD_CLOEXEC) < 0 && errno() !== 9 /* EBADF: the dir's own fd */) {
      fail('fcntl', [fd, 'F_SETFD', 'FD_CLOEXEC']);
    }
  }
}

export function socketpair(type: number): [number, number] {
  const sv = new Int32Array(2);
  check('socketpair', ['AF_UNIX', type], lib().socketpair(C.AF_UNIX, type | C.SOCK_CLOEXEC, 0, sv));
  return [sv[0], sv[1]];
}

/** pipe2 with O_CLOEXEC: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check('pipe2', ['O_CLOEXEC'], lib().pipe2(fds, C.O_CLOEXEC));
  return [fds[0], fds[1]];
}

/** Sets a signal's disposition to ignored or back to default. */
export function ignoreSignal(sig: number, ignore: boolean): void {
  lib().signal(sig, ignore ? 1 /* SIG_IGN */ : 0 /* SIG_DFL */);
}

export function mkfifo(path: string, mode: number): void {
  check('mkfifo', [path, '0' + mode.toString(8)], lib().mkfifo(path, mode));
}

export function ioctlPtr(fd: number, req: number, arg: Buffer, name: string): void {
  check('ioctl', [fd, name], lib().ioctlPtr(fd, req, arg));
}

export function ioctlInt(fd: number, req: number, arg: number, name: string): void {
  check('ioctl', [fd, name, arg], lib().ioctlInt(fd, req, arg));
}

/** ioctl(2)'s result (NS_GET_NSTYPE), or -errno on failure. */
export function tryIoctl(fd: number, req: number, arg: number): number {
  const r = lib().ioctlInt(fd, req, arg);
  return r < 0 ? -errno() : r;
}

/** ioctl(2) whose result is a new fd (TIOCGPTPEER); -errno on failure. */
export function tryIoctlFd(fd: number, req: number, arg: number): number {
  const r = lib().ioctlInt(fd, req, arg);
  return r < 0 ? -errno() : r;
}

/** poll(2) one fd for readability; returns true when readable (or hung up) before the timeout. */
export function pollIn(fd: number, timeoutMs: number): boolean {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(0x1 /* POLLIN */, 4);
  for (;;) {
    const r = lib().poll(pfd, 1, timeoutMs);
    if (r >= 0) return r > 0;
    if (errno() !== 4) fail('poll', [fd]);
  }
}

/** poll(2) on a buffer of struct pollfd (`n` of them), without a timeout; retried on EINTR. */
export function pollFds(pfd: Buffer, n: number): number {
  for (;;) {
    const r = lib().poll(pfd, n, -1);
    if (r >= 0) return r;
    if (errno() !== 4) fail('poll', [n]);
  }
}

/** Resets every signal to its default disposition and unblocks them all. */
export function resetSignals(): void {
  const l = lib();
  for (let sig = 1; sig < 65; sig++) {
    if (sig === 9 || sig === 19 || sig === 32 || sig === 33) continue; // KILL, STOP, glibc-reserved
    l.signal(sig, 0 /* SIG_DFL */);
  }
  l.sigprocmask(C.SIG_SETMASK, Buffer.alloc(128), null);
}

/** glibc's struct sigaction is 152 bytes on x86_64 and arm64; room to spare. */
const SIGACTION_SIZE = 256;

/** A signal's current action (struct sigaction), to be put back with setSignalAction. */
export function signalAction(sig: number): Buffer {
  const b = Buffer.alloc(SIGACTION_SIZE);
  check('sigaction', [sig], lib().sigaction(sig, null, b));
  return b;
}

export function setSignalAction(sig: number, action: Buffer): void {
  check('sigaction', [sig], lib().sigaction(sig, action, null));
}

/** sigset_t with every signal (glibc's sigprocmask leaves out the two it reserves). */
const allSignals = (): Buffer => Buffer.alloc(128, 0xff);

/** Blocks every signal: they stay pending until waitSignal takes them. */
export function blockAllSignals(): void {
  check('sigprocmask', ['SIG_BLOCK', 'all'], lib().sigprocmask(C.SIG_BLOCK, allSignals(), null));
}

export function unblockAllSignals(): void {
  check('sigprocmask', ['SIG_SETMASK', 'none'], lib().sigprocmask(C.SIG_SETMASK, Buffer.alloc(128), null));
}

/** sigwaitinfo(2) over every signal (blocked with blockAllSignals): the next one's number. */
export function waitSignal(): number {
  const set = allSignals();
  const info = Buffer.alloc(128); // siginfo_t
  for (;;) {
    const sig = lib().sigwaitinfo(set, info);
    if (sig > 0) return sig;
    if (errno() !== 4 /* EINTR */) fail('sigwaitinfo', []);
  }
}

/** Empties the C environment (environ), which Node's process.env reads. */
export function clearenv(): void {
  check('clearenv', [], lib().clearenv());
}

/** Writes `bytes` at `addr` of this process's memory, then zeros up to `addr + len`. */
export function overwriteMemory(addr: number, len: number, bytes: Buffer): void {
  const n = Math.min(bytes.length, len);
  if (n > 0) lib().memcpy(addr, bytes, n);
  if (len > n) lib().memset(addr + n, 0, len - n);
}

let vvarStart: number | undefined;

/**
 * Clears MADV_DONTFORK on every mapping below [vvar] so that a forked child
 * gets all of V8's heap (see shared/notes/process-model.md). The range has
 * holes, so madvise reports ENOMEM, but it applies to each mapping anyway.
 */
export function prepareFork(): void {
  if (vvarStart === undefined) {
    const maps = fs.readFileSync('/proc/self/maps', 'utf8');
    const m = /^([0-9a-f]+)-[0-9a-f]+ .*\[vvar\]$/m.exec(maps);
    if (!m) throw new Error('cannot find [vvar] in /proc/self/maps');
    vvarStart = parseInt(m[1], 16);
  }
  lib().madvise(0x10000, vvarStart - 0x10000, C.MADV_DOFORK);
}

/** Gives free memory of malloc's heap back to the kernel (malloc_trim(3)). */
export function mallocTrim(): void {
  lib().malloc_trim(0);
}

/** fork() with the heap made inheritable first. */
export function safeFork(): number {
  const fork = lib().fork; // bound now: nothing may be allocated between the madvise and the fork
  prepareFork();
  const pid = fork();
  if (pid < 0) fail('fork', []);
  return pid;
}

const SYS_clone3 = 435; // the same on x86_64 and aarch64
const CLONE_INTO_CGROUP = 0x200000000n;

/**
 * Forks like safeFork(), the child born in the cgroup v2 directory open as
 * `cgroupFd` (clone3 with CLONE_INTO_CGROUP): no cgroup.procs write, and so
 * none of its wait for an RCU grace period (src/cgroups/join.ts). Returns the
 * pid (0 in the child), or -errno when the kernel refuses (ENOSYS before 5.7
 * or under a seccomp filter; EACCES, ENOENT or EBUSY where a cgroup.procs
 * write would fail too: src/cgroups/join.ts tells them apart).
 * Only from a single-threaded process: unlike fork(3), the raw system call
 * takes none of libc's locks first (a forked runtime stage has no other
 * thread to hold one), and leaves the child's libc the parent's cached
 * thread id, which glibc's raise() and tsrunc's stages do not use. Nor does
 * it run the child handlers of pthread_atfork(3) in the child: one that will
 * itself fork(3) must not be made this way (libuv's handler would close, in
 * that grandchild, the fds it had in the parent, numbers others hold now).
 */
export function tryForkIntoCgroup(cgroupFd: number): number {
  const clone3 = lib().syscallClone3; // bound now: nothing may be allocated between the madvise and the clone
  // struct clone_args (88 bytes, CLONE_ARGS_SIZE_VER2): flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup
  const args = Buffer.alloc(88);
  args.writeBigUInt64LE(CLONE_INTO_CGROUP, 0);
  args.writeBigUInt64LE(BigInt(C.SIGCHLD), 32);
  args.writeBigUInt64LE(BigInt(cgroupFd), 80);
  prepareFork();
  const pid = Number(clone3(SYS_clone3, args, 88));
  return pid < 0 ? -errno() : pid;
}

// ---- by-fd path resolution and the new mount API (used by src/linux/inroot.ts) ----
// Each call also has a try* form returning -errno instead of throwing, for resolvers
// that branch on the errno (an exception per missing component would cost more).
// The structs are read from and written to module buffers: everything here is synchronous.

const SYS_open_tree = 428; // these numbers are the same on x86_64 and aarch64
const SYS_move_mount = 429;
const SYS_openat2 = 437;
const SYS_fchmodat2 = 452;

let openHow: Buffer | undefined;

/** openat2(2): the fd, or -errno. */
export function tryOpenat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number {
  // struct open_how { u64 flags, mode, resolve }: every value fits in 32 bits
  const how = (openHow ??= Buffer.alloc(24));
  how.writeUInt32LE(flags >>> 0, 0);
  how.writeUInt32LE(mode >>> 0, 8);
  how.writeUInt32LE(resolve >>> 0, 16);
  const fd = Number(lib().syscallOpenat2(SYS_openat2, dirfd, path, how, 24));
  return fd < 0 ? -errno() : fd;
}

export function openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number {
  const fd = tryOpenat2(dirfd, path, flags, mode, resolve);
  if (fd < 0) throwErrno('openat2', [dirfd, path, '0o' + flags.toString(8), '0x' + resolve.toString(16)], -fd);
  return fd;
}

/** openat(2): the fd, or -errno. */
export function tryOpenat(dirfd: number, path: string, flags: number, mode = 0): number {
  const fd = lib().openat(dirfd, path, flags, mode);
  return fd < 0 ? -errno() : fd;
}

/** Throws the SyscallError for an errno read earlier. */
export function throwErrno(call: string, args: unknown[], e: number, detail = ''): never {
  throw new SyscallError(call, args, e, String(lib().strerror(e)) + detail);
}

export interface Statx {
  /** file type and permission bits (st_mode) */
  mode: number;
  uid: number;
  gid: number;
  /** bigints: overlayfs (xino) and btrfs use all 64 bits */
  ino: bigint;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
  size: number;
  /** the mount's id as in /proc/self/mountinfo; undefined where the kernel does not say (< 5.8) */
  mntId: bigint | undefined;
  /** is it the root of a mount (STATX_ATTR_MOUNT_ROOT); undefined where the kernel does not say (< 5.8) */
  mountRoot: boolean | undefined;
}

let statxBuf: Buffer | undefined;

/** statx(2) into the module buffer: 0 or -errno. */
function statxRaw(dirfd: number, path: string, flags: number, mask: number): number {
  return lib().statx(dirfd, path, flags, mask, (statxBuf ??= Buffer.alloc(256))) < 0 ? -errno() : 0;
}

/** statx(2); `path` "" with AT_EMPTY_PATH for the fd itself (works on O_PATH fds). */
export function statx(dirfd: number, path: string, flags: number, mask = C.STATX_BASIC_STATS | C.STATX_MNT_ID): Statx {
  const r = statxRaw(dirfd, path, flags, mask);
  if (r < 0) throwErrno('statx', [dirfd, path, '0x' + flags.toString(16)], -r);
  const b = statxBuf as Buffer;
  const got = b.readUInt32LE(0);
  const attrs = b.readBigUInt64LE(8);
  const attrsKnown = b.readBigUInt64LE(56);
  const mountRootBit = BigInt(C.STATX_ATTR_MOUNT_ROOT);
  return {
    mode: b.readUInt16LE(28),
    uid: b.readUInt32LE(20),
    gid: b.readUInt32LE(24),
    ino: b.readBigUInt64LE(32),
    size: Number(b.readBigUInt64LE(40)),
    rdevMajor: b.readUInt32LE(128),
    rdevMinor: b.readUInt32LE(132),
    devMajor: b.readUInt32LE(136),
    devMinor: b.readUInt32LE(140),
    mntId: got & C.STATX_MNT_ID ? b.readBigUInt64LE(144) : undefined,
    mountRoot: attrsKnown & mountRootBit ? (attrs & mountRootBit) !== 0n : undefined,
  };
}

/** statx of what the fd refers to (a symlink itself for an O_PATH|O_NOFOLLOW fd of one). */
export function fstatx(fd: number): Statx {
  return statx(fd, '', C.AT_EMPTY_PATH | C.AT_SYMLINK_NOFOLLOW);
}

/** The S_IFMT bits of what the fd refers to, or -errno. One statx asking for the type only. */
export function tryFileType(fd: number): number {
  const r = statxRaw(fd, '', C.AT_EMPTY_PATH | C.AT_SYMLINK_NOFOLLOW, C.STATX_TYPE);
  return r < 0 ? r : (statxBuf as Buffer).readUInt16LE(28) & C.S_IFMT;
}

let statfsBuf: Buffer | undefined;

/** fstatfs(2)'s f_type (PROC_SUPER_MAGIC...): which filesystem the fd is on. Works on O_PATH fds. */
export function fstatfsType(fd: number): number {
  const b = (statfsBuf ??= Buffer.alloc(128)); // struct statfs is 120 bytes; f_type (a long) comes first
  if (lib().fstatfs(fd, b) < 0) fail('fstatfs', [fd]);
  return b.readUInt32LE(0);
}

/** mkdirat(2): 0 or -errno. */
export function tryMkdirat(dirfd: number, path: string, mode: number): number {
  return lib().mkdirat(dirfd, path, mode) < 0 ? -errno() : 0;
}

export function mkdirat(dirfd: number, path: string, mode: number): void {
  const r = tryMkdirat(dirfd, path, mode);
  if (r < 0) throwErrno('mkdirat', [dirfd, path, '0' + mode.toString(8)], -r);
}

let linkBuf: Buffer | undefined;

/** readlinkat(2): the link's text, or -errno. `path` "" reads the link an O_PATH fd refers to. */
export function tryReadlinkat(dirfd: number, path: string): string | number {
  const b = (linkBuf ??= Buffer.alloc(4096)); // PATH_MAX: a link's text is shorter
  const n = Number(lib().readlinkat(dirfd, path, b, b.length));
  return n < 0 ? -errno() : b.toString('utf8', 0, n);
}

export function readlinkat(dirfd: number, path: string): string {
  const r = tryReadlinkat(dirfd, path);
  if (typeof r === 'number') throwErrno('readlinkat', [dirfd, path], -r);
  return r;
}

export function symlinkat(target: string, dirfd: number, path: string): void {
  check('symlinkat', [target, dirfd, path], lib().symlinkat(target, dirfd, path));
}

/** unlinkat(2): 0 or -errno. */
export function tryUnlinkat(dirfd: number, path: string, flags = 0): number {
  return lib().unlinkat(dirfd, path, flags) < 0 ? -errno() : 0;
}

/** glibc's makedev(): the dev_t of a device number. */
export function makedev(major: number, minor: number): bigint {
  return (BigInt(major & 0xfff) << 8n) | (BigInt(major & ~0xfff) << 32n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n);
}

/** mknodat(2): 0 or -errno. */
export function tryMknodat(dirfd: number, path: string, mode: number, major = 0, minor = 0): number {
  return lib().mknodat(dirfd, path, mode, makedev(major, minor)) < 0 ? -errno() : 0;
}

export function mknodat(dirfd: number, path: string, mode: number, major = 0, minor = 0): void {
  const r = tryMknodat(dirfd, path, mode, major, minor);
  if (r < 0) throwErrno('mknodat', [dirfd, path, '0' + mode.toString(8), `${major}:${minor}`], -r);
}

/** fchownat(2); with `path` "" and AT_EMPTY_PATH it changes what an (O_PATH) fd refers to. */
export function fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number): void {
  check('fchownat', [dirfd, path, uid, gid, '0x' + flags.toString(16)], lib().fchownat(dirfd, path, uid, gid, flags));
}

/**
 * chmod of what an fd refers to, O_PATH fds included (fchmod(2) refuses those
 * with EBADF): fchmodat2(fd, "", AT_EMPTY_PATH) on Linux >= 6.6, else
 * chmod of /proc/self/fd/N, which needs a procfs on /proc.
 */
export function fchmodFd(fd: number, mode: number): void {
  if (Number(lib().syscallPath(SYS_fchmodat2, fd, '', mode, C.AT_EMPTY_PATH, 0)) === 0) return;
  const e = errno();
  if (e !== 38 /* ENOSYS */ && e !== 22 /* EINVAL: flags unknown */) throwErrno('fchmodat2', [fd, '', '0' + mode.toString(8), 'AT_EMPTY_PATH'], e);
  const proc = `/proc/self/fd/${fd}`;
  check('fchmodat', [proc, '0' + mode.toString(8)], lib().fchmodat(C.AT_FDCWD, proc, mode, 0));
}

/** open_tree(2): an fd of the mount at `path` (a detached copy with OPEN_TREE_CLONE). */
export function openTree(dirfd: number, path: string, flags: number): number {
  const fd = Number(lib().syscallPath(SYS_open_tree, dirfd, path, flags, 0, 0));
  if (fd < 0) fail('open_tree', [dirfd, path, '0x' + flags.toString(16)]);
  return fd;
}

/** move_mount(2), e.g. (treeFd, "", destFd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH). */
export function moveMount(fromFd: number, fromPath: string, toFd: number, toPath: string, flags: number): void {
  const r = Number(lib().syscallMoveMount(SYS_move_mount, fromFd, fromPath, toFd, toPath, flags));
  check('move_mount', [fromFd, fromPath, toFd, toPath, '0x' + flags.toString(16)], r);
}

/** mount_setattr(2) on the mount an fd refers to (AT_EMPTY_PATH): set and clear attributes, recursively when asked. */
export function mountSetattrFd(fd: number, recursive: boolean, set: number, clear: number, propagation = 0): void {
  // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }
  const attr = Buffer.alloc(32);
  attr.writeUInt32LE(set >>> 0, 0);
  attr.writeUInt32LE(clear >>> 0, 8);
  attr.writeUInt32LE(propagation >>> 0, 16);
  const flags = C.AT_EMPTY_PATH | (recursive ? C.AT_RECURSIVE : 0);
  const r = Number(lib().syscallPathBuf(SYS_mount_setattr, fd, '', flags, attr, 32));
  check('mount_setattr', [fd, '', recursive ? 'AT_EMPTY_PATH|AT_RECURSIVE' : 'AT_EMPTY_PATH', '0x' + set.toString(16), '0x' + clear.toString(16)], r);
}

/**
 * mount_setattr(2) MOUNT_ATTR_IDMAP on a detached mount (open_tree(OPEN_TREE_CLONE)): its
 * ids are mapped through the user namespace `usernsFd`, the whole tree with `recursive`.
 */
export function mountSetattrIdmap(fd: number, recursive: boolean, usernsFd: number): void {
  // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }
  const attr = Buffer.alloc(32);
  attr.writeUInt32LE(C.MOUNT_ATTR_IDMAP, 0);
  attr.writeUInt32LE(usernsFd >>> 0, 24);
  const flags = C.AT_EMPTY_PATH | (recursive ? C.AT_RECURSIVE : 0);
  const r = Number(lib().syscallPathBuf(SYS_mount_setattr, fd, '', flags, attr, 32));
  check('mount_setattr', [fd, '', recursive ? 'AT_EMPTY_PATH|AT_RECURSIVE' : 'AT_EMPTY_PATH', 'MOUNT_ATTR_IDMAP', `userns_fd=${usernsFd}`], r);
}

/** strerror(3): the system's text for an errno. */
export function strerror(e: number): string {
  return String(lib().strerror(e));
}

const SYS_eventfd2 = process.arch === 'arm64' ? 19 : 290;

/** eventfd2(2) with `flags` (EFD_CLOEXEC, EFD_NONBLOCK); throws a SyscallError. */
export function eventfd(flags: number): number {
  return check('eventfd2', [0, '0x' + flags.toString(16)], lib().syscall6(SYS_eventfd2, 0, flags, 0, 0, 0));
}

const SYS_bpf = process.arch === 'arm64' ? 280 : 321;

/** bpf(2) with `attr` as the command's union: the result, or -errno. */
export function tryBpf(cmd: number, attr: Buffer): number {
  const r = Number(lib().syscall6(SYS_bpf, cmd, ptr(attr), attr.length, 0, 0));
  return r < 0 ? -errno() : r;
}

const SYS_seccomp = process.arch === 'arm64' ? 277 : 317;
const SECCOMP_SET_MODE_FILTER = 1;

let seccompCall: ((nr: number, op: number, flags: number, prog: { len: number; filter: Buffer } | null) => number | bigint) | undefined;

/**
 * Our own prototype of syscall(2) for seccomp: the program is passed as a
 * struct sock_fprog { unsigned short len; struct sock_filter *filter; }.
 * Declared by the parent (declareSeccomp) while compiling, so the container's
 * init does not declare anything.
 */
export function declareSeccomp(): void {
  if (seccompCall) return;
  const k = koffiModule();
  k.struct('tsrunc_sock_fprog', { len: 'uint16_t', filter: 'void *' });
  seccompCall = k.load('libc.so.6').func('long syscall(long nr, long op, unsigned long flags, const tsrunc_sock_fprog *prog)');
}

/** seccomp(SECCOMP_SET_MODE_FILTER, flags, bpf): the result (a listener fd with NEW_LISTENER), or -errno. A null program only checks the flags. */
export function trySeccompFilter(flags: number, bpf: Buffer | null): number {
  declareSeccomp();
  const r = Number(seccompCall!(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, bpf && { len: bpf.length / 8, filter: bpf }));
  return r < 0 ? -errno() : r;
}

/**
 * This module as one typed value: the way to libc for everything above
 * src/linux/. A unit that should be testable without a kernel takes the part
 * it uses (`Pick<Sys, 'waitpid'>`) as a parameter that defaults to this
 * module, and a test passes a fake (test/unit/foreground.test.js).
 */
export type Sys = typeof ThisModule;
