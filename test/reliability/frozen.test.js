'use strict';
// Frozen cgroups. A linux.cgroupsPath naming an existing cgroup whose freezer
// is FROZEN would freeze the init in the middle of its setup (tsrunc used to
// hang there for good): `create` and `run -d` refuse it within a bounded time
// with runc's words, "container's cgroup unexpectedly frozen", before they
// make anything, and leave the caller's cgroup as it was (as runc 1.1.5).
// A paused container: kill, kill --all and delete --force end within bounds
// and leave nothing; exec fails clearly; delete without --force refuses.
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const { ok, assertClean, waitUntil } = require('./lib');

const test = suite('frozen');
const ctx = h.createContext('rel-frozen');
h.install(test, ctx);

const BOUND_MS = 10000;
const FREEZER = h.cgroupHierarchies().find((m) => fs.existsSync(path.join(m, 'freezer.state')) || path.basename(m).split(',').includes('freezer'));

const freezerState = (dir) => fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim();

/** Runs the runtime and asserts it returned within BOUND_MS (killed at 2x so a hang fails instead of blocking the suite). */
function bounded(args, what) {
  const t0 = Date.now();
  const r = ctx.rt(args, { timeout: 2 * BOUND_MS });
  const ms = Date.now() - t0;
  assert.ok(r.signal === null && ms < BOUND_MS, `${what}: took ${ms} ms (signal ${r.signal}), the bound is ${BOUND_MS} ms\n${r.stderr}`);
  return { ...r, ms };
}

/** A v1 freezer cgroup made by the test, FROZEN; removed (thawed first) by `done()`. */
function frozenCgroup() {
  const name = `rel-fz-${h.rand()}`;
  const dir = path.join(FREEZER, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'freezer.state'), 'FROZEN');
  return {
    name,
    dir,
    done: () => {
      try {
        fs.writeFileSync(path.join(dir, 'freezer.state'), 'THAWED');
        fs.rmdirSync(dir);
      } catch {
        /* gone already */
      }
    },
  };
}

for (const cmd of [['create'], ['run', '-d']]) {
  test(`${cmd.join(' ')} with a cgroupsPath naming an existing FROZEN cgroup: refused within ${BOUND_MS / 1000} s, "container's cgroup unexpectedly frozen", the cgroup left as it was`, () => {
    if (!FREEZER) return skip('no v1 freezer hierarchy on this host');
    const frozen = frozenCgroup();
    try {
      const bundle = ctx.makeBundle({ cgroupsPath: `/${frozen.name}` });
      for (let i = 0; i < 3; i++) {
        const id = ctx.id('rel-fz');
        const r = bounded([...cmd, '--bundle', bundle.dir, id], `${cmd.join(' ')} #${i}`);
        assert.is(r.status, 1, `${cmd.join(' ')}: exit ${r.status}\n${r.stderr}`);
        const msg = h.errorMessage(r.stderr);
        assert.ok(msg.endsWith("container's cgroup unexpectedly frozen"), `${cmd.join(' ')}: ${msg}`);
        console.log(`\n[frozen] ${h.RUNTIME_NAME} ${cmd.join(' ')}: refused in ${r.ms} ms: ${msg}`);
        // the caller's cgroup as it was; nothing else made
        assert.ok(fs.existsSync(frozen.dir), `${cmd.join(' ')} removed the caller's cgroup ${frozen.dir}`);
        assert.is(freezerState(frozen.dir), 'FROZEN', `${cmd.join(' ')} changed the caller's cgroup`);
        const left = ctx.leftoversOf({ id, bundle }).filter((l) => !l.startsWith(`cgroup dir ${frozen.dir} `));
        assert.equal(left, [], `${cmd.join(' ')}: left behind:\n  ${left.join('\n  ')}`);
        assert.is(ctx.rt(['state', id]).status, 1, 'no container');
      }
    } finally {
      frozen.done();
    }
  });
}

