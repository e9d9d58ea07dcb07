// koffi bindings to libc. Loaded lazily, once: commands that never touch the
// kernel directly (spec, list of an empty root) do not pay for it.
//
// Conventions: every binding returns the raw libc result; `sys.ts` wraps the
// ones that can fail and turns -1/errno into a SyscallError.
import type * as Koffi from 'koffi';
import * as fs from 'fs';
import * as path from 'path';
import { span } from '../trace';

// koffi is loaded on first use: commands that never call into libc (state, list) skip its cost.
// Cached: a require() between a failing call and koffi.errno() would clobber errno.
// Shared by every module that binds a library (libc here, libseccomp in src/seccomp/).
let koffiLoaded: typeof Koffi | undefined;

export const koffiModule = (): typeof Koffi => (koffiLoaded ??= span('ffi: load koffi', loadKoffi));

/**
 * koffi's native addon, required directly from the platform package npm
 * installs beside koffi (@koromix/koffi-linux-x64 and -arm64, glibc builds).
 * koffi's own entry resolves itself through an exports map (which loads
 * Node's ESM resolver), evaluates four modules and reads node's ELF header to
 * tell glibc from musl: about 5 ms of every command that calls libc. Its
 * exports are the addon's, plus deprecated aliases tsrunc does not use.
 * Anywhere else (musl, another layout) koffi's entry loads it as before.
 */
function loadKoffi(): typeof Koffi {
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    try {
      const pkg = require.resolve(`@koromix/koffi-linux-${process.arch}/package.json`);
      return require(`${pkg.slice(0, -'package.json'.length)}linux_${process.arch}/koffi.node`) as typeof Koffi;
    } catch {
      /* not there, or not loadable here: koffi knows */
    }
  }
  return require(koffiEntry()) as typeof Koffi;
}

/**
 * koffi's CommonJS entry, by its path: `require('koffi')` reads the package's
 * "exports" map, which loads Node's ESM resolver (0.6 MB more peak memory).
 * Found where Node looks (node_modules of this file's folder and each one
 * above); the bare name where it is not.
 */
function koffiEntry(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'node_modules', 'koffi');
    try {
      const { exports } = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { exports?: { '.'?: { require?: string } } };
      const entry = exports?.['.']?.require;
      if (entry) return path.join(pkg, entry);
    } catch {
      /* not here */
    }
    if (path.dirname(dir) === dir) return 'koffi';
  }
}

/**
 * The libc functions tsrunc calls, by C prototype. Each is bound on its first
 * use: binding all of them cost about 1.5 ms of every command that calls one.
 */
