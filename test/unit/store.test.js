'use strict';
// StateStore: the <root>/<id>/state.json directory that makes ids unique and
// keeps what later commands need.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { StateStore, validateId } = require('../../dist/state/store.js');
const { RuntimeError } = require('../../dist/errors.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-store-'));
let n = 0;
const freshRoot = () => path.join(tmp, `root${++n}`, 'nested'); // does not exist yet

function state(id, over) {
  return {
    ociVersion: '1.2.0', id, pid: 123, pidStartTime: '456', bundle: '/b', rootfs: '/b/rootfs',
    created: '2024-01-01T00:00:00Z', owner: '', config: { process: { args: ['sh'] } }, ...over,
  };
}

function throwsRuntime(fn, message) {
  try {
    fn();
  } catch (e) {
    assert.instance(e, RuntimeError);
    assert.is(e.message, message);
    return e;
  }
  assert.unreachable(`expected "${message}"`);
}

const mode = (p) => fs.lstatSync(p).mode & 0o7777;

/** fn() with the process umask set to `mask`. */
function withUmask(mask, fn) {
  const old = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(old);
  }
}

test('claim creates root and the id directory, both 0700 whatever the umask', () => {
  for (const mask of [0o000, 0o022, 0o077, 0o277]) {
    const store = new StateStore(freshRoot());
    const dir = withUmask(mask, () => store.claim('abc'));
    assert.is(dir, path.join(store.root, 'abc'));
    assert.ok(fs.statSync(dir).isDirectory());
    assert.is(mode(store.root), 0o700, `root, umask 0${mask.toString(8)}`);
    assert.is(mode(dir), 0o700, `container dir, umask 0${mask.toString(8)}`);
    assert.is(store.dir('abc'), dir);
    assert.is(store.fifoPath('abc'), path.join(dir, 'exec.fifo'));
  }
});

test('an existing 0711 root (what tsrunc used to make) is tightened to 0700; a 0755 one is kept as it is', () => {
  const old = freshRoot();
  fs.mkdirSync(old, { recursive: true });
  fs.chmodSync(old, 0o711);
  assert.equal(new StateStore(old).list(), [], 'read-only commands check it too');
  assert.is(mode(old), 0o700);
  const open = freshRoot();
  fs.mkdirSync(open, { recursive: true });
  fs.chmodSync(open, 0o755);
  new StateStore(open).claim('x');
  assert.is(mode(open), 0o755, 'no one else can write it: the operator\'s choice');
  assert.is(mode(path.join(open, 'x')), 0o700);
});

test('a root another user owns, others can write, or that is a symlink or no directory is refused by every command', () => {
  const cases = [];
  const owned = freshRoot();
  fs.mkdirSync(owned, { recursive: true, mode: 0o700 });
  fs.chownSync(owned, 65534, 65534);
  cases.push([owned, `owned by uid 65534, not by uid ${process.geteuid()}`]);
  for (const m of [0o777, 0o775, 0o1777, 0o757]) {
    const root = freshRoot();
    fs.mkdirSync(root, { recursive: true });
    fs.chmodSync(root, m);
    cases.push([root, `writable by group or others (mode 0${m.toString(8)})`]);
  }
  const target = freshRoot();
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
  const link = freshRoot();
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(target, link);
  cases.push([link, 'a symbolic link']);
  const file = freshRoot();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '');
  cases.push([file, 'not a directory']);
  for (const [root, why] of cases) {
    const message = `unsafe state root ${root}: ${why}`;
    const store = new StateStore(root);
    throwsRuntime(() => store.claim('c'), message);
    throwsRuntime(() => store.load('c'), message);
    throwsRuntime(() => store.list(), message);
    throwsRuntime(() => store.exists('c'), message);
  }
  assert.is(mode(target), 0o700, 'the symlink\'s target was not touched');
  assert.equal(fs.readdirSync(target), []);
});

