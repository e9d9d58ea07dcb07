// koffi bindings to libc. Loaded lazily, once: commands that never touch the
// kernel directly (spec, list of an empty root) do not pay for it.
//
// Conventions: every binding returns the raw libc result; `sys.ts` wraps the
// ones that can fail and turns -1/errno into a SyscallError.
import type * as Koffi from 'koffi';
import * as fs from 'fs';
import * as path from 'path';

// koffi is loaded on first use: commands that never call into libc (state, list) skip its cost.
// Cached: a require() between a failing call and koffi.errno() would clobber errno.
// Shared by every module that binds a library (libc here, libseccomp in src/seccomp/).
let koffiLoaded: typeof Koffi | undefined;

export const koffiModule = (): typeof Koffi => (koffiLoaded ??= require(koffiEntry()) as typeof Koffi);

/**
 * koffi's CommonJS entry, by its path. `require('koffi')` reads the package's
 * "exports" map, which loads Node's ESM resolver: 0.6 MB more peak memory in
 * every command that calls libc. Found where Node looks (node_modules of this
 * file's folder and each one above); the bare name where it is not.
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

function declare() {
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
  const f = (sig: string) => lib.func(sig);
  return {
    // processes
    fork: f('int fork()'),
    _exit: f('void _exit(int status)'),
    execve: f('int execve(const char *path, const char **argv, const char **envp)'),
    waitpid: f('int waitpid(int pid, _Out_ int *status, int options)'),
    kill: f('int kill(int pid, int sig)'),
    getpid: f('int getpid()'),
    setsid: f('int setsid()'),
    prctl: f('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)'),
    madvise: f('int madvise(uintptr_t addr, size_t len, int advice)'),
    malloc_trim: f('int malloc_trim(size_t pad)'),
    signal: f('uintptr_t signal(int sig, uintptr_t handler)'),
    sigprocmask: f('int sigprocmask(int how, const void *set, void *oldset)'),
    sigaction: f('int sigaction(int sig, const void *act, void *oldact)'),
    sigwaitinfo: f('int sigwaitinfo(const void *set, void *info)'),
    clearenv: f('int clearenv()'),
    // raw memory of this process by address (its argv and environment areas)
    memset: f('void *memset(uintptr_t s, int c, size_t n)'),
    memcpy: f('void *memcpy(uintptr_t dst, const void *src, size_t n)'),
    // namespaces and mounts
    unshare: f('int unshare(int flags)'),
    setns: f('int setns(int fd, int nstype)'),
    mount: f('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: f('int umount2(const char *target, int flags)'),
    pivot_root: f('int pivot_root(const char *new_root, const char *put_old)'),
    chroot: f('int chroot(const char *path)'),
    fchdir: f('int fchdir(int fd)'),
    sethostname: f('int sethostname(const char *name, size_t len)'),
    setdomainname: f('int setdomainname(const char *name, size_t len)'),
    syscall6: f('long syscall(long nr, long a1, long a2, long a3, long a4, long a5)'),
    // identity
    setresuid: f('int setresuid(uint32_t r, uint32_t e, uint32_t s)'),
    setresgid: f('int setresgid(uint32_t r, uint32_t e, uint32_t s)'),
    setgroups: f('int setgroups(size_t n, const uint32_t *list)'),
    umask: f('uint32_t umask(uint32_t mask)'),
    capget: f('int capget(void *hdr, void *data)'),
    capset: f('int capset(void *hdr, const void *data)'),
    prlimit: f('int prlimit(int pid, int resource, const void *newlim, void *oldlim)'),
    // files and descriptors
    open: f('int open(const char *path, int flags, uint32_t mode)'),
    openat: f('int openat(int dirfd, const char *path, int flags, uint32_t mode)'),
    close: f('int close(int fd)'),
    dup3: f('int dup3(int oldfd, int newfd, int flags)'),
    fcntl: f('int fcntl(int fd, int cmd, long arg)'),
    close_range: f('int close_range(uint32_t first, uint32_t last, int flags)'),
    read: f('long read(int fd, _Out_ void *buf, size_t n)'),
    write: f('long write(int fd, const void *buf, size_t n)'),
    poll: f('int poll(void *fds, uint64_t nfds, int timeout)'),
    ioctlPtr: f('int ioctl(int fd, unsigned long req, void *arg)'),
    ioctlInt: f('int ioctl(int fd, unsigned long req, long arg)'),
    ptsname_r: f('int ptsname_r(int fd, _Out_ char *buf, size_t len)'),
    mkfifo: f('int mkfifo(const char *path, uint32_t mode)'),
    personality: f('int personality(unsigned long persona)'),
    sched_setaffinity: f('int sched_setaffinity(int pid, size_t size, const void *mask)'),
    pipe2: f('int pipe2(_Out_ int *fds, int flags)'),
    socketpair: f('int socketpair(int domain, int type, int protocol, _Out_ int *sv)'),
    socket: f('int socket(int domain, int type, int protocol)'),
    connect: f('int connect(int fd, const void *addr, uint32_t len)'),
    bind: f('int bind(int fd, const void *addr, uint32_t len)'),
    getsockname: f('int getsockname(int fd, _Out_ uint8_t *addr, _Inout_ uint32_t *len)'),
    setsockopt: f('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    sendto: f('long sendto(int fd, const void *buf, size_t n, int flags, const void *addr, uint32_t addrlen)'),
    recvfrom: f('long recvfrom(int fd, _Out_ uint8_t *buf, size_t n, int flags, _Out_ uint8_t *addr, _Inout_ uint32_t *addrlen)'),
    sendmsg: f('long sendmsg(int fd, const msghdr *msg, int flags)'),
    recvmsg: f('long recvmsg(int fd, _Inout_ msghdr *msg, int flags)'),
    strerror: f('const char *strerror(int errnum)'),
    // by-fd path resolution and the new mount API (src/linux/inroot.ts). syscall(2) is
    // declared once per argument shape; int arguments are passed as long (the kernel truncates).
    mkdirat: f('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
    readlinkat: f('long readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)'),
    symlinkat: f('int symlinkat(const char *target, int dirfd, const char *path)'),
    unlinkat: f('int unlinkat(int dirfd, const char *path, int flags)'),
    mknodat: f('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)'),
    fchownat: f('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)'),
    fchmodat: f('int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)'),
    fstatfs: f('int fstatfs(int fd, _Out_ uint8_t *buf)'),
    statx: f('int statx(int dirfd, const char *path, int flags, uint32_t mask, _Out_ uint8_t *buf)'),
    syscallPath: f('long syscall(long nr, long dirfd, const char *path, long a3, long a4, long a5)'),
    syscallPathBuf: f('long syscall(long nr, long dirfd, const char *path, long a3, const uint8_t *buf, size_t size)'),
    syscallOpenat2: f('long syscall(long nr, long dirfd, const char *path, const uint8_t *how, size_t size)'),
    syscallMoveMount: f('long syscall(long nr, long fromfd, const char *from, long tofd, const char *to, long flags)'),
  };
}

export type Libc = ReturnType<typeof declare>;

let libc: Libc | undefined;

export function lib(): Libc {
  if (!libc) libc = declare();
  return libc;
}

export function errno(): number {
  return koffiModule().errno();
}