const SIGNATURES = {
  // processes
  fork: 'int fork()',
  _exit: 'void _exit(int status)',
  execve: 'int execve(const char *path, const char **argv, const char **envp)',
  waitpid: 'int waitpid(int pid, _Out_ int *status, int options)',
  kill: 'int kill(int pid, int sig)',
  getpid: 'int getpid()',
  setsid: 'int setsid()',
  // a helper program (spawn.ts): posix_spawn_file_actions_t is an opaque buffer
  posix_spawnp: 'int posix_spawnp(_Out_ int *pid, const char *file, void *actions, const void *attr, const char **argv, const char **envp)',
  posix_spawn_file_actions_init: 'int posix_spawn_file_actions_init(void *actions)',
  posix_spawn_file_actions_destroy: 'int posix_spawn_file_actions_destroy(void *actions)',
  posix_spawn_file_actions_adddup2: 'int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)',
  posix_spawn_file_actions_addopen: 'int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int oflag, uint32_t mode)',
  posix_spawn_file_actions_addclosefrom_np: 'int posix_spawn_file_actions_addclosefrom_np(void *actions, int from)',
  prctl: 'int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)',
  madvise: 'int madvise(uintptr_t addr, size_t len, int advice)',
  malloc_trim: 'int malloc_trim(size_t pad)',
  signal: 'uintptr_t signal(int sig, uintptr_t handler)',
  sigprocmask: 'int sigprocmask(int how, const void *set, void *oldset)',
  sigaction: 'int sigaction(int sig, const void *act, void *oldact)',
  sigwaitinfo: 'int sigwaitinfo(const void *set, void *info)',
  clearenv: 'int clearenv()',
  // raw memory of this process by address (its argv and environment areas)
  memset: 'void *memset(uintptr_t s, int c, size_t n)',
  memcpy: 'void *memcpy(uintptr_t dst, const void *src, size_t n)',
  // namespaces and mounts
  unshare: 'int unshare(int flags)',
  setns: 'int setns(int fd, int nstype)',
  mount: 'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
  umount2: 'int umount2(const char *target, int flags)',
  pivot_root: 'int pivot_root(const char *new_root, const char *put_old)',
  chroot: 'int chroot(const char *path)',
  fchdir: 'int fchdir(int fd)',
  sethostname: 'int sethostname(const char *name, size_t len)',
  setdomainname: 'int setdomainname(const char *name, size_t len)',
  syscall6: 'long syscall(long nr, long a1, long a2, long a3, long a4, long a5)',
  // identity
  setresuid: 'int setresuid(uint32_t r, uint32_t e, uint32_t s)',
  setresgid: 'int setresgid(uint32_t r, uint32_t e, uint32_t s)',
  setgroups: 'int setgroups(size_t n, const uint32_t *list)',
  umask: 'uint32_t umask(uint32_t mask)',
  capget: 'int capget(void *hdr, void *data)',
  capset: 'int capset(void *hdr, const void *data)',
  prlimit: 'int prlimit(int pid, int resource, const void *newlim, void *oldlim)',
  // files and descriptors
  open: 'int open(const char *path, int flags, uint32_t mode)',
  openat: 'int openat(int dirfd, const char *path, int flags, uint32_t mode)',
  close: 'int close(int fd)',
  dup3: 'int dup3(int oldfd, int newfd, int flags)',
  fcntl: 'int fcntl(int fd, int cmd, long arg)',
  close_range: 'int close_range(uint32_t first, uint32_t last, int flags)',
  read: 'long read(int fd, _Out_ void *buf, size_t n)',
  write: 'long write(int fd, const void *buf, size_t n)',
  poll: 'int poll(void *fds, uint64_t nfds, int timeout)',
  ioctlPtr: 'int ioctl(int fd, unsigned long req, void *arg)',
  ioctlInt: 'int ioctl(int fd, unsigned long req, long arg)',
  ptsname_r: 'int ptsname_r(int fd, _Out_ char *buf, size_t len)',
  mkfifo: 'int mkfifo(const char *path, uint32_t mode)',
  personality: 'int personality(unsigned long persona)',
  sched_setaffinity: 'int sched_setaffinity(int pid, size_t size, const void *mask)',
  pipe2: 'int pipe2(_Out_ int *fds, int flags)',
  socketpair: 'int socketpair(int domain, int type, int protocol, _Out_ int *sv)',
  socket: 'int socket(int domain, int type, int protocol)',
  connect: 'int connect(int fd, const void *addr, uint32_t len)',
  bind: 'int bind(int fd, const void *addr, uint32_t len)',
  getsockname: 'int getsockname(int fd, _Out_ uint8_t *addr, _Inout_ uint32_t *len)',
  setsockopt: 'int setsockopt(int fd, int level, int name, const void *value, uint32_t len)',
  sendto: 'long sendto(int fd, const void *buf, size_t n, int flags, const void *addr, uint32_t addrlen)',
  recvfrom: 'long recvfrom(int fd, _Out_ uint8_t *buf, size_t n, int flags, _Out_ uint8_t *addr, _Inout_ uint32_t *addrlen)',
  sendmsg: 'long sendmsg(int fd, const msghdr *msg, int flags)',
  recvmsg: 'long recvmsg(int fd, _Inout_ msghdr *msg, int flags)',
  strerror: 'const char *strerror(int errnum)',
  // by-fd path resolution and the new mount API (src/linux/inroot.ts). syscall(2) is
  // declared once per argument shape; int arguments are passed as long (the kernel truncates).
  mkdirat: 'int mkdirat(int dirfd, const char *path, uint32_t mode)',
  readlinkat: 'long readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)',
  symlinkat: 'int symlinkat(const char *target, int dirfd, const char *path)',
  unlinkat: 'int unlinkat(int dirfd, const char *path, int flags)',
  mknodat: 'int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)',
  fchownat: 'int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)',
  fchmodat: 'int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)',
  fstatfs: 'int fstatfs(int fd, _Out_ uint8_t *buf)',
  statx: 'int statx(int dirfd, const char *path, int flags, uint32_t mask, _Out_ uint8_t *buf)',
  syscallPath: 'long syscall(long nr, long dirfd, const char *path, long a3, long a4, long a5)',
  syscallPathBuf: 'long syscall(long nr, long dirfd, const char *path, long a3, const uint8_t *buf, size_t size)',
  syscallOpenat2: 'long syscall(long nr, long dirfd, const char *path, const uint8_t *how, size_t size)',
  syscallMoveMount: 'long syscall(long nr, long fromfd, const char *from, long tofd, const char *to, long flags)',
  syscallClone3: 'long syscall(long nr, const uint8_t *args, size_t size)',
};

/** A bound libc function: call it with JS values, it returns libc's result. */
type Fn = ReturnType<Koffi.LibraryHandle['func']>;

export type Libc = Record<keyof typeof SIGNATURES, Fn>;

function declare(): Libc {
  const lib = koffiModule().load('libc.so.6');
  koffiModule().struct('iovec', { iov_base: 'void *', iov_len: 'size_t' });
  koffiModule().struct('msghdr', {
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: 'iovec *',
    msg_iovlen: 'size_t',
    msg_control: 'void *',
    msg_controllen: 'size_t',
    msg_flags: 'int',
  });
  const out = {} as Libc;
  for (const name of Object.keys(SIGNATURES) as (keyof typeof SIGNATURES)[]) {
    Object.defineProperty(out, name, {
      configurable: true,
      enumerable: true,
      get() {
        const fn = lib.func(SIGNATURES[name]);
        Object.defineProperty(out, name, { value: fn, enumerable: true });
        return fn;
      },
    });
  }
  return out;
}

let libc: Libc | undefined;

export function lib(): Libc {
  if (!libc) libc = span('ffi: bind libc', declare);
  return libc;
}

export function errno(): number {
  return koffiModule().errno();
}