test('claim twice -> "container with id exists: X"', () => {
  const store = new StateStore(freshRoot());
  store.claim('dup');
  throwsRuntime(() => store.claim('dup'), 'container with given ID already exists');
  // a claimed id without state.json still blocks a second claim
  assert.not.ok(store.exists('dup'));
  throwsRuntime(() => store.claim('dup'), 'container with given ID already exists');
});

test('concurrent claims of one id: exactly one wins', async () => {
  const root = freshRoot();
  const script = `
    const { StateStore } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/state/store.js'))});
    try { new StateStore(${JSON.stringify(root)}).claim('race'); process.stdout.write('won'); }
    catch (e) { process.stdout.write(e.message); }`;
  const runs = Array.from({ length: 8 }, () => new Promise((resolve) => {
    const c = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', () => resolve(out));
  }));
  const outs = await Promise.all(runs);
  assert.is(outs.filter((o) => o === 'won').length, 1, outs.join(' | '));
  assert.is(outs.filter((o) => o === 'container with given ID already exists').length, 7, outs.join(' | '));
});

test('valid ids', () => {
  for (const id of ['a', 'A-b_c.d+e', 'x'.repeat(200), '0', 'test.1', '..a', 'a..', '...']) {
    validateId(id);
  }
});

test('invalid ids -> "invalid id format: X"', () => {
  const store = new StateStore(freshRoot());
  for (const id of ['.', '..', 'a/b', '/abs', 'a b', 'a:b', 'é', 'a\nb', 'a*', '../x', 'x/..', 'tab\t']) {
    throwsRuntime(() => validateId(id), `invalid id format: ${id}`);
    throwsRuntime(() => store.claim(id), `invalid id format: ${id}`);
    throwsRuntime(() => store.load(id), `invalid id format: ${id}`);
  }
  assert.not.ok(fs.existsSync(path.join(store.root, 'a')), 'nothing was created for "a/b"');
});

test('an empty id -> "container id cannot be empty"', () => {
  throwsRuntime(() => validateId(''), 'container id cannot be empty');
  throwsRuntime(() => new StateStore(freshRoot()).claim(''), 'container id cannot be empty');
});

// BUG: src/state/store.ts ID_PATTERN /^[\w+\-.]+$/ rejects ",", but runc's
// idRegex `^[\w+-\.]+$` contains the range "+-." (0x2B..0x2E), which includes
// ",": `runc state a,b` answers "container does not exist" (checked with
// /usr/sbin/runc 1.1.5), tsrunc answers "invalid id format: a,b".
test('ids with a comma are valid, as in runc', () => {
  validateId('a,b');
  const store = new StateStore(freshRoot());
  store.claim('a,b');
  store.save(state('a,b'));
  assert.equal(store.list(), ['a,b']);
});

test('load of a missing container -> "container does not exist"', () => {
  const store = new StateStore(freshRoot());
  throwsRuntime(() => store.load('nope'), 'container does not exist'); // root does not exist either
  assert.not.ok(store.exists('nope'));
});

test('a directory without a usable state.json: a one-line error naming the problem and delete --force', () => {
  const store = new StateStore(freshRoot());
  store.claim('claimed-only');
  throwsRuntime(() => store.load('claimed-only'), 'container claimed-only is incomplete: its create was interrupted: `delete --force claimed-only` removes it');
  store.record({ id: 'claimed-only', creator: { pid: process.pid, startTime: require('../../dist/linux/proc').processStartTime(process.pid) } });
  throwsRuntime(() => store.load('claimed-only'), `container claimed-only is being created (by process ${process.pid}): \`delete --force claimed-only\` removes it`);
  const cases = [['', 'not JSON'], ['{"id":', 'not JSON'], ['null', 'not a JSON object'], ['[]', 'not a JSON object'], ['{}', 'its id is undefined'],
    [JSON.stringify({ ...state('c'), id: 'other' }), 'its id is "other"'], [JSON.stringify({ ...state('c'), pid: -1 }), 'no valid pid'],
    [JSON.stringify({ ...state('c'), config: null }), 'no config']];
  store.claim('c');
  for (const [text, why] of cases) {
    fs.writeFileSync(path.join(store.dir('c'), 'state.json'), text);
    throwsRuntime(() => store.load('c'), `container c has a corrupt state.json (${why}): \`delete --force c\` removes it`);
    assert.equal(store.list(), [], 'list() holds only usable states');
    assert.equal(store.ids(), ['c', 'claimed-only']);
  }
});