/** A running (or, with `created`, created) container with a cgroupsPath, paused. */
async function pausedContainer(created = false) {
  const bundle = ctx.makeBundle({ cgroupsPath: `/rel-fz-${h.rand()}`, args: ['sh', '-c', 'sleep 100 & sleep 100'] });
  const id = ctx.id('rel-fz');
  ok(ctx.rt(['create', '--bundle', bundle.dir, id]), 'create');
  if (!created) ok(ctx.rt(['start', id]), 'start');
  ok(ctx.rt(['pause', id]), 'pause');
  assert.is(ctx.state(id).status, 'paused');
  return { id, bundle };
}

test('a paused container: kill KILL returns within bounds, delete --force ends it and leaves nothing', async () => {
  if (!FREEZER) return skip('no v1 freezer hierarchy on this host');
  const { id, bundle } = await pausedContainer();
  const k = bounded(['kill', id, 'KILL'], 'kill of a paused container');
  ok(k, 'kill KILL of a paused container');
  const d = bounded(['delete', '--force', id], 'delete --force of a paused container');
  ok(d, 'delete --force');
  console.log(`\n[frozen] ${h.RUNTIME_NAME}: kill of a paused container ${k.ms} ms, delete --force ${d.ms} ms`);
  assertClean(ctx, id, bundle, 'paused, killed, delete --force');
});

test('a paused container: kill --all KILL returns within bounds; delete --force leaves nothing', async () => {
  if (!FREEZER) return skip('no v1 freezer hierarchy on this host');
  const { id, bundle } = await pausedContainer();
  ok(bounded(['kill', '--all', id, 'KILL'], 'kill --all of a paused container'), 'kill --all');
  ok(bounded(['delete', '--force', id], 'delete --force'), 'delete --force');
  assertClean(ctx, id, bundle, 'paused, kill --all, delete --force');
});

test('a paused container: delete --force alone ends it within bounds and leaves nothing; the id works again', async () => {
  if (!FREEZER) return skip('no v1 freezer hierarchy on this host');
  for (const created of [false, true]) {
    const { id, bundle } = await pausedContainer(created);
    const del = bounded(['delete', '--force', id], `delete --force of a paused ${created ? 'created' : 'running'} container`);
    ok(del, 'delete --force');
    console.log(`\n[frozen] ${h.RUNTIME_NAME}: delete --force of a paused ${created ? 'created' : 'running'} container: ${del.ms} ms`);
    assertClean(ctx, id, bundle, 'paused, delete --force');
    ok(ctx.rt(['create', '--bundle', bundle.dir, id]), 'create of the same id');
    ok(ctx.rt(['delete', '--force', id]), 'delete --force');
    assertClean(ctx, id, bundle, 'the second container');
  }
});

test('a paused container: exec fails within bounds and says it is paused; delete without --force refuses; resume runs it again', async () => {
  if (!FREEZER) return skip('no v1 freezer hierarchy on this host');
  const { id, bundle } = await pausedContainer();
  const e = bounded(['exec', id, 'true'], 'exec into a paused container');
  assert.is(e.status, 255, `exec: exit ${e.status}\n${e.stderr}`);
  const msg = h.errorMessage(e.stderr);
  assert.ok(msg.startsWith('exec failed: cannot exec in a paused container'), `exec: ${msg}`);
  const d = bounded(['delete', id], 'delete of a paused container');
  assert.is(d.status, 1, `delete: exit ${d.status}\n${d.stderr}`);
  assert.match(h.errorMessage(d.stderr), /is not stopped: paused$/);
  assert.is(ctx.state(id).status, 'paused', 'still paused');
  ok(ctx.rt(['resume', id]), 'resume');
  assert.is(ctx.state(id).status, 'running');
  ok(ctx.rt(['exec', id, 'true']), 'exec after resume');
  ok(ctx.rt(['delete', '--force', id]), 'delete --force');
  assert.ok(await waitUntil(() => ctx.leftoversOf({ id, bundle }).length === 0, 5000), 'cleared');
  assertClean(ctx, id, bundle, 'resumed, delete --force');
});

test.run();
