'use strict';
// Interactive `run` with a terminal, driven through tmux (a private server,
// `tmux -L <name>`): the pane runs dash, which runs `<runtime> run <id>` for a
// terminal:true busybox `sh`; keys go in with send-keys, the screen comes back
// with capture-pane. Validated against runc 1.1.5.
const fs = require('fs');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');

const test = suite('interactive');
const ctx = h.createContext('interactive');
h.install(test, ctx);

const PROMPT = 'ctr# ';
const PROMPT_RE = /^ctr# /m;

/** A terminal:true sh bundle, a tmux pane running `<runtime> run` on it; resolves once the container's prompt shows. */
async function interactive({ width = 100, height = 30, hostname = 'tsr-tty' } = {}) {
  const b = ctx.makeBundle({ args: ['sh'], terminal: true, hostname, env: { PS1: PROMPT } });
  const id = ctx.id('tty');
  const rcFile = ctx.tmp('rc');
  const tm = ctx.tmux({ width, height });
  await tm.waitFor(/^host\$ /m, 10000, 'the host shell prompt');
  tm.type(`${ctx.runtime} --root ${ctx.root} run --bundle ${b.dir} ${id}; echo RC=$? > ${rcFile}`);
  await tm.waitFor(PROMPT_RE, 20000, 'the container shell prompt');
  const rc = async (timeout = 15000) => {
    const end = Date.now() + timeout;
    for (;;) {
      const t = fs.existsSync(rcFile) ? fs.readFileSync(rcFile, 'utf8') : '';
      if (/^RC=\d+\n$/.test(t)) return Number(t.slice(3));
      if (Date.now() > end) throw new Error(`the runtime did not exit; pane:\n${tm.capture()}`);
      await h.delay(50);
    }
  };
  return { b, id, tm, rc };
}

function sttyFlags(out) {
  return new Set(out.split(/\s+/).filter((w) => /^-?[a-z][a-z0-9]*$/.test(w)));
}

/** Polls `stty size` in the container until it prints `want` (SIGWINCH is asynchronous). */
async function sttySize(tm, want, timeout = 10000) {
  const end = Date.now() + timeout;
  let got;
  for (;;) {
    got = await tm.cmd('stty size');
    if (got === want || Date.now() > end) return got;
    await h.delay(100);
  }
}

test('in the container: hostname, only sh and ps, only lo, /proc/1/cmdline, tty', async () => {
  const { b, id, tm, rc } = await interactive({ hostname: 'tsr-tty' });
  assert.is(await tm.cmd('hostname'), 'tsr-tty');

  const ps = (await tm.cmd('ps aux')).split('\n');
  assert.match(ps[0], /^\s*PID\s+USER\s+.*COMMAND/);
  const procs = ps.slice(1).map((l) => l.trim().split(/\s+/));
  assert.is(procs.length, 2, `only sh and ps:\n${ps.join('\n')}`);
  assert.equal(procs[0].slice(0, 2), ['1', 'root']);
  assert.is(procs[0][procs[0].length - 1], 'sh', 'PID 1 is sh');
  assert.match(procs[1].join(' '), /ps/);

  assert.is(await tm.cmd(`tr '\\0' '|' < /proc/1/cmdline; echo`), 'sh|');

  const ip = (await tm.cmd('ip a')).split('\n');
  const links = ip.filter((l) => /^\d+: /.test(l));
  assert.equal(links.length, 1, `only lo:\n${ip.join('\n')}`);
  assert.match(links[0], /^1: lo: <LOOPBACK,UP,LOWER_UP>/, 'lo is up');
  assert.ok(ip.some((l) => /inet 127\.0\.0\.1\/8/.test(l)), '127.0.0.1/8 on lo');

  assert.is(await tm.cmd('tty'), '/dev/pts/0');
  assert.is(await tm.cmd('echo $TERM'), 'xterm');

  tm.type('exit');
  assert.is(await rc(), 0);
  ctx.leftovers({ id, bundle: b });
});

