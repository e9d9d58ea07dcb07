// Resolves paths inside a container's root filesystem by file descriptor, the
// way the container will see them: absolute symlinks start again at the root,
// ".." never climbs above it. Every function returns an fd: a mount, mknod or
// chdir then goes through that fd, never through a path string that a racing
// container could have changed since it was checked (CVE-2021-30465 class).
//
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) does it in the kernel where
// it exists. Elsewhere (ENOSYS before Linux 5.6, or refused by a seccomp
// profile) a walk does it one component at a time, always with O_NOFOLLOW and
// from a directory fd it holds:
//   - a symlink's text is read (readlinkat) and resolved as a path in the
//     root, never followed by the kernel, so no link, magic or not, can lead
//     out; a symlink on procfs whose text is absolute or names a pseudo-file
//     ("pipe:[…]") is a magic link: refused with ELOOP like openat2 does
//     (/proc/self, /proc/mounts… are followed as text, as openat2 does);
//   - ".." returns to the directory fd the walk came from, at the root it stays;
//   - more than MAXSYMLINKS (40) links is ELOOP, as in the kernel.
// What the walk does not guarantee: a directory it holds that someone moves
// out of the root (only possible for whoever sees both sides, i.e. the host,
// which is trusted) takes the walk along. openat2 detects that with EAGAIN,
// but it also says EAGAIN for any rename anywhere on the machine during a
// lookup with "..": after OPENAT2_TRIES of those the walk is used. A mount
// made on a component by someone else between two steps is crossed, as the
// kernel would.
//
// Errors: a SyscallError whose `call` is the function's name, whose message
// names the root's path, the path and, for the walk, the component; `code`
// and `errno` are the kernel's. Errno 11 (EAGAIN, "kept racing") has the
// code "EWOULDBLOCK" (errors.ts's table): test `errno`.
//
// Synchronous only: runs in the forked container init.
import * as fs from 'fs';
import * as sys from './sys';
import * as C from './constants';

const ENOENT = 2;
const EAGAIN = 11;
const EEXIST = 17;
const ENOTDIR = 20;
const EISDIR = 21;
const EINVAL = 22;
const ELOOP = 40;

const RESOLVE = C.RESOLVE_IN_ROOT | C.RESOLVE_NO_MAGICLINKS;
/** Retries of a step of the walk that another process changed under us. */
const RACE_RETRIES = 64;
const OPENAT2_TRIES = 16;
const WALK_DIR = C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC;
const WALK_ANY = C.O_PATH | C.O_NOFOLLOW | C.O_CLOEXEC;

let openat2Works: boolean | undefined;
let fallbackForced = false;

/** Tests: resolve with the walk even where openat2 works. */
export function forceFallback(on: boolean): void {
  fallbackForced = on;
}

/** Does resolution use openat2 (probed once, then cached; forked children inherit the answer)? */
export function usesOpenat2(): boolean {
  if (fallbackForced) return false;
  if (openat2Works === undefined) {
    const fd = sys.tryOpenat2(C.AT_FDCWD, '/', C.O_PATH | C.O_CLOEXEC, 0, RESOLVE);
    if (fd >= 0) sys.close(fd);
    // ENOSYS: before 5.6; E2BIG/EINVAL: struct or RESOLVE_* bits unknown; EPERM: a seccomp profile
    else if (![38, 7, 22, 1].includes(-fd)) sys.throwErrno('openat2', ['AT_FDCWD', '/', 'O_PATH', 'RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS'], -fd);
    openat2Works = fd >= 0;
  }
  return openat2Works;
}

/** The magic-link path of an fd, for calls that take only paths (mount(2)): the host's /proc before pivot_root. */
export const fdLink = (fd: number): string => `/proc/self/fd/${fd}`;

/**
 * The path an fd was opened at, from the host's /proc/self/fd: for error
 * messages and test verification only, never to be opened again (the path can
 * have changed since; the fd is what was resolved).
 */
export function fdPath(fd: number): string {
  return fs.readlinkSync(`/proc/self/fd/${fd}`);
}

function describeFd(fd: number): string {
  try {
    return fdPath(fd);
  } catch {
    return `fd ${fd}`;
  }
}

/** The error every function here throws: a SyscallError named after the function, with the root's path and `path`. */
function fail(fn: string, rootFd: number, path: string, e: number, at?: string): never {
  sys.throwErrno(fn, [describeFd(rootFd), path], e, at === undefined ? '' : ` (at ${JSON.stringify(at)})`);
}

