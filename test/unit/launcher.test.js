'use strict';
// bin/tsrunc: runs dist/tsrunc.js through a V8 code cache per subcommand.
// Run here on a stand-in bundle (in a temp copy of the layout, with the real
// dist/cli/argv.js), whose main() prints a letter: the real bundle is covered
// by every e2e test.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { test } = require('uvu');
const assert = require('uvu/assert');

const LAUNCHER = path.resolve(__dirname, '..', '..', 'bin', 'tsrunc');
// what the launcher reads the subcommand with (built from src/cli/argv.ts)
const ARGV = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'argv.js');

/** Runs fn(dir) on a temp copy of the layout (bin/tsrunc, dist/), removed afterwards. */
function withLayout(fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-launcher-'));
  try {
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.mkdirSync(path.join(dir, 'dist', 'cli'), { recursive: true });
    fs.copyFileSync(LAUNCHER, path.join(dir, 'bin', 'tsrunc'));
    fs.copyFileSync(ARGV, path.join(dir, 'dist', 'cli', 'argv.js'));
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A stand-in bundle: main() prints `letter` and the arguments it got. */
function writeBundle(dir, letter) {
  fs.writeFileSync(path.join(dir, 'dist', 'tsrunc.js'),
    `exports.main = async (args) => { require('fs').writeSync(1, '${letter} ' + args.join(' ') + '\\n'); };\n`);
}

function launch(dir, args) {
  return spawnSync(process.execPath, [path.join(dir, 'bin', 'tsrunc'), ...args], { encoding: 'utf8' });
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

test('without a built bundle: exit 1 and how to build it', () => withLayout((dir) => {
  const r = launch(dir, ['state', 'c1']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /dist\/tsrunc\.js \(ENOENT\): build it with `npm run build`/);
}));

test.run();
