'use strict';
// Cgroup paths as runc's cgroupfs drivers compute them:
//   v1 (libcontainer/cgroups/fs): inner = CleanPath(cgroupsPath) or the id;
//      absolute -> <mountpoint><inner>; relative -> <mountpoint><own cgroup, relative
//      to the hierarchy's mount root><inner>.
//   v2 (libcontainer/cgroups/fs2 defaultDirPath): absolute -> /sys/fs/cgroup<inner>;
//      relative -> /sys/fs/cgroup/<dirname(own cgroup)>/<inner>.
// utils.CleanPath makes a relative path unable to climb out ("../../x" -> "x")
// and never leaves a trailing slash.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const paths = require('../../dist/cgroups/paths.js');
const { innerPath } = paths;
const { CgroupV1 } = require('../../dist/cgroups/v1.js');
const { CgroupV2 } = require('../../dist/cgroups/v2.js');

test('absolute cgroupsPath is used as given (cleaned), whatever our own cgroup', () => {
  assert.is(innerPath('/foo/bar', 'c1', '/own'), '/foo/bar');
  assert.is(innerPath('/foo/bar', 'c1', undefined), '/foo/bar');
  assert.is(innerPath('/foo//bar/./baz', 'c1', '/own'), '/foo/bar/baz');
  assert.is(innerPath('/foo/../../../bar', 'c1', '/own'), '/bar');
  assert.is(innerPath('/', 'c1', '/own'), '/');
});

test('relative cgroupsPath goes below our own cgroup', () => {
  assert.is(innerPath('foo/bar', 'c1', '/user.slice/x'), '/user.slice/x/foo/bar');
  assert.is(innerPath('foo', 'c1', '/'), '/foo');
  assert.is(innerPath('./foo/./bar', 'c1', '/own'), '/own/foo/bar');
  assert.is(innerPath('foo', 'c1', undefined), '/foo');
});

test('empty or missing cgroupsPath -> the container id under our own cgroup', () => {
  assert.is(innerPath('', 'c1', '/own/cg'), '/own/cg/c1');
  assert.is(innerPath(undefined, 'c1', '/own/cg'), '/own/cg/c1');
  assert.is(innerPath(undefined, 'c1', '/'), '/c1');
  assert.is(innerPath(undefined, 'my.ctr-1', undefined), '/my.ctr-1');
});

// BUG: src/cgroups/paths.ts innerPath joins a relative cgroupsPath with
// path.posix.join, so ".." climbs out of the runtime's own cgroup:
// innerPath('../../x', 'c1', '/a/b') is '/x'. runc's utils.CleanPath turns a
// relative "../../x" into "x" first, giving '/a/b/x'.
test('relative cgroupsPath cannot climb out of our own cgroup (runc CleanPath)', () => {
  assert.is(innerPath('../../x', 'c1', '/a/b'), '/a/b/x');
  assert.is(innerPath('foo/../../../etc', 'c1', '/a/b'), '/a/b/etc');
  assert.is(innerPath('..', 'c1', '/a/b'), '/a/b');
});

// BUG: src/cgroups/paths.ts innerPath keeps a trailing slash
// (path.posix.normalize('/foo/bar/') is '/foo/bar/'); runc's CleanPath
// (filepath.Clean) never returns one, so the saved cgroup paths differ from runc's.
test('no trailing slash in the result', () => {
  assert.is(innerPath('/foo/bar/', 'c1', '/own'), '/foo/bar');
  assert.is(innerPath('foo/', 'c1', '/own'), '/own/foo');
});

test('v1: one path per hierarchy, below its mountpoint and our own cgroup in it', () => {
  const hier = [
    { name: 'memory', mountpoint: '/sys/fs/cgroup/memory' },
    { name: 'cpu,cpuacct', mountpoint: '/sys/fs/cgroup/cpu,cpuacct' },
    { name: 'name=systemd', mountpoint: '/sys/fs/cgroup/systemd' },
  ];
  const own = new Map([['memory', '/m/own'], ['cpu,cpuacct', '/'], ['name=systemd', '/user.slice']]);
  assert.equal(new CgroupV1(hier, own, undefined, 'c1').paths, {
    memory: '/sys/fs/cgroup/memory/m/own/c1',
    'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c1',
    'name=systemd': '/sys/fs/cgroup/systemd/user.slice/c1',
  });
  assert.equal(new CgroupV1(hier, own, '/abs/x', 'c1').paths, {
    memory: '/sys/fs/cgroup/memory/abs/x',
    'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/abs/x',
    'name=systemd': '/sys/fs/cgroup/systemd/abs/x',
  });
  assert.equal(new CgroupV1(hier, own, 'rel/x', 'c1').paths.memory, '/sys/fs/cgroup/memory/m/own/rel/x');
  // a hierarchy missing from /proc/self/cgroup: treated as the root cgroup
  assert.is(new CgroupV1(hier, new Map(), undefined, 'c1').paths.memory, '/sys/fs/cgroup/memory/c1');
});

test('v1: fromPaths keeps the saved paths', () => {
  const saved = { memory: '/sys/fs/cgroup/memory/x', pids: '/sys/fs/cgroup/pids/x' };
  assert.equal(CgroupV1.fromPaths(saved).paths, saved);
});

