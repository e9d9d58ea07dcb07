'use strict';
// The container's terminal reached through paths the container controls:
// the CVE-2025-52565 class. A runtime that opens /dev/ptmx (a symlink to
// pts/ptmx), takes the pty's NUMBER with TIOCGPTN, then opens "/dev/pts/N"
// by path as the process's stdio and bind-mounts "/dev/pts/N" by path onto
// /dev/console, uses whatever files are at those paths when it looks.
//
// The attack: the config bind-mounts a host directory D at /dev/pts (a
// /dev/pts shared with another container, which writes into D), and mounts
// a devpts instance of its own at /dev/pts2. D/ptmx is a symlink to
// /dev/pts2/ptmx, so the runtime gets a real master and a number; D/0..D/3,
// where the runtime looks for the slave, are symlinks the attacker chose:
//   - to /marker, a regular file of the rootfs;
//   - to /dev/pts2/ptmx: a new master of the other devpts, not a slave;
//   - switched by another container, in a loop, between /dev/pts2/0 (the
//     real slave) and /marker: a runtime that opens the slave and binds the
//     console in two lookups can get the real slave for stdio and the marker
//     on /dev/console.
// The container's process (payloads/ttycheck.c, terminal: true) reports
// from inside what its fds 0, 1, 2 and /dev/console are. Each must be the
// same pty slave (char major 136-143, on devpts), never the marker; or the
// runtime refuses: create/run exit 1 (exec 255) and nothing is left. The
// runtime is driven attached in tmux (run, exec --tty) and detached with
// --console-socket (create + start); a control with the ordinary /dev/pts
// shows the check passes on a real terminal and that the caller's terminal
// is the one the process writes to. Runs against the tsrunc copy and runc
// 1.1.5 (see KNOWN_RUNC).
const fs = require('fs');
const path = require('path');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const lib = require('./lib');

const DEVPTS_MAGIC = '0x1cd1';
const MARKER = '/marker';
const MARKER_TEXT = 'the marker: never a terminal\n';
const SLAVE_NAMES = ['0', '1', '2', '3'];
const RACE_ROUNDS = 60;
const RACE_TIME_MS = 60000;

// Measured with runc 1.1.5+ds1-1+deb12u1 (Debian 12): it bind-mounts
// "/dev/pts/N" onto /dev/console by path, then opens "/dev/pts/N" by path for
// stdio; with D/N linked to a master, both are that master; with D/N linked to
// /marker, the console bind lands the marker on /dev/console and only the
// failing TIOCSCTTY on it stops create.
const RUNC_PATHS = 'runc 1.1.5 opens /dev/ptmx and "/dev/pts/N" and binds "/dev/pts/N" onto /dev/console by path: the links the container put in /dev/pts decide its terminal';
const KNOWN_RUNC = {
  'run in tmux, /dev/pts/N linked to another devpts\'s ptmx: the terminal is a pty slave or run is refused': RUNC_PATHS,
  'create --console-socket, /dev/pts/N linked to another devpts\'s ptmx: the terminal is a pty slave or create is refused': RUNC_PATHS,
  'exec --tty in tmux, /dev/pts/N linked to another devpts\'s ptmx: the terminal is a pty slave or exec is refused': RUNC_PATHS,
  'create --console-socket while another container switches /dev/pts/0 between the real slave and the marker: the marker never becomes the console': {
    weakness: `${RUNC_PATHS}; the bind onto /dev/console and the open for stdio are two lookups of "/dev/pts/0"`,
    racy: true,
  },
};

/** The payload's report: { fd0, fd1, fd2, console: { type, rdev, dev, ino, fs, tty } | { error }, marker: { dev, ino } | { error } }. */
function parseReport(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const [name, ...fields] = line.split(' ');
    if (!name) continue;
    out[name] = Object.fromEntries(fields.map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
  }
  return out;
}

const LABELS = { fd0: 'fd 0', fd1: 'fd 1', fd2: 'fd 2', console: '/dev/console' };

/**
 * What is wrong with the terminal the report describes (empty: nothing).
 * withConsole: /dev/console must be the terminal too (init); otherwise (exec)
 * it only must not be the marker.
 */
