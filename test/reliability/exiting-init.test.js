'use strict';
// An init that is exiting has left its cgroup (the kernel's cgroup_exit comes
// before the process becomes a zombie), and the init of a pid namespace stays
// so until every other process of the namespace has died. Here that while is
// held open: the init's child sits in a frozen nested v1 freezer cgroup, where
// the SIGKILL the dying init's namespace sends it waits for a thaw. `state`
// meanwhile must answer (running: the init has not ended), never call the
// state corrupt because the init's pid is not in the container's cgroup, as
// tsrunc did (the e2e api test's flake, after `kill KILL`, when the window of
// a few microseconds was hit).
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const { ok, assertClean, waitUntil } = require('./lib');

const test = suite('exiting-init');
const ctx = h.createContext('rel-exiting');
h.install(test, ctx);

const FREEZER = h.cgroupHierarchies().find((m) => path.basename(m).split(',').includes('freezer'));
const readPids = (dir) => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
const freezerState = (dir) => fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim();
const pidState = (pid) => {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return 'gone';
  }
};

test('state, kill and list while a killed init waits for its pid namespace to die: no corrupt state', async () => {
  if (!FREEZER) return skip('no v1 freezer hierarchy on this host (the child is held in a nested v1 freezer)');
  const cgroupsPath = `/tsrunc-rel-exiting-${h.rand()}`;
  const b = ctx.shBundle('sleep 1000 & wait', null, { cgroupsPath });
  assert.ok(b.config.linux.namespaces.some((n) => n.type === 'pid'), 'the init is a pid namespace\'s');
  const id = ctx.id('exiting');
  ok(ctx.rt(['run', '-d', id], { cwd: b.dir, input: '' }), 'run -d');
  const init = ctx.state(id).pid;
  const top = path.join(FREEZER, cgroupsPath);
  const held = path.join(top, 'held');
  let child;
  assert.ok(await waitUntil(() => (child = readPids(top).find((p) => p !== init))), 'the init\'s child');
  fs.mkdirSync(held);
  try {
    fs.writeFileSync(path.join(held, 'cgroup.procs'), String(child));
    fs.writeFileSync(path.join(held, 'freezer.state'), 'FROZEN');
    assert.ok(await waitUntil(() => freezerState(held) === 'FROZEN'), 'the child frozen');
    ok(ctx.rt(['kill', id, 'KILL']), 'kill KILL');
    // the init has begun to exit once it left the container's cgroup
    assert.ok(await waitUntil(() => !readPids(top).includes(init)), 'the init left its cgroup');
    assert.ok(!['Z', 'gone'].includes(pidState(init)), `the init waits for its namespace (state ${pidState(init)})`);
    for (const args of [['state', id], ['kill', id, '0'], ['list', '--format', 'json']]) {
      const r = ctx.rt(args);
      ok(r, `${args.join(' ')} while the init exits`);
      assert.is(r.stderr, '', `${args.join(' ')}: no warning`);
    }
    assert.is(ctx.state(id).status, 'running', 'the init has not ended yet');
  } finally {
    fs.writeFileSync(path.join(held, 'freezer.state'), 'THAWED');
  }
  assert.ok(await waitUntil(() => ctx.state(id).status === 'stopped'), 'stopped once the namespace has died');
  assert.ok(await waitUntil(() => readPids(held).length === 0), 'the child gone');
  fs.rmdirSync(held);
  ok(ctx.rt(['delete', id]), 'delete');
  assertClean(ctx, id, b, 'exiting init');
});

test.run();
