'use strict';
// parseSignal / signalName: the forms `tsrunc kill` accepts, as runc does
// ("KILL", "SIGKILL", "kill", "9"), plus real-time signals by name.
const { test } = require('uvu');
const assert = require('uvu/assert');
const { execFileSync } = require('child_process');
const { parseSignal, signalName } = require('../../dist/linux/signals.js');

test('names with and without SIG, in any case', () => {
  for (const s of ['KILL', 'SIGKILL', 'kill', 'sigkill', 'Kill', 'SiGkIlL']) assert.is(parseSignal(s), 9, s);
  for (const s of ['TERM', 'SIGTERM', 'term']) assert.is(parseSignal(s), 15, s);
  assert.is(parseSignal('HUP'), 1);
  assert.is(parseSignal('INT'), 2);
  assert.is(parseSignal('USR1'), 10);
  assert.is(parseSignal('SIGUSR2'), 12);
  assert.is(parseSignal('STOP'), 19);
  assert.is(parseSignal('CONT'), 18);
  assert.is(parseSignal('WINCH'), 28);
  assert.is(parseSignal('CHLD'), 17);
  assert.is(parseSignal('PWR'), 30);
  assert.is(parseSignal('SYS'), 31);
});

test('aliases: IOT = ABRT, POLL = IO', () => {
  assert.is(parseSignal('IOT'), parseSignal('ABRT'));
  assert.is(parseSignal('SIGIOT'), 6);
  assert.is(parseSignal('POLL'), 29);
  assert.is(parseSignal('IO'), 29);
});

test('numbers 0..64 (0: does it exist, as runc accepts it)', () => {
  assert.is(parseSignal('0'), 0);
  assert.is(parseSignal('00'), 0);
  assert.is(parseSignal('9'), 9);
  assert.is(parseSignal('1'), 1);
  assert.is(parseSignal('15'), 15);
  assert.is(parseSignal('34'), 34);
  assert.is(parseSignal('64'), 64);
  assert.is(parseSignal('09'), 9);
});

test('surrounding whitespace is ignored', () => {
  assert.is(parseSignal(' 9 '), 9);
  assert.is(parseSignal('\tKILL\n'), 9);
});

test('real-time signals: SIGRTMIN+n and SIGRTMAX-n (glibc numbering: RTMIN = 34, RTMAX = 64)', () => {
  assert.is(parseSignal('SIGRTMIN'), 34);
  assert.is(parseSignal('RTMIN'), 34);
  assert.is(parseSignal('SIGRTMIN+1'), 35);
  assert.is(parseSignal('rtmin+1'), 35);
  assert.is(parseSignal('SIGRTMIN+30'), 64);
  assert.is(parseSignal('SIGRTMAX'), 64);
  assert.is(parseSignal('SIGRTMAX-1'), 63);
  assert.is(parseSignal('rtmax-30'), 34);
  assert.is(parseSignal('SIGRTMIN+0'), 34);
});

test('real-time numbering agrees with the shell (kill -l)', () => {
  let out;
  try {
    out = execFileSync('bash', ['-c', 'kill -l SIGRTMIN+1; kill -l SIGRTMAX-1; kill -l SIGRTMIN'], { encoding: 'utf8' });
  } catch {
    return; // no bash: nothing to compare with
  }
  const [a, b, c] = out.trim().split('\n').map(Number);
  assert.is(parseSignal('SIGRTMIN+1'), a);
  assert.is(parseSignal('SIGRTMAX-1'), b);
  assert.is(parseSignal('SIGRTMIN'), c);
});

test('bad signals are undefined', () => {
  const bad = ['', ' ', 'SIG', 'FOO', 'SIGFOO', 'KIL', 'SIGKILLL', 'SIG0', '65', '100', '-9', '+9', '9x', '1.5',
    'SIGRTMIN+31', 'SIGRTMAX-31', 'SIGRTMIN-1', 'SIGRTMAX+1', 'RTMIN+', 'SIGRTMIN+x',
    'constructor', 'toString', '__proto__', 'hasOwnProperty', 'SIG_IGN', 'SIGSIGKILL', 'K I L L'];
  for (const s of bad) assert.is(parseSignal(s), undefined, JSON.stringify(s));
});

test('signalName gives the SIG name, or "signal N" for numbers without one', () => {
  assert.is(signalName(9), 'SIGKILL');
  assert.is(signalName(15), 'SIGTERM');
  assert.is(signalName(1), 'SIGHUP');
  assert.is(signalName(40), 'signal 40');
  assert.is(signalName(0), 'signal 0');
});

test('signalName and parseSignal round-trip for every named signal', () => {
  for (let n = 1; n <= 31; n++) {
    const name = signalName(n);
    if (name.startsWith('signal ')) continue;
    assert.is(parseSignal(name), n, name);
    assert.is(parseSignal(name.slice(3).toLowerCase()), n, name);
  }
});

test.run();
