'use strict';
// Socket activation (sd_listen_fds(3)) as runc 1.1.5 does it: when
// $LISTEN_PID is the runtime's own pid, `create` and `run` pass fds
// 3 .. 3+$LISTEN_FDS-1 to the container's process, append LISTEN_FDS=<n> and
// LISTEN_PID=1 to its environment, and number --preserve-fds after them;
// `exec` ignores $LISTEN_FDS. The caller sets LISTEN_PID to the runtime's pid
// by starting it through `sh -c 'export LISTEN_PID=$$ LISTEN_FDS=2; exec
// RUNTIME ...'` (the runtime keeps the shell's pid), with real files as fds
// 3, 4, ... Also: --preserve-fds (or LISTEN_FDS) reaching past the fds the
// caller passed is refused, and the error names the flag.
// Validated against runc:
//   TSRUNC_TEST_RUNTIME=/usr/sbin/runc node node_modules/uvu/bin.js test/e2e listen-fds
const fs = require('fs');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');

const test = suite('listen-fds');
const ctx = h.createContext('listen-fds');
h.install(test, ctx);

const ok = (r, what) => assert.is(r.status, 0, `${what}: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

/** runc 1.1.5 does otherwise: logged, and the check that follows is not made for runc. */
function runcDeviation(what) {
  if (!h.IS_RUNC) return false;
  console.log(`KNOWN runc 1.1.5 deviation, not checked: ${what}`);
  return true;
}

/** A sh line that starts the runtime with LISTEN_FDS=n and LISTEN_PID = its own pid ('$$'), or `pid`. */
const listening = (n, pid = '$$') => `export LISTEN_PID=${pid} LISTEN_FDS=${n}; exec "$@"`;

// What the container's process has: fds 3..6 (their content) and its LISTEN_* variables with their line in its environment.
const REPORT = 'for n in 3 4 5 6; do if [ -e /proc/$$/fd/$n ]; then echo "fd$n:$(cat <&$n)"; else echo "no fd$n"; fi; done; '
  + 'echo "env:$(tr \'\\0\' \'\\n\' < /proc/$$/environ | grep -n ^LISTEN_ | tr \'\\n\' \' \')"';

/** The report's lines as { fds: 'fd3:... no fd4 ...', env: '3:LISTEN_FDS=2 4:LISTEN_PID=1' }. */
function parseReport(text) {
  const lines = text.split('\n');
  return {
    fds: lines.filter((l) => /^(fd\d|no fd\d)/.test(l)).join(' '),
    env: ((lines.find((l) => l.startsWith('env:')) || '').slice(4)).trim(),
  };
}

const CONTENTS = ['listen-a', 'listen-b', 'preserved-c'];
const ENV_LEN = h.defaultConfig().process.env.length;
/** LISTEN_FDS=n and LISTEN_PID=1 appended after the config's env (grep -n numbers its lines). */
const appended = (n) => `${ENV_LEN + 1}:LISTEN_FDS=${n} ${ENV_LEN + 2}:LISTEN_PID=1`;

test('run with LISTEN_PID = its pid and LISTEN_FDS=2: fds 3 and 4 reach the process, LISTEN_FDS=2 LISTEN_PID=1 appended to its env', () => {
  const b = ctx.shBundle(REPORT);
  const id = ctx.id('lfd');
  const r = ctx.withOpenFiles(CONTENTS.slice(0, 2), (fds) => ctx.rt(['run', '--bundle', b.dir, id], { sh: listening(2), extraFds: fds }));
  ok(r, 'run');
  const rep = parseReport(r.stdout);
  assert.is(rep.fds, 'fd3:listen-a fd4:listen-b no fd5 no fd6', r.stdout);
  assert.is(rep.env, appended(2), r.stdout);
  ctx.leftovers({ id, bundle: b });
});

test('create + start with LISTEN_FDS=2: the fds and the variables reach the process started later', async () => {
  const b = ctx.shBundle(REPORT);
  const id = ctx.id('lfd');
  const out = ctx.tmp('out');
  const r = ctx.withOpenFiles(CONTENTS.slice(0, 2), (fds) => ctx.rt(['create', '--bundle', b.dir, id], { sh: listening(2), extraFds: fds, stdoutPath: out }));
  ok(r, 'create');
  ok(ctx.rt(['start', id]), 'start');
  await ctx.waitStatus(id, 'stopped');
  const rep = parseReport(fs.readFileSync(out, 'utf8'));
  assert.is(rep.fds, 'fd3:listen-a fd4:listen-b no fd5 no fd6');
  assert.is(rep.env, appended(2));
  ok(ctx.rt(['delete', id]), 'delete');
  ctx.leftovers({ id, bundle: b });
});

test('run with LISTEN_FDS=2 and --preserve-fds 1: fds 3, 4 are the listen fds, 5 the preserved one; LISTEN_FDS stays 2', () => {
  const b = ctx.shBundle(REPORT);
  const id = ctx.id('lfd');
  const r = ctx.withOpenFiles(CONTENTS, (fds) => ctx.rt(['run', '--preserve-fds', '1', '--bundle', b.dir, id], { sh: listening(2), extraFds: fds }));
  ok(r, 'run --preserve-fds 1');
  const rep = parseReport(r.stdout);
  assert.is(rep.fds, 'fd3:listen-a fd4:listen-b fd5:preserved-c no fd6', r.stdout);
  assert.is(rep.env, appended(2), r.stdout);
  ctx.leftovers({ id, bundle: b });
});

test('LISTEN_PID that is not the runtime\'s pid: nothing is passed, no LISTEN_* variable', () => {
  for (const pid of ['1', '$PPID', '$(($$ + 1))']) {
    const b = ctx.shBundle(REPORT);
    const id = ctx.id('lfd');
    const r = ctx.withOpenFiles(CONTENTS.slice(0, 2), (fds) => ctx.rt(['run', '--bundle', b.dir, id], { sh: listening(2, pid), extraFds: fds }));
    ok(r, `run with LISTEN_PID=${pid}`);
    const rep = parseReport(r.stdout);
    assert.is(rep.fds, 'no fd3 no fd4 no fd5 no fd6', `LISTEN_PID=${pid}: ${r.stdout}`);
    assert.is(rep.env, '', `LISTEN_PID=${pid}: ${r.stdout}`);
    ctx.leftovers({ id, bundle: b });
  }
});

/** A running container whose init is `sleep`; with `listen`, it was run with LISTEN_FDS=2 and two fds. */
function running(listen) {
  const b = ctx.makeBundle({ args: ['sleep', '1000'] });
  const id = ctx.id('lfd');
  const r = listen
    ? ctx.withOpenFiles(CONTENTS.slice(0, 2), (fds) => ctx.rt(['run', '-d', '--bundle', b.dir, id], { sh: listening(2), extraFds: fds }))
    : ctx.rt(['run', '-d', '--bundle', b.dir, id]);
  ok(r, 'run -d');
  return { b, id };
}

test('exec ignores LISTEN_FDS: with LISTEN_PID = its pid and fds 3, 4, the process gets neither fds nor variables', () => {
  const c = running(false);
  const r = ctx.withOpenFiles(CONTENTS.slice(0, 2), (fds) => ctx.rt(['exec', c.id, 'sh', '-c', REPORT], { sh: listening(2), extraFds: fds }));
  ok(r, 'exec');
  const rep = parseReport(r.stdout);
  assert.is(rep.fds, 'no fd3 no fd4 no fd5 no fd6', r.stdout);
  assert.is(rep.env, '', r.stdout);
});

test('exec --preserve-fds 1 with LISTEN_FDS=2: fd 3 is the first fd the caller passed, not shifted by LISTEN_FDS', () => {
  const c = running(false);
  const r = ctx.withOpenFiles(CONTENTS.slice(0, 2), (fds) => ctx.rt(['exec', '--preserve-fds', '1', c.id, 'sh', '-c', REPORT], { sh: listening(2), extraFds: fds }));
  ok(r, 'exec --preserve-fds 1');
  const rep = parseReport(r.stdout);
  assert.is(rep.fds, 'fd3:listen-a no fd4 no fd5 no fd6', r.stdout);
  assert.is(rep.env, '', r.stdout);
});

test('exec into a container run with LISTEN_FDS=2: the exec\'d process has no LISTEN_* variable (they were the init\'s)', () => {
  const c = running(true);
  const r = ctx.rt(['exec', c.id, 'sh', '-c', REPORT]);
  ok(r, 'exec');
  const rep = parseReport(r.stdout);
  assert.is(rep.fds, 'no fd3 no fd4 no fd5 no fd6', r.stdout);
  assert.is(rep.env, '', `the exec'd process inherited the init's socket-activation variables: ${r.stdout}`);
});

// past the caller's fds: the runtime's own fds must never be handed over (test/security/fds-cwd.test.js attacks it)
test('run --preserve-fds 2 with only fd 3 passed: exit 1, the error names --preserve-fds, nothing left', () => {
  const b = ctx.shBundle(REPORT);
  const id = ctx.id('lfd');
  const r = ctx.withOpenFiles(CONTENTS.slice(0, 1), (fds) => ctx.rt(['run', '--preserve-fds', '2', '--bundle', b.dir, id], { extraFds: fds }));
  if (runcDeviation(`run --preserve-fds 2 with only fd 3 passed: runc does not check that the caller passed fd 4 and hands over whatever it is (exit ${r.status}, ${JSON.stringify(r.stdout.split('\n')[1] || '')})`)) return;
  assert.is(r.status, 1, `run: ${r.stdout}\n${r.stderr}`);
  assert.match(h.errorMessage(r.stderr), /--preserve-fds/);
  assert.is(r.stdout, '', 'the process never ran');
  ctx.leftovers({ id, bundle: b });
});

test('create --preserve-fds 1 after LISTEN_FDS=2 with only fds 3, 4 passed: exit 1, the error names --preserve-fds, nothing left', () => {
  const b = ctx.shBundle(REPORT);
  const id = ctx.id('lfd');
  const r = ctx.withOpenFiles(CONTENTS.slice(0, 2), (fds) => ctx.rt(['create', '--preserve-fds', '1', '--bundle', b.dir, id], { sh: listening(2), extraFds: fds }));
  if (runcDeviation(`create --preserve-fds 1 after LISTEN_FDS=2 with fds 3, 4 passed: runc does not check that the caller passed fd 5 and hands over whatever it is (exit ${r.status})`)) return;
  assert.is(r.status, 1, `create: ${r.stderr}`);
  assert.match(h.errorMessage(r.stderr), /--preserve-fds/);
  ctx.leftovers({ id, bundle: b });
});

test('run with LISTEN_FDS=3 and only fds 3, 4 passed: exit 1, the error names LISTEN_FDS, nothing left', () => {
  const b = ctx.shBundle(REPORT);
  const id = ctx.id('lfd');
  const r = ctx.withOpenFiles(CONTENTS.slice(0, 2), (fds) => ctx.rt(['run', '--bundle', b.dir, id], { sh: listening(3), extraFds: fds }));
  if (runcDeviation(`LISTEN_FDS=3 with fds 3, 4 passed: runc does not check that the caller passed fd 5 and hands over whatever it is (exit ${r.status}, ${JSON.stringify(r.stdout.split('\n')[2] || '')})`)) return;
  assert.is(r.status, 1, `run: ${r.stdout}\n${r.stderr}`);
  assert.match(h.errorMessage(r.stderr), /LISTEN_FDS/);
  assert.is(r.stdout, '', 'the process never ran');
  ctx.leftovers({ id, bundle: b });
});

test('exec --preserve-fds 2 with only fd 3 passed: exit 255, the error names --preserve-fds, no process left in the container', () => {
  const c = running(false);
  const init = ctx.state(c.id).pid;
  const r = ctx.withOpenFiles(CONTENTS.slice(0, 1), (fds) => ctx.rt(['exec', '--preserve-fds', '2', c.id, 'sh', '-c', REPORT], { extraFds: fds }));
  if (runcDeviation(`exec --preserve-fds 2 with only fd 3 passed: runc does not check that the caller passed fd 4 and hands over whatever it is (exit ${r.status}, ${JSON.stringify(r.stdout.split('\n')[1] || '')})`)) return;
  assert.is(r.status, 255, `exec: ${r.stdout}\n${r.stderr}`);
  assert.match(h.errorMessage(r.stderr), /--preserve-fds/);
  assert.is(r.stdout, '', 'the process never ran');
  const ps = ctx.rt(['ps', '--format', 'json', c.id]);
  assert.equal(JSON.parse(ps.stdout), [init], 'processes left in the container');
});

test.run();