const enum Final {
  /** open the last component with the caller's flags; nothing is created */
  Open,
  /** the last component is a directory; create missing ones */
  Dir,
  /** the last component is a non-directory; create missing parents as directories, a missing file as an empty one */
  File,
}

/**
 * Opens `path` resolved inside the root `rootFd` refers to ("/", "" and "."
 * are the root; a leading "/" is allowed). `flags` are open(2) flags, O_CLOEXEC
 * is always added; O_CREAT is refused (EINVAL): use createFileInRoot or
 * mkdirAllInRoot. O_NOFOLLOW applies to the last component only, as in open(2);
 * with O_PATH it yields an fd of the link itself.
 *
 * Throws a SyscallError whose `call` is "openInRoot" and whose code is the
 * kernel's: ENOENT (missing), ENOTDIR (a non-directory used as one), ELOOP
 * (more than 40 links, a magic link, or a link as last component with
 * O_NOFOLLOW without O_PATH), EAGAIN (kept racing), EINVAL (O_CREAT, a NUL), EACCES…
 */
export function openInRoot(rootFd: number, path: string, flags: number): number {
  if (flags & C.O_CREAT || path.includes('\0')) fail('openInRoot', rootFd, path, EINVAL);
  if (usesOpenat2()) {
    const fd = tryOpenat2InRoot(rootFd, path, flags | C.O_CLOEXEC);
    if (fd >= 0) return fd;
    if (fd !== -EAGAIN) fail('openInRoot', rootFd, path, -fd);
  }
  return walk('openInRoot', rootFd, path, Final.Open, flags, 0);
}

/**
 * openat2 in the root: the fd or -errno. -EAGAIN when every try met a rename
 * or mount: with a ".." in the path the kernel refuses when any rename
 * happened anywhere on the machine during the lookup (about half of the
 * lookups through 40 links on a busy host): the caller walks instead.
 */
function tryOpenat2InRoot(rootFd: number, path: string, flags: number): number {
  let fd = -EAGAIN;
  for (let tries = 0; fd === -EAGAIN && tries < OPENAT2_TRIES; tries++) fd = sys.tryOpenat2(rootFd, path === '' ? '.' : path, flags, 0, RESOLVE);
  return fd;
}

/**
 * Creates the directories of `path` that are missing (mode `mode`, less the
 * umask), each with mkdirat on the fd of its resolved parent, and returns an
 * O_PATH fd of the final directory. Missing components reached through a
 * dangling symlink are created where the link leads inside the root. A
 * concurrent creation (EEXIST) is fine: the component is resolved again.
 *
 * Throws a SyscallError with `call` "mkdirAllInRoot": ENOTDIR when a
 * component (the last included) exists and is not a directory, ELOOP, EAGAIN
 * (kept racing), EACCES/EROFS… from mkdirat.
 */
export function mkdirAllInRoot(rootFd: number, path: string, mode = 0o755): number {
  if (path.includes('\0')) fail('mkdirAllInRoot', rootFd, path, EINVAL);
  if (usesOpenat2()) {
    // the common case, a destination that exists, in one call
    const fd = tryOpenat2InRoot(rootFd, path, WALK_DIR & ~C.O_NOFOLLOW);
    if (fd >= 0) return fd;
    if (fd !== -ENOENT && fd !== -EAGAIN) fail('mkdirAllInRoot', rootFd, path, -fd);
  }
  return walk('mkdirAllInRoot', rootFd, path, Final.Dir, 0, mode);
}

/**
 * The mount point of a file bind mount: resolves `path` in the root, creating
 * missing parent directories (mode `dirMode`) and, when the last component is
 * missing, an empty regular file (mode `mode`; mknodat, so nothing that
 * already exists is ever opened for writing: a FIFO or device stays closed).
 * Returns an O_PATH fd of what is there: an existing non-directory is
 * accepted as it is.
 *
 * Throws a SyscallError with `call` "createFileInRoot": EISDIR when the path
 * is a directory, ENOTDIR when a parent is not one, ELOOP, EAGAIN, EACCES…
 */