function terminalProblems(report, withConsole) {
  const problems = [];
  const marker = report.marker;
  if (!marker || marker.error) return [`the payload could not stat ${MARKER}: ${marker ? marker.error : 'no line'}`];
  const names = withConsole ? ['fd0', 'fd1', 'fd2', 'console'] : ['fd0', 'fd1', 'fd2'];
  for (const name of names) {
    const f = report[name];
    if (!f || f.error) {
      problems.push(`${LABELS[name]}: ${f ? f.error : 'not reported'}`);
      continue;
    }
    const major = Number(f.rdev.split(':')[0]);
    if (`${f.dev}:${f.ino}` === `${marker.dev}:${marker.ino}`) problems.push(`${LABELS[name]} is the marker file ${MARKER} (${f.type})`);
    else if (f.type !== 'chr' || major < 136 || major > 143 || f.fs !== DEVPTS_MAGIC) {
      problems.push(`${LABELS[name]} is not a pty slave on devpts: ${f.type} ${f.rdev} on fs ${f.fs}`);
    }
  }
  if (!withConsole && report.console && !report.console.error && `${report.console.dev}:${report.console.ino}` === `${marker.dev}:${marker.ino}`) {
    problems.push(`/dev/console is the marker file ${MARKER}`);
  }
  const ttys = new Set(names.filter((n) => report[n] && !report[n].error).map((n) => report[n].rdev));
  if (!problems.length && ttys.size !== 1) problems.push(`not one terminal: ${names.map((n) => `${LABELS[n]} ${report[n].rdev}`).join(', ')}`);
  return problems;
}

