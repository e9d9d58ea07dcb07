'use strict';
// bin/tsrunc: runs dist/tsrunc.js through a V8 code cache per subcommand,
// after its sh line removed the caller's NODE_*, UV_* and OPENSSL_* variables.
// Run here on a stand-in bundle (in a temp copy of the layout, with the real
// dist/cli/argv.js and dist/state/atomic-file.js), whose main() prints a
// letter: the real bundle is covered by every e2e test, the attacks by
// test/security/host-files.test.js.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { test } = require('uvu');
const assert = require('uvu/assert');
const { skip } = require('../lib/skip');
const { wrapBundle } = require('../../scripts/bundle/wrap');

const LAUNCHER = path.resolve(__dirname, '..', '..', 'bin', 'tsrunc');
// what the launcher reads the subcommand with and writes its cache with (built from src/)
const DIST_MODULES = ['cli/argv.js', 'state/atomic-file.js'];
const NOBODY = 65534;

/** Runs fn(dir) on a temp copy of the layout (bin/tsrunc, dist/), removed afterwards. */
function withLayout(fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-launcher-'));
  try {
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.copyFileSync(LAUNCHER, path.join(dir, 'bin', 'tsrunc'));
    for (const m of DIST_MODULES) {
      fs.mkdirSync(path.dirname(path.join(dir, 'dist', m)), { recursive: true });
      fs.copyFileSync(path.resolve(__dirname, '..', '..', 'dist', m), path.join(dir, 'dist', m));
    }
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A stand-in bundle: main() prints `letter` and the arguments it got. */
function writeBundle(dir, letter) {
  fs.writeFileSync(path.join(dir, 'dist', 'tsrunc.js'),
    wrapBundle(`exports.main = async (args) => { require('fs').writeSync(1, '${letter} ' + args.join(' ') + '\\n'); };\n`));
}

function launch(dir, args) {
  return spawnSync(process.execPath, ['--single-threaded', path.join(dir, 'bin', 'tsrunc'), ...args], { encoding: 'utf8' });
}

const caches = (dir) => {
  try {
    return fs.readdirSync(path.join(dir, 'dist', '.v8-cache')).sort();
  } catch {
    return [];
  }
};

test('runs the bundle\'s main with the arguments and keeps one cache per subcommand', () => withLayout((dir) => {
  writeBundle(dir, 'A');
  const r = launch(dir, ['--root', '/x', '--log-format', 'json', 'state', 'c1']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'A --root /x --log-format json state c1\n');
  assert.equal(caches(dir).map((f) => f.split('-')[0]), ['state'], 'a cache named after the subcommand, not a flag value');
  assert.is(launch(dir, ['state', 'c1']).stdout, 'A state c1\n', 'runs from its cache');
  launch(dir, ['--debug', 'kill', 'c1', 'KILL']);
  launch(dir, ['--version']);
  launch(dir, ['no-such-command', 'x']);
  assert.equal(caches(dir).map((f) => f.split('-')[0]), ['kill', 'other', 'state'], 'unknown commands share "other"');
}));

test('a rebuilt bundle of the same length never runs from the old bundle\'s cache', () => withLayout((dir) => {
  // V8 accepts a code cache for any source of the same length: keyed by the
  // command name alone, this printed "A" after the rebuild
  writeBundle(dir, 'A');
  assert.is(launch(dir, ['state']).stdout, 'A state\n');
  assert.is(caches(dir).length, 1);
  const bundle = path.join(dir, 'dist', 'tsrunc.js');
  const before = fs.statSync(bundle);
  writeBundle(dir, 'B');
  fs.utimesSync(bundle, before.atime, new Date(before.mtimeMs + 2000));
  assert.is(fs.statSync(bundle).size, before.size, 'same length');
  assert.is(launch(dir, ['state']).stdout, 'B state\n');
}));

test('an unwritable cache directory costs only speed', () => withLayout((dir) => {
  writeBundle(dir, 'A');
  fs.writeFileSync(path.join(dir, 'dist', '.v8-cache'), 'not a directory');
  const r = launch(dir, ['list']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'A list\n');
  assert.is(r.stderr, '');
}));

const cacheDir = (dir) => path.join(dir, 'dist', '.v8-cache');
const mode = (p) => fs.lstatSync(p).mode & 0o7777;

test('the cache dir is 0700 and its files 0600, whatever the umask', () => withLayout((dir) => {
  writeBundle(dir, 'A');
  const r = spawnSync('/bin/sh', ['-c', 'umask 000; exec "$@"', 'sh', process.execPath, '--single-threaded', path.join(dir, 'bin', 'tsrunc'), 'state'], { encoding: 'utf8' });
  assert.is(r.stdout, 'A state\n', r.stderr);
  assert.is(mode(cacheDir(dir)), 0o700);
  assert.equal(caches(dir).map((f) => mode(path.join(cacheDir(dir), f))), [0o600]);
}));

/**
 * Makes the cache of bundle "A", then puts bundle "B" of the same length and
 * mtime in its place: a run that prints "A" ran the cache, not the bundle.
 */
function cacheOfAnotherBundle(dir) {
  writeBundle(dir, 'A');
  const bundle = path.join(dir, 'dist', 'tsrunc.js');
  assert.is(launch(dir, ['state']).stdout, 'A state\n');
  const before = fs.statSync(bundle);
  writeBundle(dir, 'B');
  fs.utimesSync(bundle, before.atime, before.mtime);
  return path.join(cacheDir(dir), caches(dir)[0]);
}

test('a cache no other user can have written is run (what the tests below rely on)', () => withLayout((dir) => {
  cacheOfAnotherBundle(dir);
  assert.is(launch(dir, ['state']).stdout, 'A state\n');
}));

test('a cache another user owns or could have written is never run', () => {
  const tampers = {
    'a file another user owns': (file) => fs.chownSync(file, NOBODY, NOBODY),
    'a file group and others can write': (file) => fs.chmodSync(file, 0o666),
    'a dir others can write': (file) => fs.chmodSync(path.dirname(file), 0o777),
    'a dir another user owns': (file) => fs.chownSync(path.dirname(file), NOBODY, NOBODY),
    'a symlink to the file': (file) => {
      fs.renameSync(file, `${file}.real`);
      fs.symlinkSync(`${file}.real`, file);
    },
    'a symlink to the dir': (file) => {
      const d = path.dirname(file);
      fs.renameSync(d, `${d}.real`);
      fs.symlinkSync(`${d}.real`, d);
    },
  };
  for (const [what, tamper] of Object.entries(tampers)) {
    withLayout((dir) => {
      tamper(cacheOfAnotherBundle(dir));
      const r = launch(dir, ['state']);
      assert.is(r.stdout, 'B state\n', `${what}: ran the cache (${r.stderr})`);
    });
  }
});

test('a cache dir left open by an older launcher is closed (0700) and its cache replaced', () => withLayout((dir) => {
  const file = cacheOfAnotherBundle(dir);
  fs.chmodSync(cacheDir(dir), 0o777);
  fs.chmodSync(file, 0o666);
  assert.is(launch(dir, ['state']).stdout, 'B state\n');
  assert.is(mode(cacheDir(dir)), 0o700);
  assert.is(mode(file), 0o600, 'a new cache, B\'s, renamed over the old');
  assert.is(launch(dir, ['state']).stdout, 'B state\n', 'and run next time');
}));

test('a cache dir another user owns is neither run from nor written to', () => withLayout((dir) => {
  writeBundle(dir, 'A');
  fs.mkdirSync(cacheDir(dir), { mode: 0o700 });
  fs.chownSync(cacheDir(dir), NOBODY, NOBODY);
  assert.is(launch(dir, ['state']).stdout, 'A state\n');
  assert.equal(caches(dir), []);
  assert.is(fs.statSync(cacheDir(dir)).uid, NOBODY);
}));

/** A stand-in bundle whose main() prints the environment as JSON. */
function writeEnvBundle(dir) {
  fs.writeFileSync(path.join(dir, 'dist', 'tsrunc.js'),
    wrapBundle('exports.main = async () => { require(\'fs\').writeSync(1, JSON.stringify(process.env)); };\n'));
}

const NODE_DIRS = ['/usr/bin', '/bin'];

test('the caller\'s NODE_*, UV_* and OPENSSL_* variables are gone before node starts; the others are kept as they were', () => withLayout((dir) => {
  writeEnvBundle(dir);
  const marker = path.join(dir, 'marker');
  const preload = path.join(dir, 'preload.js');
  fs.writeFileSync(preload, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
  const kept = {
    PATH: process.env.PATH,
    XDG_RUNTIME_DIR: '/run/user/0',
    NOTIFY_SOCKET: '/run/notify.sock',
    LISTEN_FDS: '2',
    LISTEN_PID: '1',
    TERM: 'xterm',
    // values that look like the names removed: only the names are matched
    TRICKY: 'a NODE_OPTIONS=--require=/x\nexport NODE_PATH=/y \'* $(id)',
    NODE: 'not a prefix match',
  };
  const removed = {
    NODE_OPTIONS: `--require ${preload}`,
    NODE_PATH: dir,
    NODE_REDIRECT_WARNINGS: path.join(dir, 'warnings'),
    NODE_V8_COVERAGE: path.join(dir, 'coverage'),
    NODE_EXTRA_CA_CERTS: '/nonexistent',
    NODE_COMPILE_CACHE: path.join(dir, 'compile-cache'),
    UV_THREADPOOL_SIZE: '1',
    OPENSSL_CONF: '/nonexistent',
  };
  const r = spawnSync(path.join(dir, 'bin', 'tsrunc'), ['state'], { env: { ...kept, ...removed }, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const env = JSON.parse(r.stdout);
  assert.equal(Object.keys(env).filter((k) => /^(NODE_|UV_|OPENSSL_)/.test(k)), []);
  for (const [k, v] of Object.entries(kept)) assert.is(env[k], v, k);
  assert.not.ok(fs.existsSync(marker), 'NODE_OPTIONS --require ran');
  assert.not.ok(fs.existsSync(removed.NODE_V8_COVERAGE), 'NODE_V8_COVERAGE was written');
}));

test('node runs with the memory flags (2 MiB semi-spaces; JavaScript without TurboFan or Sparkplug) and keeps WebAssembly (its containers need it)', () => withLayout((dir) => {
  fs.writeFileSync(path.join(dir, 'dist', 'tsrunc.js'),
    wrapBundle('exports.main = async () => { require(\'fs\').writeSync(1, JSON.stringify([process.execArgv, typeof WebAssembly])); };\n'));
  const r = spawnSync(path.join(dir, 'bin', 'tsrunc'), ['state'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '', 'no V8 warning');
  const [execArgv, wasm] = JSON.parse(r.stdout);
  for (const flag of ['--single-threaded', '--min-semi-space-size=2', '--max-semi-space-size=2', '--no-opt', '--no-sparkplug']) assert.ok(execArgv.includes(flag), `${flag} in ${execArgv}`);
  assert.not.ok(execArgv.includes('--jitless'), 'no --jitless: WebAssembly containers need the JIT');
  assert.is(wasm, 'object', 'WebAssembly is there');
}));

test('runs without PATH (conmon calls it so), node found in /usr/bin or /bin', () => withLayout((dir) => {
  if (!NODE_DIRS.some((d) => fs.existsSync(path.join(d, 'node')))) return skip('node is in neither /usr/bin nor /bin');
  writeBundle(dir, 'A');
  const r = spawnSync(path.join(dir, 'bin', 'tsrunc'), ['state'], { env: {}, encoding: 'utf8' });
  assert.is(r.stdout, 'A state\n', r.stderr);
}));

test('runs through a symlink to it (npm link): dist/ is found beside the real file', () => withLayout((dir) => {
  writeBundle(dir, 'A');
  fs.mkdirSync(path.join(dir, 'link'));
  fs.symlinkSync(path.join(dir, 'bin', 'tsrunc'), path.join(dir, 'link', 'tsrunc'));
  const r = spawnSync(path.join(dir, 'link', 'tsrunc'), ['state'], { encoding: 'utf8' });
  assert.is(r.stdout, 'A state\n', r.stderr);
}));

test('without a built bundle: exit 1 and how to build it', () => withLayout((dir) => {
  const r = launch(dir, ['state', 'c1']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /dist\/tsrunc\.js \(ENOENT\): build it with `npm run build`/);
}));

test('node without --single-threaded is refused with a clear message (its forked init would hang)', () => withLayout((dir) => {
  writeBundle(dir, 'A');
  const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'tsrunc'), 'state', 'c1'], { encoding: 'utf8' });
  assert.is(r.status, 1);
  assert.match(r.stderr, /--single-threaded/);
  assert.is(r.stdout, '', 'the bundle did not run');
}));

test.run();
