'use strict';
// SIGKILL of the runtime at evenly spread moments of `create`, `run -d`,
// `exec` and `delete --force`, not only at the fault points: a caller (a shim
// timeout, the OOM killer) kills it whenever. For each command its full
// duration D is measured first, then it is killed t = 0, d, 2d, ... D after it
// was spawned (d = D/N, N >= 40 and d <= 5 ms); each kill is followed by
// `delete --force ID` (exit 0) and the check that nothing is left: no process,
// mount, cgroup dir, state dir, fd into the state dir or bundle; the poststop
// hook ran once when a create hook had run: never lost, and twice at most when
// the kill landed in delete's own poststop hooks. Prints tries and leftovers.
const fs = require('fs');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { ok, leftovers, recordingHooks, hookRuns } = require('./lib');

const test = suite('kill-moments');
const ctx = h.createContext('rel-kill-moments');
h.install(test, ctx);

const MIN_MOMENTS = 40;
const MAX_STEP_MS = 5;

/** A bundle with hook recorders; each try gets a cgroupsPath of its own, so what one left is never blamed on another. */
function hookedBundle() {
  const hooksFile = ctx.tmp('hooks');
  const bundle = ctx.makeBundle({ edit: recordingHooks(hooksFile) });
  const fresh = () => {
    const c = JSON.parse(JSON.stringify(bundle.config));
    c.linux.cgroupsPath = `/rel-km-${h.rand()}`;
    ctx.writeConfig(bundle, c);
    fs.writeFileSync(hooksFile, '');
  };
  return { bundle, hooksFile, fresh };
}

/** Spawns the runtime and SIGKILLs it `t` ms later (at once for 0); resolves to its result and whether the kill came first. */
async function killAt(args, t) {
  const { child, done } = ctx.rtAsync(args, { timeout: 30000 });
  let timer;
  if (t === 0) child.kill('SIGKILL');
  else timer = setTimeout(() => child.kill('SIGKILL'), t);
  const r = await done;
  clearTimeout(timer);
  return r;
}

/** Milliseconds from spawn to exit of an unkilled run (the median of 3). */
async function duration(prepare, args, finish) {
  const times = [];
  for (let i = 0; i < 3; i++) {
    const id = await prepare();
    const t0 = Date.now();
    const r = await ctx.rtAsync(args(id)).done;
    times.push(Date.now() - t0);
    ok(r, `unkilled ${args(id).join(' ')}`);
    await finish(id);
  }
  return times.sort((a, b) => a - b)[1];
}

/**
 * Kills `args(id)` at evenly spread moments over its duration; `prepare()`
 * makes what the command needs and returns the id. Asserts nothing was left
 * after any try, with the list of what was.
 */
async function spread(name, { prepare, args, hooks, maxPoststop = 1 }) {
  const cleanUp = (id) => ok(ctx.rt(['delete', '--force', id]), 'delete --force');
  const D = await duration(prepare, args, cleanUp);
  const n = Math.max(MIN_MOMENTS, Math.ceil(D / MAX_STEP_MS));
  const d = D / n;
  const found = [];
  const outcomes = { killed: 0, finished: 0 };
  let twice = 0;
  for (let i = 0; i <= n; i++) {
    const t = Math.round(i * d);
    const id = await prepare();
    const bundle = hooks.bundle;
    const r = await killAt(args(id), t);
    outcomes[r.signal === 'SIGKILL' ? 'killed' : 'finished']++;
    const ranBefore = hookRuns(hooks.hooksFile);
    const del = ctx.rt(['delete', '--force', id]);
    const problems = [];
    if (del.status !== 0) problems.push(`delete --force exit ${del.status} signal ${del.signal}: ${del.stderr.trim()}`);
    else if (del.stderr) problems.push(`delete --force said: ${del.stderr.trim()}`);
    problems.push(...leftovers(ctx, id, bundle));
    const runs = hookRuns(hooks.hooksFile);
    const createHooksRan = ranBefore.prestart + ranBefore.createRuntime > 0;
    if (createHooksRan && runs.poststop === 0) problems.push(`create hooks ran (${JSON.stringify(ranBefore)}) but the poststop hook never ran`);
    if (runs.poststop > maxPoststop) problems.push(`the poststop hook ran ${runs.poststop} times`);
    if (runs.poststop > 1) twice++;
    if (problems.length) found.push(`t=${t}ms (${r.signal || `exit ${r.status}`}): ${problems.join('; ')}`);
  }
  const tries = n + 1;
  console.log(`\n[kill-moments] ${name}: duration ${D} ms, step ${d.toFixed(2)} ms, ${tries} tries (${outcomes.killed} killed, ${outcomes.finished} finished first), ${found.length} with leftovers${twice ? `, poststop ran twice after ${twice}` : ''}`);
  assert.equal(found, [], `${name}: ${found.length} of ${tries} kills left something:\n  ${found.join('\n  ')}`);
}

test('create: SIGKILL at evenly spread moments, delete --force leaves nothing', async () => {
  const hooks = hookedBundle();
  await spread('create', {
    hooks,
    prepare: async () => {
      hooks.fresh();
      return ctx.id('rel-km');
    },
    args: (id) => ['create', '--bundle', hooks.bundle.dir, id],
  });
});

test('run -d: SIGKILL at evenly spread moments, delete --force leaves nothing', async () => {
  const hooks = hookedBundle();
  await spread('run -d', {
    hooks,
    prepare: async () => {
      hooks.fresh();
      return ctx.id('rel-km');
    },
    args: (id) => ['run', '-d', '--bundle', hooks.bundle.dir, id],
  });
});

/** A fresh running container of the hooked bundle (what exec and delete --force are killed in). */
function runningContainer(hooks) {
  hooks.fresh();
  const id = ctx.id('rel-km');
  ok(ctx.rt(['run', '-d', '--bundle', hooks.bundle.dir, id]), 'run -d');
  return id;
}

test('exec into a running container: SIGKILL at evenly spread moments, delete --force leaves nothing', async () => {
  const hooks = hookedBundle();
  await spread('exec', {
    hooks,
    prepare: async () => runningContainer(hooks),
    args: (id) => ['exec', id, 'true'],
  });
});

test('delete --force of a running container: SIGKILL at evenly spread moments, delete --force again leaves nothing', async () => {
  const hooks = hookedBundle();
  await spread('delete --force', {
    hooks,
    prepare: async () => runningContainer(hooks),
    args: (id) => ['delete', '--force', id],
    // a delete killed while its poststop hooks run leaves them owed: the next one runs them again
    maxPoststop: 2,
  });
});

test.run();
