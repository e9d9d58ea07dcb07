'use strict';
// secureJoin resolves a path inside a rootfs as the container will see it.
// A temporary tree with absolute, relative, escaping, looping and dangling
// symlinks is resolved two ways: by secureJoin, and (when running as root) by
// the kernel itself inside chroot(2) via python's os.path.realpath, which
// follows links component by component like path resolution does.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { secureJoin } = require('../../dist/runtime/init/securejoin.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-securejoin-'));
const root = path.join(tmp, 'rootfs');
const outside = path.join(tmp, 'outside'); // must never be reached

function mk(rel) {
  fs.mkdirSync(path.join(root, rel), { recursive: true });
}
function ln(target, rel) {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.symlinkSync(target, path.join(root, rel));
}

fs.mkdirSync(outside, { recursive: true });
fs.writeFileSync(path.join(outside, 'secret'), 'x');
for (const d of ['etc', 'usr/lib', 'var/lib/data', 'a/b/c', 'real', 'tmp']) mk(d);
fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0::/:/bin/sh\n');
fs.writeFileSync(path.join(root, 'file'), '');
ln('/etc', 'abs-etc'); // absolute: means root/etc
ln('/', 'abs-root');
ln('/../../../..', 'abs-dotdot');
ln('../../../../../../../..', 'rel-escape'); // relative climb far above root
ln('../../..', 'a/b/c/up3'); // exactly back to root
ln('../../../..', 'a/b/c/up4'); // one more than needed: stops at root
ln('../../../../outside', 'a/b/c/to-outside'); // would name tmp/outside on the host
ln(outside, 'host-abs'); // absolute host path: inside the container it is root + that path
ln('b/c', 'a/bc'); // relative, down
ln('./c/../c', 'a/b/cc');
ln('real', 'lib-link');
ln('lib-link', 'chain1');
ln('chain1', 'chain2');
ln('/chain2/sub', 'chain3');
ln('loop-b', 'loop-a'); // loops
ln('loop-a', 'loop-b');
ln('self', 'self');
ln('/nonexistent/dir', 'dangling-abs');
ln('missing', 'dangling-rel');
ln('../../..', 'var/lib/up');
ln('/var/lib/up/../../etc', 'tricky');
ln('file/x', 'through-file');
ln('..', 'dotdot');

/**
 * What the container sees for each path: realpath inside chroot(root), all in
 * one python process; undefined when chroot is not possible here (not root).
 */
