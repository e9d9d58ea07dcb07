'use strict';
// container/foreground.ts tested through a fake of the libc layer (the `Sys`
// type of src/linux/sys.ts): what the foreground runtime waits for and whom it
// signals, with no process, kernel or root needed. The fake records each call.
const { test } = require('uvu');
const assert = require('uvu/assert');
const { waitForExit, forwardSignals, exitCodeOf } = require('../../dist/container/foreground.js');

const WNOHANG = 1;
const ECHILD = Object.assign(new Error('waitpid: ECHILD'), { errno: 10 });

/** A fake waitpid: `answers` is what successive calls for the init return (a WaitResult, undefined, or an Error to throw). */
function fakeWait(init, answers) {
  const calls = [];
  return {
    calls,
    waitpid(pid, options) {
      calls.push([pid, options]);
      if (pid !== init) return { pid, code: 0 };
      const a = answers.length ? answers.shift() : undefined;
      if (a instanceof Error) throw a;
      return a;
    },
  };
}

test('waitForExit waits for the init only, never for any child (-1), then reaps the zombies left', async () => {
  const os = fakeWait(4242, [ECHILD, undefined, undefined, { pid: 4242, code: 3 }]);
  let zombiesAsked = 0;
  const done = waitForExit(4242, os, () => {
    zombiesAsked++;
    return [5001, 5002];
  });
  // the first look happens at once; each SIGCHLD makes another
  for (let i = 0; i < 3; i++) process.emit('SIGCHLD');
  const r = await done;
  assert.equal(r, { pid: 4242, code: 3 });
  assert.is(exitCodeOf(r), 3);
  assert.equal(os.calls.slice(0, 4), [[4242, WNOHANG], [4242, WNOHANG], [4242, WNOHANG], [4242, WNOHANG]], 'the init, without blocking, once per SIGCHLD');
  assert.equal(os.calls.slice(4), [[5001, WNOHANG], [5002, WNOHANG]], 'then the zombies, each by pid');
  assert.ok(os.calls.every(([pid]) => pid > 0), 'never waitpid(-1) or a process group');
  assert.is(zombiesAsked, 1, 'the zombies are looked for once, after the init is gone');
  // once done, later SIGCHLDs (another child of the caller ending) are not ours to reap
  const before = os.calls.length;
  process.emit('SIGCHLD');
  assert.is(os.calls.length, before);
  assert.is(process.listenerCount('SIGCHLD'), 0);
});

test('waitForExit: a zombie reaped meanwhile (ECHILD) does not fail the wait; a killed init gives 128+signal', async () => {
  const os = fakeWait(77, [{ pid: 77, signal: 9 }]);
  const wait = os.waitpid;
  os.waitpid = (pid, o) => {
    if (pid === 78) throw ECHILD;
    return wait(pid, o);
  };
  const r = await waitForExit(77, os, () => [78]);
  assert.is(exitCodeOf(r), 137);
});

test('forwardSignals sends the caller\'s signals to the init, keeps the excepted ones, and undoes', () => {
  const sent = [];
  const os = { kill: (pid, sig) => sent.push([pid, sig]) };
  const had = process.listenerCount('SIGTERM');
  const undo = forwardSignals(900, ['SIGINT'], os);
  try {
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGUSR1', 'SIGUSR1');
    process.emit('SIGINT', 'SIGINT');
  } finally {
    undo();
  }
  assert.equal(sent, [[900, 15], [900, 10]], 'TERM and USR1 to the init; INT was excepted (a terminal sends it to the container itself)');
  assert.is(process.listenerCount('SIGTERM'), had, 'undo removes every handler');
  process.emit('SIGUSR1', 'SIGUSR1');
  assert.is(sent.length, 2);
});

test('forwardSignals: an init that has exited (kill fails) is not an error', () => {
  const os = { kill: () => { throw Object.assign(new Error('kill: ESRCH'), { errno: 3 }); } };
  const undo = forwardSignals(901, [], os);
  try {
    process.emit('SIGHUP', 'SIGHUP');
  } finally {
    undo();
  }
});

test.run();