export function createFileInRoot(rootFd: number, path: string, mode = 0o644, dirMode = 0o755): number {
  if (path.includes('\0')) fail('createFileInRoot', rootFd, path, EINVAL);
  if (usesOpenat2()) {
    const fd = tryOpenat2InRoot(rootFd, path, C.O_PATH | C.O_CLOEXEC);
    if (fd >= 0) {
      if (sys.tryFileType(fd) !== C.S_IFDIR) return fd;
      sys.close(fd);
      fail('createFileInRoot', rootFd, path, EISDIR);
    }
    if (fd !== -ENOENT && fd !== -EAGAIN) fail('createFileInRoot', rootFd, path, -fd);
  }
  return walk('createFileInRoot', rootFd, path, Final.File, 0, mode, dirMode);
}

/**
 * Pushes the components of `text` on `pending` (a stack: the first component
 * is popped first). A trailing "/" demands a directory: it becomes a final ".".
 */
function pushComponents(pending: string[], text: string): void {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 47 /* / */ && /[^/]/.test(text)) pending.push('.');
  while (end > 0) {
    const slash = text.lastIndexOf('/', end - 1);
    if (slash < end - 1) pending.push(text.slice(slash + 1, end));
    end = slash < 0 ? 0 : slash;
  }
}

/** A symlink on procfs is a magic link when its text is not a plain relative path (self -> "1234", mounts -> "self/mounts"). */
function isMagicText(text: string): boolean {
  return text.charCodeAt(0) === 47 /* / */ || text.includes(':');
}

/**
 * The fallback resolver (see the top of the file). `stack` holds the fds of
 * the directories below the root the walk is in; ".." pops one. Every fd it
 * opens is closed but the one returned.
 */
function walk(fn: string, rootFd: number, path: string, final: Final, flags: number, mode: number, dirMode = mode): number {
  const pending: string[] = [];
  pushComponents(pending, path);
  const stack: number[] = [];
  let links = 0;
  let races = 0;
  let created = false; // the component being resolved was just created by this walk
  /** The component changed under us: resolve it again, a bounded number of times. */
  const retry = (name: string): void => {
    if (++races > RACE_RETRIES) fail(fn, rootFd, path, EAGAIN, name);
    pending.push(name);
  };
  /** `name` in `dir` did not open as expected: queues its text if it is a symlink. Returns its type (0: gone). */
  const followLink = (dir: number, name: string): number => {
    const fd = sys.tryOpenat(dir, name, WALK_ANY);
    if (fd === -ENOENT) return 0;
    if (fd < 0) fail(fn, rootFd, path, -fd, name);
    try {
      const type = sys.tryFileType(fd);
      if (type !== C.S_IFLNK) return type;
      const text = sys.tryReadlinkat(fd, '');
      if (typeof text === 'number') fail(fn, rootFd, path, -text, name);
      if (++links > C.MAXSYMLINKS) fail(fn, rootFd, path, ELOOP, name);
      if (isMagicText(text) && sys.fstatfsType(fd) === C.PROC_SUPER_MAGIC) fail(fn, rootFd, path, ELOOP, name);
      if (text === '') fail(fn, rootFd, path, ENOENT, name);
      if (text.charCodeAt(0) === 47 /* / */) {
        for (const d of stack) sys.close(d);
        stack.length = 0;
      }
      pushComponents(pending, text);
      return type;
    } finally {
      sys.close(fd);
    }
  };
  /** Not what was expected and no link: the errno `e`, unless it was swapped meanwhile (then again). */
  const notALink = (name: string, type: number, e: number): void => {
    if (type === 0 || type === C.S_IFDIR) retry(name);
    else fail(fn, rootFd, path, e, name);
  };

  try {
    for (;;) {
      const dir = stack.length ? stack[stack.length - 1] : rootFd;
      const name = pending.pop();
      const again = created;
      created = false;
      if (name === undefined) {
        // the path ended on the root, ".", ".." or "/": the directory reached is the result
        if (final === Final.File) fail(fn, rootFd, path, EISDIR);
        if (final === Final.Dir && stack.length) return stack.pop() as number;
        const fd = sys.tryOpenat(dir, '.', final === Final.Dir ? WALK_DIR : flags | C.O_CLOEXEC);
        if (fd < 0) fail(fn, rootFd, path, -fd, '.');
        return fd;
      }
      if (name === '.') continue;
      if (name === '..') {
        if (stack.length) sys.close(stack.pop() as number);
        continue;
      }
      const last = pending.length === 0;

      if (!last || final === Final.Dir) {
        const fd = sys.tryOpenat(dir, name, WALK_DIR);
        if (fd >= 0) {
          stack.push(fd);
          continue;
        }
        if (fd === -ENOENT && final !== Final.Open) {
          if (again && ++races > RACE_RETRIES) fail(fn, rootFd, path, EAGAIN, name); // removed right after we made it
          const r = sys.tryMkdirat(dir, name, final === Final.Dir ? mode : dirMode);
          if (r < 0 && r !== -EEXIST) fail(fn, rootFd, path, -r, name);
          created = true;
          pending.push(name);
          continue;
        }
        if (fd !== -ENOTDIR) fail(fn, rootFd, path, -fd, name);
        const type = followLink(dir, name);
        if (type !== C.S_IFLNK) notALink(name, type, ENOTDIR);
        continue;
      }

      if (final === Final.File) {
        const fd = sys.tryOpenat(dir, name, WALK_ANY);
        if (fd === -ENOENT) {
          if (again && ++races > RACE_RETRIES) fail(fn, rootFd, path, EAGAIN, name);
          const r = sys.tryMknodat(dir, name, C.S_IFREG | mode);
          if (r < 0 && r !== -EEXIST) fail(fn, rootFd, path, -r, name);
          created = true;
          pending.push(name);
          continue;
        }
        if (fd < 0) fail(fn, rootFd, path, -fd, name);
        const type = sys.tryFileType(fd);
        if (type !== C.S_IFLNK && type !== C.S_IFDIR) return fd;
        sys.close(fd);
        if (type === C.S_IFDIR) fail(fn, rootFd, path, EISDIR, name);
        if (followLink(dir, name) !== C.S_IFLNK) retry(name);
        continue;
      }

      // Final.Open, the last component
      const fd = sys.tryOpenat(dir, name, flags | C.O_NOFOLLOW | C.O_CLOEXEC);
      if (fd >= 0) {
        // without O_PATH (or with O_DIRECTORY), O_NOFOLLOW made a link fail: this is no link
        if (!(flags & C.O_PATH) || flags & (C.O_NOFOLLOW | C.O_DIRECTORY) || sys.tryFileType(fd) !== C.S_IFLNK) return fd;
        sys.close(fd);
        if (followLink(dir, name) !== C.S_IFLNK) retry(name);
        continue;
      }
      if ((fd !== -ELOOP && fd !== -ENOTDIR) || flags & C.O_NOFOLLOW) fail(fn, rootFd, path, -fd, name);
      const type = followLink(dir, name);
      if (type !== C.S_IFLNK) notALink(name, type, -fd);
    }
  } finally {
    for (const d of stack) sys.close(d);
  }
}