test('save then load round-trips the state', () => {
  const store = new StateStore(freshRoot());
  store.claim('rt');
  const s = state('rt', {
    annotations: { 'org.example': 'v' }, cgroup: { version: 1, paths: { memory: '/sys/fs/cgroup/memory/rt' }, created: true },
    namespacePaths: { pid: '/proc/123/ns/pid' }, started: true,
  });
  store.save(s);
  assert.ok(store.exists('rt'));
  assert.equal(store.load('rt'), s);
  const file = path.join(store.dir('rt'), 'state.json');
  assert.is(fs.statSync(file).mode & 0o777, 0o600 & ~process.umask());
});

test('save is atomic: replaces by rename, leaves no temporary file, never a partial file', () => {
  const store = new StateStore(freshRoot());
  store.claim('at');
  store.save(state('at', { pid: 1 }));
  const file = path.join(store.dir('at'), 'state.json');
  const inoBefore = fs.statSync(file).ino;
  store.save(state('at', { pid: 2, config: { big: 'x'.repeat(1 << 20) } }));
  assert.is(store.load('at').pid, 2);
  assert.is.not(fs.statSync(file).ino, inoBefore, 'state.json was rewritten in place, not renamed over');
  assert.equal(fs.readdirSync(store.dir('at')).sort(), ['state.json']);
  // a reader holding the old file still sees a complete document
  const fd = fs.openSync(file, 'r');
  store.save(state('at', { pid: 3 }));
  const old = JSON.parse(fs.readFileSync(fd, 'utf8'));
  fs.closeSync(fd);
  assert.is(old.pid, 2);
  assert.is(store.load('at').pid, 3);
});

test('save replaces a symlink at state.json, never writes through it', () => {
  const store = new StateStore(freshRoot());
  store.claim('ln');
  const victim = path.join(tmp, `victim${++n}`);
  fs.writeFileSync(victim, 'precious');
  fs.symlinkSync(victim, path.join(store.dir('ln'), 'state.json'));
  store.save(state('ln'));
  assert.is(fs.readFileSync(victim, 'utf8'), 'precious');
  assert.ok(fs.lstatSync(path.join(store.dir('ln'), 'state.json')).isFile());
  assert.is(store.load('ln').id, 'ln');
});

test('list: ids with a state.json, sorted; ignores claimed-only dirs, files and junk', () => {
  const store = new StateStore(freshRoot());
  assert.equal(store.list(), [], 'missing root lists nothing');
  for (const id of ['zeta', 'alpha', 'Beta', 'mid.1', '10', '9']) {
    store.claim(id);
    store.save(state(id));
  }
  store.claim('claimed-only');
  fs.writeFileSync(path.join(store.root, 'a-file'), '');
  fs.mkdirSync(path.join(store.root, 'bad name'));
  fs.writeFileSync(path.join(store.root, 'bad name', 'state.json'), '{}');
  const expected = ['10', '9', 'Beta', 'alpha', 'mid.1', 'zeta'];
  assert.equal(store.list(), expected);
  assert.equal(store.list(), [...expected].sort());
});

test('remove deletes the container directory and is idempotent', () => {
  const store = new StateStore(freshRoot());
  store.claim('rm');
  store.save(state('rm'));
  fs.writeFileSync(path.join(store.dir('rm'), 'exec.fifo'), '');
  store.remove('rm');
  assert.not.ok(fs.existsSync(store.dir('rm')));
  assert.not.ok(store.exists('rm'));
  store.remove('rm');
  assert.equal(store.list(), []);
  store.claim('rm'); // the id can be used again
});

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