lib.suites('console', (test, ctx, runtime) => {
  /**
   * A terminal:true bundle whose process is the payload; `slaves` (the link
   * target of D/0..D/3) sets up the attack, none keeps the ordinary
   * /dev/pts. edit(config) applies last. Returns the bundle with `report`
   * (the host path of the payload's report), `token`, `D`.
   */
  function ttyBundle({ slaves, args, terminal = true, edit } = {}) {
    const report = ctx.tmp('report');
    fs.mkdirSync(report, { mode: 0o755 });
    const token = `TTYCHECK-${h.rand(4)}`;
    let D;
    if (slaves) {
      D = ctx.tmp('sharedpts');
      fs.mkdirSync(D, { mode: 0o755 });
      fs.symlinkSync('/dev/pts2/ptmx', path.join(D, 'ptmx'));
      for (const n of SLAVE_NAMES) fs.symlinkSync(slaves, path.join(D, n));
    }
    const b = ctx.makeBundle({
      args: args || ['/ttycheck', '/report/tty', MARKER, token],
      terminal,
      edit: (c) => {
        c.mounts.push({ destination: '/report', type: 'bind', source: report, options: ['rbind', 'rw'] });
        if (slaves) {
          const i = c.mounts.findIndex((x) => x.destination === '/dev/pts');
          const devpts = c.mounts[i];
          c.mounts[i] = { destination: '/dev/pts', type: 'bind', source: D, options: ['rbind', 'rw'] };
          c.mounts.splice(i + 1, 0, { ...devpts, destination: '/dev/pts2' });
        }
        if (edit) edit(c);
      },
    });
    lib.installPayload(b, lib.payload('ttycheck'));
    fs.writeFileSync(path.join(b.rootfs, MARKER), MARKER_TEXT);
    b.report = path.join(report, 'tty');
    b.token = token;
    b.D = D;
    return b;
  }

  const markerText = (b) => fs.readFileSync(path.join(b.rootfs, MARKER), 'utf8');

  /**
   * A refused start: `status` (1, exec 255), the payload never ran, the
   * marker untouched, nothing left. Returns the runtime's error (for the log).
   */
  function refused(b, id, status, expected, stderr, what) {
    assert.is(status, expected, `${what}: refused with exit ${expected}, got ${status}\n${stderr || ''}`);
    assert.not.ok(fs.existsSync(b.report), `${what}: refused (exit ${status}), yet the process ran:\n${lib.readText(b.report)}`);
    assert.is(markerText(b), MARKER_TEXT, `${what}: the runtime wrote into ${MARKER}`);
    if (id) ctx.leftovers({ id, bundle: b });
  }

  /** The process's report, checked; then the caller's terminal must show the token (`seen()` reads it). */
  async function checkTerminal(b, what, withConsole, seen) {
    const text = await lib.waitFor(() => lib.readText(b.report), `the payload's report (${what})`, 15000);
    const problems = terminalProblems(parseReport(text), withConsole);
    assert.ok(!problems.length, `${what}: the process's terminal is not the pty the runtime made (CVE-2025-52565 class):\n  ${problems.join('\n  ')}\nreport:\n${text}`);
    assert.is(markerText(b), MARKER_TEXT, `${what}: the process wrote into ${MARKER}`);
    await lib.waitFor(() => seen().includes(b.token), () => `${what}: the token ${b.token} on the caller's terminal, got:\n${seen()}`, 15000);
  }

  /** Runs `line` in a tmux pane; resolves to { rc, tm } once it exits. */
  async function inTmux(line) {
    const rcFile = ctx.tmp('rc');
    const tm = ctx.tmux();
    await tm.waitFor(/^host\$ /m, 10000, 'the host shell prompt');
    tm.type(`${line}; echo RC=$? > '${rcFile}'`);
    const rc = await lib.waitFor(() => (/^RC=(\d+)\n$/.exec(lib.readText(rcFile)) || [])[1], () => `the runtime to exit; pane:\n${tm.capture()}`, 30000);
    return { rc: Number(rc), tm };
  }

  const rtLine = (args) => [`'${ctx.runtime}'`, '--root', `'${ctx.root}'`, ...args].join(' ');

  /** `run` attached in a tmux pane: the process's terminal is a real pty (and /dev/console), or run is refused. */
  async function runInTmux(b, what) {
    const id = ctx.id('con');
    const { rc, tm } = await inTmux(rtLine(['run', '--bundle', `'${b.dir}'`, id]));
    if (rc !== 0) {
      refused(b, id, rc, 1, tm.capture(), what);
      return;
    }
    await checkTerminal(b, what, true, () => tm.capture());
    ctx.leftovers({ id, bundle: b });
  }

  /** `create --console-socket` + `start`: the same, the master read by a console receiver. */
  async function createWithSocket(b, what) {
    const id = ctx.id('con');
    const recv = ctx.consoleReceiver();
    await recv.listening();
    const r = ctx.rt(['create', '--console-socket', recv.socket, '--bundle', b.dir, id]);
    if (r.status !== 0) {
      refused(b, id, r.status, 1, r.stderr, what);
      return h.errorMessage(r.stderr);
    }
    const s = ctx.rt(['start', id]);
    assert.is(s.status, 0, `${what}: start: ${s.stderr}`);
    await checkTerminal(b, what, true, () => recv.output());
    const d = ctx.rt(['delete', '--force', id]);
    assert.is(d.status, 0, `delete --force: ${d.stderr}`);
    ctx.leftovers({ id, bundle: b });
    return '';
  }

  /** `exec --tty` of the payload, attached in tmux, into a running container of `b` (its init without a terminal). */
  async function execInTmux(b, what) {
    const id = ctx.id('con');
    const r0 = ctx.rt(['run', '-d', '--bundle', b.dir, id]);
    assert.is(r0.status, 0, `run -d: ${r0.stderr}`);
    const init = ctx.state(id).pid;
    const { rc, tm } = await inTmux(rtLine(['exec', '--tty', id, '/ttycheck', '/report/tty', MARKER, b.token]));
    if (rc !== 0) {
      refused(b, undefined, rc, 255, tm.capture(), what);
      const ps = ctx.rt(['ps', '--format', 'json', id]);
      assert.equal(JSON.parse(ps.stdout), [init], `${what}: refused, yet processes remain in the container`);
    } else {
      await checkTerminal(b, what, false, () => tm.capture());
    }
    const d = ctx.rt(['delete', '--force', id]);
    assert.is(d.status, 0, `delete --force: ${d.stderr}`);
    ctx.leftovers({ id, bundle: b });
  }

  const execBundle = (slaves) => ttyBundle({ slaves, terminal: false, args: ['sleep', '1000'] });

  // the control: with the ordinary /dev/pts the check passes, and the caller's terminal shows the process's output
  test('control: run in tmux with the ordinary /dev/pts: fds 0-2 and /dev/console are one pty slave', async () => {
    const b = ttyBundle();
    const id = ctx.id('con');
    const { rc, tm } = await inTmux(rtLine(['run', '--bundle', `'${b.dir}'`, id]));
    assert.is(rc, 0, `run: exit ${rc}\n${tm.capture()}`);
    await checkTerminal(b, 'control, run in tmux', true, () => tm.capture());
    ctx.leftovers({ id, bundle: b });
  });

  test('control: create --console-socket with the ordinary /dev/pts: fds 0-2 and /dev/console are one pty slave', async () => {
    const b = ttyBundle();
    const msg = await createWithSocket(b, 'control, create --console-socket');
    assert.is(msg, '', `create failed: ${msg}`);
  });

  test('control: exec --tty in tmux with the ordinary /dev/pts: fds 0-2 are one pty slave', async () => {
    const b = execBundle();
    await execInTmux(b, 'control, exec --tty in tmux');
    assert.ok(fs.existsSync(b.report), 'exec --tty did not run the payload');
  });

  for (const [label, target] of [['the marker file', MARKER], ['another devpts\'s ptmx', '/dev/pts2/ptmx']]) {
    test(`run in tmux, /dev/pts/N linked to ${label}: the terminal is a pty slave or run is refused`, async () => {
      await runInTmux(ttyBundle({ slaves: target }), `run in tmux, /dev/pts/N -> ${target}`);
    });

    test(`create --console-socket, /dev/pts/N linked to ${label}: the terminal is a pty slave or create is refused`, async () => {
      const msg = await createWithSocket(ttyBundle({ slaves: target }), `create --console-socket, /dev/pts/N -> ${target}`);
      if (msg && process.env.TSRUNC_SEC_VERBOSE) console.log(`[${runtime}] create refused: ${msg}`);
    });

    test(`exec --tty in tmux, /dev/pts/N linked to ${label}: the terminal is a pty slave or exec is refused`, async () => {
      await execInTmux(execBundle(target), `exec --tty in tmux, /dev/pts/N -> ${target}`);
    });
  }

  test('create --console-socket while another container switches /dev/pts/0 between the real slave and the marker: the marker never becomes the console', async () => {
    // D/0 -> /dev/pts2/0 (the slave of the pty the runtime opened through D/ptmx), D/0.swap -> /marker
    const b = ttyBundle({ slaves: '/dev/pts2/0' });
    fs.symlinkSync(MARKER, path.join(b.D, '0.swap'));
    const attacker = ctx.makeBundle({ args: ['/swap', '/vol', '0'], extraMounts: [{ destination: '/vol', type: 'bind', source: b.D, options: ['rbind', 'rw'] }] });
    lib.installPayload(attacker, lib.payload('swap'));
    const a = ctx.rt(['run', '-d', '--bundle', attacker.dir, ctx.id('con-a')]);
    assert.is(a.status, 0, `the attacker container: run -d: ${a.stderr}`);
    const seen = new Set();
    await lib.waitFor(() => {
      for (let i = 0; i < 1000 && seen.size < 2; i++) seen.add(fs.readlinkSync(path.join(b.D, '0')));
      return seen.size === 2;
    }, 'the attacker to switch D/0 between its two links');

    const stats = { rounds: 0, refused: 0, real: 0, wrong: [], errors: new Map() };
    const end = Date.now() + RACE_TIME_MS;
    while (stats.rounds < RACE_ROUNDS && Date.now() < end && !stats.wrong.length) {
      stats.rounds++;
      fs.rmSync(b.report, { force: true });
      const id = ctx.id('con');
      const recv = ctx.consoleReceiver();
      await recv.listening();
      const r = ctx.rt(['create', '--console-socket', recv.socket, '--bundle', b.dir, id]);
      if (r.status !== 0) {
        recv.child.kill('SIGKILL'); // it would wait for a connection until cleanup
        refused(b, id, r.status, 1, r.stderr, `round ${stats.rounds}`);
        stats.refused++;
        const msg = h.errorMessage(r.stderr).replace(/con-[0-9a-f]+/g, '<id>');
        stats.errors.set(msg, (stats.errors.get(msg) || 0) + 1);
        continue;
      }
      const s = ctx.rt(['start', id]);
      assert.is(s.status, 0, `round ${stats.rounds}: start: ${s.stderr}`);
      const text = await lib.waitFor(() => lib.readText(b.report), `the payload's report (round ${stats.rounds})`, 15000);
      const problems = terminalProblems(parseReport(text), true);
      if (problems.length) stats.wrong.push(`round ${stats.rounds}: ${problems.join('; ')}`);
      else stats.real++;
      assert.is(markerText(b), MARKER_TEXT, `round ${stats.rounds}: the runtime or the process wrote into ${MARKER}`);
      const d = ctx.rt(['delete', '--force', id]);
      assert.is(d.status, 0, `delete --force: ${d.stderr}`);
      ctx.leftovers({ id, bundle: b });
    }
    const errors = [...stats.errors].map(([msg, n]) => `${n}x ${msg}`).join('\n    ');
    const summary = `${stats.rounds} rounds: ${stats.real} with a real pty, ${stats.refused} refused, ${stats.wrong.length} with a wrong terminal${errors ? `\n  create errors:\n    ${errors}` : ''}`;
    if (process.env.TSRUNC_SEC_VERBOSE) console.log(`[${runtime}] console race: ${summary}`);
    assert.ok(!stats.wrong.length, `the marker or another file became the terminal (CVE-2025-52565 class): ${summary}\n  ${stats.wrong.join('\n  ')}`);
  });
}, { knownRunc: KNOWN_RUNC });