/** Same inode (dev:ino) of two statx results? */
function sameFile(a: sys.Statx, b: sys.Statx): boolean {
  return a.ino === b.ino && a.devMajor === b.devMajor && a.devMinor === b.devMinor;
}

/**
 * Verification: is what `fd` refers to inside the tree of `rootFd`? Climbs
 * ".." from it (for a non-directory: from the directory its /proc/self/fd
 * path names, checked to hold that very inode) until it meets the root's
 * dev:ino (true) or the top of the process's filesystem (false). Not
 * race-free against renames during the climb: for checks and tests, not for
 * deciding what to open.
 */
export function isWithin(rootFd: number, fd: number): boolean {
  const root = sys.fstatx(rootFd);
  const st = sys.fstatx(fd);
  if (sameFile(st, root)) return true;
  let cur: number;
  if ((st.mode & C.S_IFMT) === C.S_IFDIR) {
    cur = sys.openat(fd, '.', WALK_DIR);
  } else {
    const p = fdPath(fd);
    const slash = p.lastIndexOf('/');
    if (!p.startsWith('/') || slash < 0) return false; // a pseudo-file or deleted
    cur = sys.openat(C.AT_FDCWD, p.slice(0, slash) || '/', WALK_DIR);
    const entry = sys.tryOpenat(cur, p.slice(slash + 1), WALK_ANY);
    const same = entry >= 0 && sameFile(sys.fstatx(entry), st);
    if (entry >= 0) sys.close(entry);
    if (!same) {
      sys.close(cur);
      return false;
    }
  }
  try {
    for (let depth = 0; depth < 4096; depth++) {
      const here = sys.fstatx(cur);
      if (sameFile(here, root)) return true;
      const up = sys.openat(cur, '..', WALK_DIR);
      sys.close(cur);
      cur = up;
      if (sameFile(sys.fstatx(cur), here)) return false; // ".." of "/" is itself
    }
    return false;
  } finally {
    sys.close(cur);
  }
}