function inChroot(unsafes) {
  const py = [
    'import os, sys, json',
    'paths = json.load(sys.stdin)',
    'os.chroot(sys.argv[1])',
    'os.chdir("/")',
    'sys.stdout.write(json.dumps([os.path.realpath("/" + p) for p in paths]))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py, root], { input: JSON.stringify(unsafes), encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout);
}

/** root + a container path. */
function inRoot(abs) {
  return abs === '/' ? root : path.join(root, abs);
}

function underRoot(p) {
  return p === root || p.startsWith(root + '/');
}

const CASES = {
  '': '/',
  '/': '/',
  '.': '/',
  '..': '/',
  '../../..': '/',
  'etc/passwd': '/etc/passwd',
  '/etc//passwd': '/etc/passwd',
  './etc/./passwd': '/etc/passwd',
  'etc/../usr/lib': '/usr/lib',
  'abs-etc': '/etc',
  'abs-etc/passwd': '/etc/passwd',
  'abs-root': '/',
  'abs-root/etc': '/etc',
  'abs-dotdot/etc': '/etc',
  'rel-escape': '/',
  'rel-escape/etc/passwd': '/etc/passwd',
  'a/b/c/up3': '/',
  'a/b/c/up3/usr': '/usr',
  'a/b/c/up4/usr': '/usr',
  'a/b/c/to-outside': '/outside',
  'a/b/c/to-outside/secret': '/outside/secret',
  'host-abs': outside,
  'host-abs/secret': outside + '/secret',
  'a/bc': '/a/b/c',
  'a/bc/up3/etc': '/etc',
  'a/b/cc': '/a/b/c',
  'a/bc/..': '/a/b', // ".." applies to where the link led, not lexically
  'lib-link/x': '/real/x',
  'chain2': '/real',
  'chain3': '/real/sub',
  'dangling-abs': '/nonexistent/dir',
  'dangling-abs/more': '/nonexistent/dir/more',
  'dangling-rel': '/missing',
  'new/dir/not/there': '/new/dir/not/there',
  'new/../etc': '/etc',
  'var/lib/up': '/',
  'var/lib/up/etc': '/etc',
  'tricky': '/etc',
  'tricky/passwd': '/etc/passwd',
  'dotdot': '/',
  'dotdot/dotdot/etc': '/etc',
  'through-file': '/file/x',
};

const oracle = inChroot(Object.keys(CASES));

test('the kernel in chroot agrees with the expected table (checks the test itself)', () => {
  if (!oracle) {
    console.log('  (chroot via python3 not possible here: table not cross-checked)');
    return;
  }
  Object.keys(CASES).forEach((unsafe, i) => assert.is(oracle[i], CASES[unsafe], unsafe));
});

Object.entries(CASES).forEach(([unsafe, expected], i) => {
  test(`secureJoin(root, ${JSON.stringify(unsafe)}) -> root${expected === '/' ? '' : expected}`, () => {
    const got = secureJoin(root, unsafe);
    assert.ok(underRoot(got), `${got} escapes ${root}`);
    assert.is(got, inRoot(expected));
    if (oracle) assert.is(got, inRoot(oracle[i]), 'differs from what the kernel resolves in chroot');
  });
});

test('symlink loops fail instead of spinning', () => {
  for (const p of ['loop-a', 'loop-b/x', 'self', 'self/etc']) {
    assert.throws(() => secureJoin(root, p), /too many symlinks/, p);
  }
});

test('a relative root is resolved the same way as an absolute one', () => {
  const rel = path.relative(process.cwd(), root);
  assert.is(path.resolve(secureJoin(rel, 'abs-etc/passwd')), path.join(root, 'etc/passwd'));
  assert.is(path.resolve(secureJoin(rel, 'rel-escape')), root);
});

test('never escapes: every link and path combination stays under root', () => {
  const parts = ['..', '.', 'etc', 'abs-etc', 'rel-escape', 'a', 'b', 'c', 'up4', 'to-outside', 'host-abs',
    'dotdot', 'tricky', 'var', 'lib', 'up', 'dangling-abs', 'missing', 'chain3'];
  let n = 0;
  let seed = 12345;
  const rand = (k) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  for (let i = 0; i < 2000; i++) {
    const len = 1 + rand(6);
    const p = Array.from({ length: len }, () => parts[rand(parts.length)]).join('/');
    const got = secureJoin(root, p);
    assert.ok(underRoot(got), `${p} -> ${got}`);
    assert.not.ok(got.startsWith(outside + '/') || got === outside, `${p} reached the host's ${outside}`);
    n++;
  }
  assert.is(n, 2000);
});

test('agrees with the kernel in chroot on random paths (root only)', () => {
  const parts = ['..', 'etc', 'abs-etc', 'rel-escape', 'a', 'bc', 'b', 'c', 'up3', 'up4', 'cc', 'dotdot', 'tricky',
    'var', 'lib', 'up', 'chain2', 'lib-link', 'x', 'dangling-rel', 'abs-root', 'a/b/c/to-outside'];
  let seed = 777;
  const rand = (k) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  const paths = [];
  for (let i = 0; i < 500; i++) {
    paths.push(Array.from({ length: 1 + rand(6) }, () => parts[rand(parts.length)]).join('/'));
  }
  const seen = inChroot(paths);
  if (!seen) {
    console.log('  (skipped: chroot via python3 not possible here)');
    return;
  }
  paths.forEach((p, i) => assert.is(secureJoin(root, p), inRoot(seen[i]), p));
});

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
