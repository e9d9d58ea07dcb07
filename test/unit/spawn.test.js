'use strict';
// src/linux/spawn.ts: a helper program through posix_spawnp (ps's table), instead of
// Node's child_process (about 8 ms to load).
const { test } = require('uvu');
const assert = require('uvu/assert');
const { spawnCapture } = require('../../dist/linux/spawn.js');

const ENV = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'];

test('exit code, stdout and stderr apart, stdin /dev/null, the environment given', () => {
  const r = spawnCapture('sh', ['-c', 'echo out; echo err >&2; cat; echo "$GREETING"; exit 3'], [...ENV, 'GREETING=hi']);
  assert.equal(r, { code: 3, signal: undefined, stdout: 'out\nhi\n', stderr: 'err\n' });
});

test('a program writing much to both pipes (more than a pipe holds) is read to the end', () => {
  const r = spawnCapture('sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do echo "line $i of stdout, long enough to fill a pipe quickly"; echo "line $i of stderr, long enough to fill a pipe too" >&2; i=$((i+1)); done'], ENV);
  assert.is(r.code, 0);
  assert.is(r.stdout.split('\n').length, 3001);
  assert.is(r.stderr.split('\n').length, 3001);
  assert.ok(r.stdout.length > 128 * 1024 && r.stderr.length > 128 * 1024, 'both over twice a pipe\'s 64 KiB');
});

test('killed by a signal: the signal, no code', () => {
  const r = spawnCapture('sh', ['-c', 'kill -9 $$'], ENV);
  assert.is(r.code, undefined);
  assert.is(r.signal, 9);
});

test('a program not on PATH: an error naming posix_spawnp and the program', () => {
  assert.throws(() => spawnCapture('no-such-program-here', [], ENV), (e) => /posix_spawnp/.test(e.message) && /no-such-program-here/.test(e.message) && /No such file/.test(e.message));
});

test('no fd of the runtime but stdio reaches the program', () => {
  const fs = require('fs');
  const fd = fs.openSync('/proc/self/status', 'r'); // Node opens with O_CLOEXEC
  try {
    const r = spawnCapture('sh', ['-c', 'ls /proc/self/fd'], ENV);
    assert.equal(r.stdout.trim().split('\n').sort(), ['0', '1', '2', '3'], 'stdio and ls\'s own fd of the directory');
  } finally {
    fs.closeSync(fd);
  }
});

test.run();
