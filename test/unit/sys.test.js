'use strict';
// The typed libc wrappers: a failing call reports its own errno (nothing may
// run between the call and reading errno: once a require() there clobbered it).
// The by-fd bindings that src/linux/inroot.ts and the mount code build
// on: each does what its call does on this kernel, works on O_PATH fds where
// the doc says so, and fails with the call's errno.
const { test } = require('uvu');
const assert = require('uvu/assert');
const sys = require('../../dist/linux/sys');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const C = require('../../dist/linux/constants');
const { skip } = require('../lib/skip');

const umask = sys.umask(0o022);
sys.umask(umask);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-sysfd-'));
const opened = [];
function open(p, flags) {
  const fd = sys.openat(C.AT_FDCWD, p, flags | C.O_CLOEXEC);
  opened.push(fd);
  return fd;
}

function codeOf(fn) {
  try {
    fn();
  } catch (e) {
    return e.code;
  }
  return 'no error';
}

test('kill of a missing pid is ESRCH', () => {
  assert.is(codeOf(() => sys.kill(2 ** 22 + 12345, 0)), 'ESRCH');
});

test('kill (through Node\'s binding) names the call, its arguments and the system\'s message; processExists', () => {
  const pid = 2 ** 22 + 12345;
  try {
    sys.kill(pid, 9);
    assert.unreachable();
  } catch (e) {
    assert.is(e.name, 'SyscallError');
    assert.is(e.message, `kill(${pid}, 9): No such process`);
    assert.is(e.errno, 3);
  }
  assert.ok(sys.processExists(process.pid));
  assert.ok(sys.processExists(1));
  assert.not.ok(sys.processExists(pid));
});

test('open of a missing path is ENOENT, of a directory for writing EISDIR', () => {
  assert.is(codeOf(() => sys.open('/nonexistent-tsrunc/x', 0)), 'ENOENT');
  assert.is(codeOf(() => sys.open('/', 1)), 'EISDIR');
});

test('the message names the call and its arguments', () => {
  try {
    sys.umount2('/nonexistent-tsrunc', 0);
    assert.unreachable();
  } catch (e) {
    assert.match(e.message, /^umount2\("\/nonexistent-tsrunc", 0\): /);
    assert.is(e.code, 'ENOENT');
  }
});

fs.mkdirSync(path.join(tmp, 'root/etc'), { recursive: true });
fs.writeFileSync(path.join(tmp, 'root/etc/hosts'), 'in root\n');
fs.symlinkSync('/etc', path.join(tmp, 'root/abs-etc'));

test('openat2: RESOLVE_IN_ROOT reads an absolute link from the root, RESOLVE_NO_SYMLINKS refuses it', () => {
  const root = open(path.join(tmp, 'root'), C.O_PATH | C.O_DIRECTORY);
  if (sys.tryOpenat2(root, '.', C.O_PATH, 0, 0) === -38) return skip('openat2: ENOSYS on this kernel');
  const fd = sys.openat2(root, 'abs-etc/hosts', C.O_RDONLY | C.O_CLOEXEC, 0, C.RESOLVE_IN_ROOT);
  opened.push(fd);
  assert.is(fs.readFileSync(fd, 'utf8'), 'in root\n');
  assert.is(sys.tryOpenat2(root, 'abs-etc/hosts', C.O_PATH, 0, C.RESOLVE_NO_SYMLINKS), -40);
  assert.is(sys.tryOpenat2(root, '../../..', C.O_PATH, 0, C.RESOLVE_BENEATH), -18); // EXDEV
  try {
    sys.openat2(root, 'missing', C.O_PATH, 0, C.RESOLVE_IN_ROOT);
    assert.unreachable();
  } catch (e) {
    assert.is(e.code, 'ENOENT');
    assert.match(e.message, /^openat2\(\d+, "missing", "0o\d+", "0x10"\): No such file/);
  }
});

