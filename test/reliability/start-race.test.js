'use strict';
// `start` of a container whose process (or startContainer hook) ends at once.
// `start` reads the init's answer from the exec fifo; it used to ask whether
// the init lived AFTER reading nothing, so an init that answered and was gone
// between the two (a fast process, a failing hook) made start say "cannot
// start a container that has stopped" with the answer unread in the fifo.
// The fault point start:read (src/faults.ts) sleeps there, so the race goes
// that way every time; without it the case is looped many times.
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');

const test = suite('start-race');
const ctx = h.createContext('start-race');
h.install(test, ctx);

const ROUNDS = 200;
const slowRead = { ...process.env, TSRUNC_FAULT: 'start:read@sleep=150' };
const failingHook = (c) => {
  c.hooks = { startContainer: [{ path: '/bin/busybox', args: ['sh', '-c', 'echo hook-failed-here >&2; exit 3'] }] };
};

function startOnce(b, env) {
  const id = ctx.id('sr');
  const created = ctx.rt(['create', '--bundle', b.dir, id]);
  assert.is(created.status, 0, `create: ${created.stderr}`);
  const r = ctx.rt(['start', id], { env });
  ctx.rt(['delete', '--force', id]);
  return r;
}

test('a process that exits at once: start succeeds even when the init is gone before start looks (fault point, 20 times)', () => {
  if (!h.IS_TSRUNC) return skip(`the fault point is tsrunc's (${h.RUNTIME_NAME})`);
  const b = ctx.makeBundle({ args: ['true'] });
  for (let i = 0; i < 20; i++) {
    const r = startOnce(b, slowRead);
    assert.is(r.status, 0, `round ${i}: start failed: ${r.stderr}`);
  }
});

test('a failing startContainer hook: start reports the hook, not "stopped" (fault point, 20 times)', () => {
  if (!h.IS_TSRUNC) return skip(`the fault point is tsrunc's (${h.RUNTIME_NAME})`);
  const b = ctx.makeBundle({ args: ['true'], edit: failingHook });
  for (let i = 0; i < 20; i++) {
    const r = startOnce(b, slowRead);
    assert.is(r.status, 1, `round ${i}: start should fail`);
    assert.ok(r.stderr.includes('hook-failed-here'), `round ${i}: the hook's error should be the message: ${r.stderr}`);
  }
});

test(`run of a process that exits at once, and of a failing startContainer hook, ${ROUNDS} times each: never "stopped"`, () => {
  const fast = ctx.makeBundle({ args: ['true'] });
  const hooked = ctx.makeBundle({ args: ['true'], edit: failingHook });
  for (let i = 0; i < ROUNDS; i++) {
    const ok = ctx.rt(['run', '--bundle', fast.dir, ctx.id('rf')]);
    assert.is(ok.status, 0, `round ${i}: run of true failed: ${ok.stderr}`);
    const bad = ctx.rt(['run', '--bundle', hooked.dir, ctx.id('rh')]);
    assert.is(bad.status, 1, `round ${i}: run with a failing hook should fail`);
    if (h.IS_TSRUNC) assert.ok(bad.stderr.includes('hook-failed-here'), `round ${i}: ${bad.stderr}`);
  }
});

test.run();