test('in the container: /proc/meminfo cannot be removed, masked paths are empty, /proc/sys is read-only', async () => {
  const { b, id, tm, rc } = await interactive();
  const rm = await tm.cmd('rm -f /proc/meminfo; echo rc=$?');
  assert.match(rm, /rc=1$/, rm);
  assert.is(await tm.cmd('test -e /proc/meminfo && echo present'), 'present');

  // /proc/kcore is masked (bind of /dev/null), or absent on kernels without it
  const kcore = await tm.cmd('cat /proc/kcore | wc -c');
  assert.match(kcore, /^(0|.*No such (file or directory|device).*\n\s*0)$/s, kcore);
  // /proc/timer_list and /proc/keys exist on this host with content; masked they read empty
  for (const p of ['/proc/timer_list', '/proc/keys']) {
    if (!fs.existsSync(p) || fs.readFileSync(p).length === 0) continue;
    assert.is(await tm.cmd(`wc -c < ${p}`), '0', `${p} is masked`);
  }

  const sys = await tm.cmd('echo 1 > /proc/sys/kernel/ns_last_pid; echo rc=$?');
  assert.match(sys, /Read-only file system/, sys);
  assert.match(sys, /rc=[1-9]\d*$/, sys);

  tm.type('exit 0');
  assert.is(await rc(), 0);
  ctx.leftovers({ id, bundle: b });
});

test('window size: stty size matches the pane, follows a resize', async () => {
  const { b, id, tm, rc } = await interactive({ width: 100, height: 30 });
  assert.equal(tm.paneSize(), { width: 100, height: 30 });
  assert.is(await sttySize(tm, '30 100'), '30 100');
  tm.resize(120, 40);
  assert.equal(tm.paneSize(), { width: 120, height: 40 });
  assert.is(await sttySize(tm, '40 120'), '40 120', 'after resize-window');
  tm.resize(81, 23);
  assert.is(await sttySize(tm, '23 81'), '23 81', 'after a second resize');
  tm.type('exit');
  assert.is(await rc(), 0);
  ctx.leftovers({ id, bundle: b });
});

test('Ctrl-C interrupts a sleep in the container, the shell survives; exit 3 is the exit code; the terminal is restored', async () => {
  const { b, id, tm, rc } = await interactive();
  const sleeping = () => h.processesOf({ bundles: [b.dir] }).filter((p) => p.cmd === 'sleep 100');
  tm.type('sleep 100');
  const end = Date.now() + 10000;
  while (!sleeping().length) {
    if (Date.now() > end) throw new Error(`sleep 100 did not start:\n${tm.capture()}`);
    await h.delay(50);
  }
  const t0 = Date.now();
  tm.keys('C-c');
  assert.is(await tm.cmd('echo alive'), 'alive');
  assert.ok(Date.now() - t0 < 10000, 'the sleep was interrupted');
  assert.is(sleeping().length, 0, 'sleep is gone');
  assert.is(await tm.cmd('cat /proc/1/comm'), 'sh', 'PID 1 is still sh');

  tm.type('exit 3');
  assert.is(await rc(), 3, 'the runtime exits with the shell\'s status');
  // back in the host shell: canonical mode and echo are on again
  await tm.waitFor(/^host\$ /m, 10000, 'the host prompt');
  const flags = sttyFlags(await tm.cmd('stty -a'));
  for (const f of ['icanon', 'echo', 'isig', 'icrnl', 'opost']) assert.ok(flags.has(f), `${f} restored`);
  ctx.leftovers({ id, bundle: b });
});

test('killed from outside with KILL: run exits 137 and the terminal is restored', async () => {
  const { b, id, tm, rc } = await interactive();
  assert.is(await tm.cmd('echo in-$((20+22))'), 'in-42');
  const r = ctx.rt(['kill', id, 'KILL']);
  assert.is(r.status, 0, r.stderr);
  assert.is(await rc(), 137);
  await tm.waitFor(/^host\$ /m, 10000, 'the host prompt');
  const flags = sttyFlags(await tm.cmd('stty -a'));
  for (const f of ['icanon', 'echo', 'isig']) assert.ok(flags.has(f), `${f} restored`);
  // the host shell works normally: what is typed is echoed and run
  assert.is(await tm.cmd('echo host-$((40+2))'), 'host-42');
  const s = ctx.rt(['state', id]);
  assert.is(s.status, 1, 'run removed the container');
  ctx.leftovers({ id, bundle: b });
});

test.run();