test('statx by fd: type, inode and mount id as in /proc/self/mountinfo; mountRoot on a mount root only', () => {
  const proc = open('/proc', C.O_PATH);
  const st = sys.fstatx(proc);
  assert.is(st.mode & C.S_IFMT, C.S_IFDIR);
  assert.is(st.ino, BigInt(fs.statSync('/proc').ino));
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const procLine = mountinfo.find((l) => l.split(' ')[4] === '/proc');
  if (st.mntId === undefined) return skip('statx: no STATX_MNT_ID on this kernel');
  assert.is(String(st.mntId), procLine.split(' ')[0]);
  assert.is(st.mountRoot, true);
  const etc = open(path.join(tmp, 'root/etc'), C.O_PATH);
  assert.is(sys.fstatx(etc).mountRoot, false);
  const link = open(path.join(tmp, 'root/abs-etc'), C.O_PATH | C.O_NOFOLLOW);
  assert.is(sys.fstatx(link).mode & C.S_IFMT, C.S_IFLNK, 'AT_SYMLINK_NOFOLLOW: the link itself');
  assert.is(sys.tryFileType(link), C.S_IFLNK);
  assert.is(codeOf(() => sys.statx(C.AT_FDCWD, '/nonexistent-tsrunc', 0)), 'ENOENT');
});

test('fstatfsType: procfs, sysfs, tmpfs are told apart on O_PATH fds (a symlink\'s too)', () => {
  assert.is(sys.fstatfsType(open('/proc', C.O_PATH)), C.PROC_SUPER_MAGIC);
  assert.is(sys.fstatfsType(open('/proc/self/exe', C.O_PATH | C.O_NOFOLLOW)), C.PROC_SUPER_MAGIC);
  assert.is(sys.fstatfsType(open('/sys', C.O_PATH)), C.SYSFS_MAGIC);
  if (fs.existsSync('/dev/shm')) assert.is(sys.fstatfsType(open('/dev/shm', C.O_PATH)), C.TMPFS_MAGIC);
  assert.is(codeOf(() => sys.fstatfsType(999999)), 'EBADF');
});

test('mkdirat, mknodat, symlinkat, readlinkat, fchownat on an O_PATH directory fd', () => {
  const dir = open(tmp, C.O_PATH | C.O_DIRECTORY);
  sys.mkdirat(dir, 'made', 0o700);
  assert.is(fs.statSync(path.join(tmp, 'made')).mode & 0o777, 0o700 & ~umask);
  assert.is(codeOf(() => sys.mkdirat(dir, 'made', 0o700)), 'EEXIST');
  assert.is(sys.tryMkdirat(dir, 'made', 0o700), -17);
  sys.mknodat(dir, 'file', C.S_IFREG | 0o600);
  assert.ok(fs.lstatSync(path.join(tmp, 'file')).isFile());
  sys.mknodat(dir, 'null', C.S_IFCHR | 0o666, 1, 3);
  const rdev = fs.statSync(path.join(tmp, 'null')).rdev;
  assert.is(rdev, fs.statSync('/dev/null').rdev);
  assert.is(sys.tryMknodat(dir, 'file', C.S_IFREG), -17);
  sys.symlinkat('/some/where', dir, 'link');
  assert.is(sys.readlinkat(dir, 'link'), '/some/where');
  const link = open(path.join(tmp, 'link'), C.O_PATH | C.O_NOFOLLOW);
  assert.is(sys.readlinkat(link, ''), '/some/where', 'an O_PATH fd of the link, empty path');
  assert.is(sys.tryReadlinkat(dir, 'made'), -22);
  sys.fchownat(link, '', 123, 456, C.AT_EMPTY_PATH);
  const st = fs.lstatSync(path.join(tmp, 'link'));
  assert.equal([st.uid, st.gid], [123, 456]);
});

