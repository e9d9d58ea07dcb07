'use strict';
// A container whose state.json is damaged (a full disk, a crash in the middle
// of a write by some other tool, an old or foreign file), for a created and a
// running container: empty, `{}`, `null`, truncated, garbage bytes, wrong id,
// no config, a pid that is a live process of this test's with its start time
// (the state looks consistent but names the wrong process), and a pid reused
// by another process (the recorded start time differs); some with owned.json
// removed too (then the cgroup named after the id is what tells the
// container's processes).
// Every command that reads the state fails with exactly one log line (never a
// stack trace), naming the container and `delete --force`; `list` lists the
// others and warns; `delete --force` exits 0, kills the container's real
// processes, leaves nothing, and the id works again. The process of the test
// that the state names is never signalled. (The one state that still reads as
// a container's: a reused pid with no owned.json to say otherwise, is a
// stopped container, as in runc.)
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const { ok, assertClean, startTime } = require('./lib');

const test = suite('corrupt-state');
const ctx = h.createContext('rel-corrupt');
h.install(test, ctx);

// runc's state.json names the init's pid and start time differently
const PID_KEY = h.IS_RUNC ? 'init_process_pid' : 'pid';
const START_KEY = h.IS_RUNC ? 'init_process_start' : 'pidStartTime';

const edit = (fn) => (text) => {
  const o = JSON.parse(text);
  fn(o);
  return JSON.stringify(o);
};

/**
 * How state.json is damaged. `canary` is a live process of the test's that
 * is not the container. `consistent`: the file still reads as a state.
 */
const CORRUPTIONS = {
  'empty': () => '',
  '{}': () => '{}',
  'null': () => 'null',
  'truncated JSON': (text) => text.slice(0, Math.floor(text.length / 2)),
  'garbage bytes': () => Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x00, 0x13, 0x80, 0x7b, 0x0a, 0x9c]),
  'wrong id': edit((o) => {
    o.id = 'rel-someone-else';
  }),
  'no config': edit((o) => {
    delete o.config;
  }),
  'the pid of another live process, with its start time': (text, canary) => edit((o) => {
    o[PID_KEY] = canary.pid;
    o[START_KEY] = h.IS_RUNC ? Number(startTime(canary.pid)) : startTime(canary.pid);
  })(text),
  'a pid reused by another process (start time differs)': (text, canary) => edit((o) => {
    o[PID_KEY] = canary.pid;
  })(text),
};

/** A process of the test's that a damaged state names: it must outlive every command. */
function canaryProcess() {
  const child = ctx.spawnHelper('sleep', ['1000']);
  const end = Date.now() + 5000;
  while (!startTime(child.pid) && Date.now() < end) h.sleepMs(5);
  return { pid: child.pid, start: startTime(child.pid), alive: () => startTime(child.pid) !== undefined && h.pidAlive(child.pid) };
}