test('v2: absolute cgroupsPath is below /sys/fs/cgroup', () => {
  const own = new Map([['', '/user.slice/user-1000.slice/session-1.scope']]);
  assert.is(CgroupV2.forContainer(own, '/foo/bar', 'c1').paths[''], '/sys/fs/cgroup/foo/bar');
  assert.is(CgroupV2.forContainer(new Map([['', '/']]), undefined, 'c1').paths[''], '/sys/fs/cgroup/c1');
});

// BUG: src/cgroups/v2.ts CgroupV2.forContainer (line 19) puts a relative or
// empty cgroupsPath below our own cgroup; runc's fs2 defaultDirPath uses the
// *parent* of our own cgroup ("the current user scope most probably has tasks
// in it already, making it impossible to enable controllers for its
// sub-cgroup"): own /user.slice/user-1000.slice/session-1.scope + id c1 ->
// /sys/fs/cgroup/user.slice/user-1000.slice/c1, not .../session-1.scope/c1.
test('v2: relative or empty cgroupsPath is below the parent of our own cgroup, as runc fs2 does', () => {
  const own = new Map([['', '/user.slice/user-1000.slice/session-1.scope']]);
  assert.is(CgroupV2.forContainer(own, undefined, 'c1').paths[''], '/sys/fs/cgroup/user.slice/user-1000.slice/c1');
  assert.is(CgroupV2.forContainer(own, 'foo/bar', 'c1').paths[''], '/sys/fs/cgroup/user.slice/user-1000.slice/foo/bar');
});

test('ownCgroups parses /proc/self/cgroup (v1 names, "" for v2)', () => {
  const own = paths.ownCgroups();
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, name, p] = /^\d+:([^:]*):(.*)$/.exec(line);
    assert.is(own.get(name), p, line);
  }
});

test('isUnifiedHost and v1Hierarchies agree with /proc/self/mountinfo', () => {
  const mi = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const unified = mi.split('\n').some((l) => / - cgroup2 /.test(l) && l.split(' ')[4] === '/sys/fs/cgroup');
  assert.is(paths.isUnifiedHost(), unified);
  const hier = paths.v1Hierarchies();
  const v1Mounts = mi.split('\n').filter((l) => l.includes(' - cgroup '));
  const v2Mounts = mi.split('\n').filter((l) => l.includes(' - cgroup2 '));
  if (!unified) assert.ok(hier.length > 0, 'a v1 host has v1 hierarchies');
  for (const h of hier) {
    // a hybrid host's v2 hierarchy is listed too, named "" (joined as runc does)
    const mounts = h.name === '' ? v2Mounts : v1Mounts;
    assert.ok(mounts.some((l) => l.split(' ')[4] === h.mountpoint), h.mountpoint);
    assert.not.ok(/(^|,)(rw|ro|relatime|nosuid|nodev|noexec|clone_children|xattr)(,|$)/.test(h.name), h.name);
  }
  const names = hier.map((h) => h.name);
  assert.is(new Set(names).size, names.length, 'no hierarchy listed twice');
});

// BUG: src/cgroups/paths.ts v1Hierarchies ignores the mount's root (field 4 of
// mountinfo) and src/cgroups/v1.ts joins the mountpoint with our own cgroup as
// /proc/self/cgroup gives it (relative to the hierarchy's real root). When the
// hierarchy is mounted from a sub-cgroup (Docker-style nested setups: mount
// root /X, own cgroup /X), runc (fs.subsysPath -> GetOwnCgroupPath) makes the
// own cgroup relative to the mount root: <mnt>/c1. tsrunc gives <mnt>/X/c1,
// which is the host cgroup /X/X/c1. (Checked with /usr/sbin/runc 1.1.5 in
// exactly this setup: its container landed in pids:/X/<id>.)
test('v1: own cgroup is taken relative to the hierarchy mount root (nested setup, root only)', () => {
  const base = '/sys/fs/cgroup/pids';
  if (paths.isUnifiedHost() || !fs.existsSync(path.join(base, 'cgroup.procs')) || process.getuid() !== 0) {
    console.log('  (skipped: needs root and a v1 pids hierarchy)');
    return;
  }
  const name = `tsrunc-unit-nested-${process.pid}`;
  const sub = path.join(base, name);
  fs.mkdirSync(sub);
  try {
    const js = `const { cgroupManagerFor } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/cgroups/index.js'))});
      process.stdout.write(cgroupManagerFor(undefined, 'c1', false).paths.pids);`;
    // Replace the hierarchy's mount by one of its sub-cgroup, so that mountinfo
    // shows a single pids mount with root /<name>, as inside a Docker container.
    const tmpMnt = fs.mkdtempSync(path.join(require('os').tmpdir(), 'tsrunc-cg-'));
    const sh = `echo $$ > ${sub}/cgroup.procs && mount --bind ${sub} ${tmpMnt} && umount ${base} && ` +
      `mount --move ${tmpMnt} ${base} && exec "$0" -e "$1"`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', sh, process.execPath, js], { encoding: 'utf8' });
    fs.rmdirSync(tmpMnt);
    if (r.status !== 0) {
      console.log(`  (skipped: unshare/mount failed: ${r.stderr.trim()})`);
      return;
    }
    assert.is(r.stdout, `${base}/c1`);
  } finally {
    for (let i = 0; i < 100; i++) {
      try {
        fs.rmdirSync(sub);
        break;
      } catch {
        spawnSync('sleep', ['0.02']);
      }
    }
  }
});

test.run();