test('fchmodFd changes the mode through an O_PATH fd (fchmod itself refuses it)', () => {
  const p = path.join(tmp, 'chmod-me');
  fs.writeFileSync(p, '');
  const fd = open(p, C.O_PATH);
  assert.throws(() => fs.fchmodSync(fd, 0o600), /EBADF/);
  sys.fchmodFd(fd, 0o640);
  assert.is(fs.statSync(p).mode & 0o777, 0o640);
  assert.is(codeOf(() => sys.fchmodFd(999999, 0o600)), 'EBADF');
});

/**
 * Runs `fn(dist, ...args)` in a child node process whose mount namespace is
 * its own (uvu runs every unit test file in one process: mounts stay out of
 * it). `fn` asserts with node's assert; returns the child's result.
 */
function inMountNamespace(fn, ...args) {
  const dist = path.join(__dirname, '../../dist');
  const src = `const sys = require(${JSON.stringify(dist + '/linux/sys')});
    const C = require(${JSON.stringify(dist + '/linux/constants')});
    sys.unshare(C.CLONE_NEWNS);
    sys.mount(null, '/', null, C.MS_REC | C.MS_PRIVATE, null);
    (${fn.toString()})(${JSON.stringify(dist)}, ...${JSON.stringify(args)});`;
  return spawnSync(process.execPath, ['-e', src], { encoding: 'utf8' });
}

test('open_tree, move_mount and mount_setattr on fds (in a private mount namespace)', () => {
  const r = inMountNamespace((dist, tmp) => {
    const assert = require('assert');
    const fs = require('fs');
    const sys = require(dist + '/linux/sys');
    const C = require(dist + '/linux/constants');
    const codeOf = (fn) => {
      try {
        fn();
      } catch (e) {
        return e.code;
      }
      return 'no error';
    };
    const src = tmp + '/src';
    const dst = tmp + '/dst';
    fs.mkdirSync(src);
    fs.mkdirSync(dst);
    fs.writeFileSync(src + '/marker', 'src');
    const tree = sys.openTree(C.AT_FDCWD, src, C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC);
    const target = sys.openat(C.AT_FDCWD, dst, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
    sys.mountSetattrFd(tree, true, C.MOUNT_ATTR_RDONLY | C.MOUNT_ATTR_NOSUID, 0);
    sys.moveMount(tree, '', target, '', C.MOVE_MOUNT_F_EMPTY_PATH | C.MOVE_MOUNT_T_EMPTY_PATH);
    assert.strictEqual(fs.readFileSync(dst + '/marker', 'utf8'), 'src');
    assert.throws(() => fs.writeFileSync(dst + '/new', ''), /EROFS/);
    const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === dst);
    assert.ok(line, 'the mount is on dst');
    assert.match(line.split(' ')[5], /^ro,nosuid/);
    const mounted = sys.openat(C.AT_FDCWD, dst, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
    assert.strictEqual(sys.fstatx(mounted).mountRoot, true);
    sys.mountSetattrFd(mounted, false, 0, C.MOUNT_ATTR_RDONLY);
    fs.writeFileSync(dst + '/new', '');
    assert.ok(fs.existsSync(src + '/new'), 'writable again, and it is the bind of src');
    assert.strictEqual(codeOf(() => sys.openTree(C.AT_FDCWD, '/nonexistent-tsrunc', C.OPEN_TREE_CLONE)), 'ENOENT');
    assert.strictEqual(codeOf(() => sys.moveMount(999999, '', target, '', C.MOVE_MOUNT_F_EMPTY_PATH | C.MOVE_MOUNT_T_EMPTY_PATH)), 'EBADF');
    assert.strictEqual(codeOf(() => sys.mountSetattrFd(target, false, C.MOUNT_ATTR_RDONLY, 0)), 'EINVAL'); // not a mount root
  }, tmp);
  assert.is(r.status, 0, r.stderr);
});

test.after(() => {
  for (const fd of opened) sys.close(fd);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