/** One line, an error, naming the container and how to remove it. */
function checkRefusal(r, what, id, status = 1) {
  assert.is(r.status, status, `${what}: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.not.match(r.stderr, /\n\s+at /, `${what}: a stack trace:\n${r.stderr}`);
  const msg = h.errorMessage(r.stderr);
  if (h.IS_TSRUNC) {
    assert.ok(msg.includes(id), `${what}: the message should name the container: ${msg}`);
    assert.ok(msg.includes('delete --force'), `${what}: the message should say to use delete --force: ${msg}`);
  }
  return msg;
}

/**
 * Makes the container (`created` or `running`), damages its state, runs every
 * command against it, then delete --force, and checks what is left.
 */
async function damaged(other, kind, corruption, { removeOwned = false, seenAs = 'corrupt' } = {}) {
  const what = `${kind}, state.json ${corruption}${removeOwned ? ', no owned.json' : ''}`;
  const canary = canaryProcess();
  // the default cgroup is named after the id (what tells the processes without owned.json); else a cgroupsPath
  const bundle = removeOwned ? ctx.makeBundle() : ctx.makeBundle({ cgroupsPath: `/rel-cs-${h.rand()}` });
  const id = ctx.id('rel-cs');
  ok(ctx.rt(['create', '--bundle', bundle.dir, id]), `${what}: create`);
  if (kind === 'running') ok(ctx.rt(['start', id]), `${what}: start`);
  const real = ctx.state(id).pid;
  const statePath = path.join(ctx.root, id, 'state.json');
  fs.writeFileSync(statePath, CORRUPTIONS[corruption](fs.readFileSync(statePath, 'utf8'), canary));
  if (removeOwned) fs.rmSync(path.join(ctx.root, id, 'owned.json'), { force: true });

  const alive = (cmd) => {
    assert.ok(canary.alive(), `${what}: ${cmd} killed the process the state names (pid ${canary.pid}), which is not the container's`);
    assert.ok(h.pidAlive(real), `${what}: ${cmd} ended the container's init`);
  };
  if (seenAs === 'stopped') {
    // the recorded init is gone (its pid now names another process) and nothing says otherwise: stopped, as runc
    const r = ctx.rt(['state', id]);
    ok(r, `${what}: state`);
    const st = JSON.parse(r.stdout);
    assert.equal([st.status, st.pid], ['stopped', 0], `${what}: state`);
    const said = {
      kill: h.errorMessage(ctx.rt(['kill', id, 'KILL']).stderr),
      exec: h.errorMessage(ctx.rt(['exec', id, 'true']).stderr),
      start: h.errorMessage(ctx.rt(['start', id]).stderr),
      pause: h.errorMessage(ctx.rt(['pause', id]).stderr),
    };
    assert.equal(said, { kill: 'container not running', exec: 'exec failed: cannot exec in a stopped container', start: 'cannot start a container that has stopped', pause: 'container not running' }, what);
    alive('the commands');
    const l = ctx.rt(['list', '-q']);
    ok(l, `${what}: list`);
    assert.equal(l.stdout.split('\n').filter(Boolean).sort(), [id, other].sort(), `${what}: list -q`);
  } else {
    const cmds = [
      [['state', id], 1],
      [['delete', id], 1],
      [['kill', id, 'KILL'], 1],
      [['exec', id, 'true'], 255], // exec's own failures exit 255, as runc's
      [['start', id], 1],
      [['pause', id], 1],
    ];
    for (const [args, status] of cmds) {
      const r = ctx.rt(args);
      const msg = checkRefusal(r, `${what}: ${args[0]}`, id, status);
      if (args[0] === 'exec' && h.IS_TSRUNC) assert.ok(msg.startsWith('exec failed: '), `${what}: exec: ${msg}`);
      alive(args[0]);
    }

    // list: the others, and a warning about this one
    for (const fmt of [[], ['--format', 'json'], ['-q']]) {
      const r = ctx.rt(['list', ...fmt]);
      ok(r, `${what}: list ${fmt.join(' ')}`);
      assert.ok(r.stdout.includes(other), `${what}: list ${fmt.join(' ')} should show the healthy container:\n${r.stdout}`);
      assert.not.ok(r.stdout.includes(id), `${what}: list ${fmt.join(' ')} should not show the broken one:\n${r.stdout}`);
      if (fmt[1] === 'json') assert.is(JSON.parse(r.stdout).length, 1, `${what}: list --format json`);
      const lines = h.parseTextLog(r.stderr);
      assert.is(lines.length, 1, `${what}: list ${fmt.join(' ')}: one warning line:\n${r.stderr}`);
      assert.is(lines[0].level, 'warning', `${what}: list: ${r.stderr}`);
      assert.ok(lines[0].msg.includes(id), `${what}: list's warning names the container: ${r.stderr}`);
    }
  }

  const del = ctx.rt(['delete', '--force', id]);
  ok(del, `${what}: delete --force`);
  assert.is(del.stderr, '', `${what}: delete --force should be silent`);
  assert.ok(canary.alive(), `${what}: delete --force killed the process the state names (pid ${canary.pid}), which is not the container's`);
  assertClean(ctx, id, bundle, `${what}: after delete --force`);
  assert.is(ctx.state(other).status, 'created', `${what}: the healthy container is untouched`);

  // the id works again
  ok(ctx.rt(['create', '--bundle', bundle.dir, id]), `${what}: create of the same id`);
  ok(ctx.rt(['delete', '--force', id]), `${what}: delete --force of the new container`);
  assertClean(ctx, id, bundle, `${what}: at the end`);
}

/** Runs `fn(tryCase)`, tryCase(...damaged's args) trying a case with a healthy container beside it (list must show it); removes that one after. */
async function withHealthyNeighbour(fn) {
  const bundle = ctx.makeBundle();
  const other = ctx.id('rel-cs-ok');
  ok(ctx.rt(['create', '--bundle', bundle.dir, other]), 'create of the healthy container');
  // every case is tried, the failures reported together
  const failures = [];
  const tryCase = async (...args) => {
    try {
      await damaged(other, ...args);
    } catch (e) {
      failures.push(e.message);
    }
  };
  await fn(tryCase);
  assert.equal(failures, [], `${failures.length} case(s) failed:\n\n${failures.join('\n\n')}`);
  assert.is(ctx.state(other).status, 'created', 'the healthy container is untouched');
  ok(ctx.rt(['delete', '--force', other]), 'delete --force of the healthy container');
  assertClean(ctx, other, bundle, 'the healthy container');
}

const UNREADABLE = ['empty', '{}', 'null', 'truncated JSON', 'garbage bytes'];
const INVALID = ['wrong id', 'no config'];
const WRONG_PID = ['the pid of another live process, with its start time', 'a pid reused by another process (start time differs)'];

for (const kind of ['created', 'running']) {
  test(`${kind} container, state.json unreadable (${UNREADABLE.join(', ')}): one-line errors, list warns, delete --force clears it`, () =>
    withHealthyNeighbour(async (tryCase) => {
      for (const c of UNREADABLE) await tryCase(kind, c);
    }));
  test(`${kind} container, state.json unreadable and owned.json gone: the cgroup named after the id tells delete --force the processes`, async () => {
    if (!h.IS_TSRUNC) return skip(`owned.json is tsrunc's (runtime: ${h.RUNTIME_NAME})`);
    await withHealthyNeighbour(async (tryCase) => {
      for (const c of UNREADABLE) await tryCase(kind, c, { removeOwned: true });
    });
  });
  test(`${kind} container, state.json valid JSON but not this container's (${INVALID.join(', ')})`, () =>
    withHealthyNeighbour(async (tryCase) => {
      for (const c of INVALID) await tryCase(kind, c);
      if (h.IS_TSRUNC) await tryCase(kind, 'no config', { removeOwned: true });
    }));
  test(`${kind} container, state.json names another live process: it is never signalled`, () =>
    withHealthyNeighbour(async (tryCase) => {
      for (const c of WRONG_PID) await tryCase(kind, c);
      if (!h.IS_TSRUNC) return;
      // without owned.json: a live pid outside the container's cgroup is not its init; a dead one is a stopped container
      await tryCase(kind, WRONG_PID[0], { removeOwned: true });
      await tryCase(kind, WRONG_PID[1], { removeOwned: true, seenAs: 'stopped' });
    }));
}

test.run();
