// Typed wrappers over the libc bindings: each returns a useful value or throws
// a SyscallError naming the call and its arguments. Safe to use in a forked
// child: everything here is synchronous and allocates only JS objects.
import * as fs from 'fs';
import { lib, errno, koffiModule } from './ffi';
import { SyscallError } from './errors';
import * as C from './constants';

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
}

export function decodeWaitStatus(pid: number, status: number): WaitResult {
  const sig = status & 0x7f;
  if (sig === 0) return { pid, code: (status >> 8) & 0xff };
  return { pid, signal: sig };
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

export function mknod(path: string, mode: number, major: number, minor: number): void {
  // glibc's makedev encoding
  const dev = (BigInt(major & 0xfff) << 8n) | (BigInt(major & ~0xfff) << 32n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n);
  check('mknod', [path, '0' + mode.toString(8), `${major}:${minor}`], lib().mknod(path, mode, dev));
}

export function sethostname(name: string): void {
  check('sethostname', [name], lib().sethostname(name, Buffer.byteLength(name)));
}

export function setdomainname(name: string): void {
  check('setdomainname', [name], lib().setdomainname(name, Buffer.byteLength(name)));
}

const SYS_keyctl = process.arch === 'arm64' ? 219 : 250;
const KEYCTL_JOIN_SESSION_KEYRING = 1;

/** Joins a new session keyring named `name`, so containers don't share the host's. */
export function joinSessionKeyring(name: string): void {
  const nameBuf = Buffer.from(name + '\0');
  const ret = lib().syscall6(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, ptr(nameBuf), 0, 0, 0);
  check('keyctl', ['KEYCTL_JOIN_SESSION_KEYRING', name], ret);
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

/** Resets every signal to its default disposition and unblocks them all. */
export function resetSignals(): void {
  const l = lib();
  for (let sig = 1; sig < 65; sig++) {
    if (sig === 9 || sig === 19 || sig === 32 || sig === 33) continue; // KILL, STOP, glibc-reserved
    l.signal(sig, 0 /* SIG_DFL */);
  }
  l.sigprocmask(C.SIG_SETMASK, Buffer.alloc(128), null);
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

/** fork() with the heap made inheritable first. */
export function safeFork(): number {
  const l = lib();
  prepareFork();
  const pid = l.fork();
  if (pid < 0) fail('fork', []);
  return pid;
}
