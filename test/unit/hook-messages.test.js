'use strict';
// A failed hook's error text in runc's words: Go's os/exec texts for how the
// hook ended (checked once against Go 1.x's syscall.Signal.String and
// ProcessState.String), and the wait status decoding they rest on.
const { test } = require('uvu');
const assert = require('uvu/assert');
const m = require('../../dist/hooks/messages.js');
const { decodeWaitStatus } = require('../../dist/linux/sys.js');

test('Go\'s signal names, "signal N" for those without one', () => {
  assert.is(m.goSignalText(31), 'bad system call');
  assert.is(m.goSignalText(9), 'killed');
  assert.is(m.goSignalText(15), 'terminated');
  assert.is(m.goSignalText(6), 'aborted');
  assert.is(m.goSignalText(23), 'urgent I/O condition');
  assert.is(m.goSignalText(24), 'CPU time limit exceeded');
  assert.is(m.goSignalText(29), 'I/O possible');
  assert.is(m.goSignalText(34), 'signal 34');
  assert.is(m.goSignalText(64), 'signal 64');
});

test('exit texts as Go\'s ProcessState.String', () => {
  assert.is(m.goExitText({ code: 3 }), 'exit status 3');
  assert.is(m.goExitText({ code: 255 }), 'exit status 255');
  assert.is(m.goExitText({ signal: 9 }), 'signal: killed');
  assert.is(m.goExitText({ signal: 31, coreDumped: true }), 'signal: bad system call (core dumped)');
});

test('errno texts as Go\'s syscall.Errno: strerror with the first letter lowered', () => {
  assert.is(m.goErrnoText('No such file or directory'), 'no such file or directory');
  assert.is(m.goErrnoText('Exec format error'), 'exec format error');
  assert.is(m.goErrnoText('I/O error'), 'I/O error');
  assert.is(m.hookStartText('/no/such', 'Permission denied'), 'fork/exec /no/such: permission denied');
});

test('whole messages', () => {
  assert.is(
    m.hookErrorText('startContainer', 0, m.hookExitedText({ signal: 31, coreDumped: true }, 'out\n', '')),
    'error running startContainer hook #0: error running hook: signal: bad system call (core dumped), stdout: out\n, stderr: ',
  );
  assert.is(m.hookErrorText('poststop', 2, m.hookTimeoutText(10)), 'error running poststop hook #2: hook ran past specified timeout of 10.0s');
});

test('output is cut at the limit and says so', () => {
  assert.is(m.clipOutput('abc'), 'abc');
  const long = 'x'.repeat(m.HOOK_OUTPUT_LIMIT + 1);
  assert.is(m.clipOutput(long), `${'x'.repeat(m.HOOK_OUTPUT_LIMIT)}[... truncated]`);
  assert.is(m.clipOutput('abc', true), 'abc[... truncated]');
});

test('wait status: WCOREDUMP is read', () => {
  assert.equal(decodeWaitStatus(5, 3 << 8), { pid: 5, code: 3 });
  assert.equal(decodeWaitStatus(5, 31), { pid: 5, signal: 31 });
  assert.equal(decodeWaitStatus(5, 31 | 0x80), { pid: 5, signal: 31, coreDumped: true });
});

test.run();
