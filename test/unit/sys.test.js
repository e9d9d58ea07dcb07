'use strict';
// The typed libc wrappers: a failing call reports its own errno (nothing may
// run between the call and reading errno: once a require() there clobbered it).
const { test } = require('uvu');
const assert = require('uvu/assert');
const sys = require('../../dist/linux/sys');

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

test.run();
