'use strict';
// Signals and exit codes as runc gives them, for the callers that rely on
// them. `kill ID 0` is how a caller asks "is it alive?" (runc 1.1.5: exit 0
// for a created, running or paused container, "container not running" for a
// stopped one, exit 0 with --all even then, "container does not exist" for
// none), and it must change nothing. `run` exits with the process's status,
// 128+N when a signal N ended it (test/e2e/lifecycle.test.js has exit 3 and
// 137 for SIGKILL; here signals other than KILL, whose default action reaches
// an init only without a pid namespace of its own).
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { ok, assertClean } = require('./lib');

const test = suite('signals');
const ctx = h.createContext('rel-signals');
h.install(test, ctx);

function fails(r, msg, what) {
  assert.is(r.status, 1, `${what}: exit ${r.status}\n${r.stderr}`);
  assert.is(h.errorMessage(r.stderr), msg, what);
}

/** `kill ID 0` (and with --all): exit 0, nothing printed, the container unchanged. */
function probe(id, status, what) {
  const pid = ctx.state(id).pid;
  for (const args of [['kill', id, '0'], ['kill', '--all', id, '0']]) {
    const r = ctx.rt(args);
    ok(r, `${what}: ${args.join(' ')}`);
    assert.is(r.stdout + r.stderr, '', `${what}: ${args.join(' ')} prints nothing`);
    const s = ctx.state(id);
    if (h.IS_RUNC && status === 'paused' && args[1] === '--all' && s.status === 'running') {
      // runc 1.1.5's kill --all freezes, signals and thaws: a paused container comes out running
      console.log('\nKNOWN runc 1.1.5 deviation, not checked: kill --all of a paused container resumes it');
      ok(ctx.rt(['pause', id]), 'pause again');
      continue;
    }
    assert.equal([s.status, s.pid], [status, pid], `${what}: ${args.join(' ')} changed nothing`);
    assert.ok(h.pidAlive(pid), `${what}: the init lives`);
  }
}

test('kill ID 0: accepted for a created, a running and a paused container and changes nothing; "container not running" once stopped (--all: exit 0); "container does not exist" for none', async () => {
  const bundle = ctx.makeBundle({ cgroupsPath: `/rel-sig-${h.rand()}` });
  const id = ctx.id('rel-sig');
  ok(ctx.rt(['create', '--bundle', bundle.dir, id]), 'create');
  probe(id, 'created', 'created');
  ok(ctx.rt(['start', id]), 'start');
  probe(id, 'running', 'running');
  ok(ctx.rt(['pause', id]), 'pause');
  probe(id, 'paused', 'paused');
  ok(ctx.rt(['resume', id]), 'resume');
  probe(id, 'running', 'resumed');
  ok(ctx.rt(['kill', id, 'KILL']), 'kill KILL');
  await ctx.waitStatus(id, 'stopped');
  fails(ctx.rt(['kill', id, '0']), 'container not running', 'kill 0 of a stopped container');
  ok(ctx.rt(['kill', '--all', id, '0']), 'kill --all 0 of a stopped container');
  fails(ctx.rt(['kill', `rel-sig-none-${h.rand()}`, '0']), 'container does not exist', 'kill 0 of no container');
  ok(ctx.rt(['delete', id]), 'delete');
  assertClean(ctx, id, bundle, 'kill 0');
});

const NO_PIDNS = (c) => {
  c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'pid');
};

test('run: a process ended by SIGTERM from kill exits 143, by its own SIGSEGV 139 (no pid namespace: the default actions apply), and the status of exit N is N', async () => {
  // SIGTERM from outside, through the runtime
  const bundle = ctx.makeBundle({ edit: NO_PIDNS });
  const id = ctx.id('rel-sig');
  const { done } = ctx.rtAsync(['run', '--bundle', bundle.dir, id]);
  await ctx.waitStatus(id, 'running');
  ok(ctx.rt(['kill', id, 'TERM']), 'kill TERM');
  const r = await done;
  assert.is(r.status, 143, `run after kill TERM: exit ${r.status} signal ${r.signal}\n${r.stderr}`);
  assertClean(ctx, id, bundle, 'run, kill TERM');

  const cases = [['kill -SEGV $$', 139], ['kill -ABRT $$', 134], ['exit 0', 0], ['exit 1', 1], ['exit 255', 255], ['exit 128', 128]];
  for (const [script, status] of cases) {
    const b = ctx.makeBundle({ args: ['sh', '-c', script], edit: NO_PIDNS });
    const cid = ctx.id('rel-sig');
    const res = ctx.rt(['run', '--bundle', b.dir, cid]);
    assert.is(res.status, status, `run sh -c '${script}': exit ${res.status} signal ${res.signal}\n${res.stderr}`);
    assertClean(ctx, cid, b, script);
  }
});

test.run();
