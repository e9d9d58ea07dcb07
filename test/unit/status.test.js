'use strict';
// deriveStatus / ociState with real processes: a live `sleep`, a dead PID, a
// reused PID (right PID, wrong start time), a zombie, the exec fifo, and (when
// the host has a writable v1 freezer) a frozen cgroup.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync, execFileSync } = require('child_process');
const { deriveStatus, ociState, initAlive } = require('../../dist/container/status.js');
const { processStartTime } = require('../../dist/linux/proc.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-status-'));
const fifo = path.join(tmp, 'exec.fifo');
const noFifo = path.join(tmp, 'no-such-fifo');
const children = [];

function saved(over) {
  return {
    ociVersion: '1.2.0',
    id: 'c1',
    pid: 0,
    pidStartTime: '',
    bundle: '/bundle',
    rootfs: '/bundle/rootfs',
    created: '2024-01-02T03:04:05.123456789Z',
    owner: '',
    config: {},
    ...over,
  };
}

function sleeper() {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** A PID that is not in use: a child that has exited and been reaped. */
function deadPid() {
  const r = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim());
  assert.ok(pid > 0);
  assert.not.ok(fs.existsSync(`/proc/${pid}`), 'the pid was reused already');
  return pid;
}

test('processStartTime: a number of clock ticks for a live process, undefined for a gone one', () => {
  const self = processStartTime(process.pid);
  assert.ok(/^\d+$/.test(self), self);
  // Cross-check with field 22 of /proc/self/stat parsed independently.
  const stat = fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  assert.is(self, fields[19]);
  assert.is(processStartTime(deadPid()), undefined);
  assert.is(processStartTime(0x3fffffff), undefined);
});

test('processStartTime copes with a comm containing spaces and parentheses', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'comm-'));
  const exe = path.join(dir, 'a) b (c');
  fs.symlinkSync(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim(), exe);
  const c = spawn(exe, ['60'], { stdio: 'ignore' });
  children.push(c);
  await new Promise((r) => c.once('spawn', r));
  const stat = fs.readFileSync(`/proc/${c.pid}/stat`, 'utf8');
  assert.ok(stat.includes('(a) b (c)'), stat.slice(0, 40));
  const st = processStartTime(c.pid);
  assert.ok(/^\d+$/.test(st), st);
  c.kill('SIGKILL');
  await exited(c);
});

test('a live init without a fifo is running', async () => {
  const c = sleeper();
  await new Promise((r) => c.once('spawn', r));
  const s = saved({ pid: c.pid, pidStartTime: processStartTime(c.pid) });
  assert.ok(initAlive(s));
  assert.is(deriveStatus(s, noFifo), 'running');
  c.kill('SIGKILL');
  await exited(c);
  assert.not.ok(initAlive(s));
  assert.is(deriveStatus(s, noFifo), 'stopped');
});

test('a live init with the exec fifo present is created', async () => {
  execFileSync('mkfifo', [fifo]);
  try {
    const c = sleeper();
    await new Promise((r) => c.once('spawn', r));
    const s = saved({ pid: c.pid, pidStartTime: processStartTime(c.pid) });
    assert.is(deriveStatus(s, fifo), 'created');
    c.kill('SIGKILL');
    await exited(c);
    assert.is(deriveStatus(s, fifo), 'stopped', 'a dead init is stopped even if the fifo was left behind');
  } finally {
    fs.rmSync(fifo, { force: true });
  }
});

test('a dead pid is stopped', () => {
  const pid = deadPid();
  assert.is(deriveStatus(saved({ pid, pidStartTime: '12345' }), noFifo), 'stopped');
});

test('pid 0 (no init yet) is stopped, whatever the start time', () => {
  assert.is(deriveStatus(saved({ pid: 0, pidStartTime: '' }), noFifo), 'stopped');
  assert.is(deriveStatus(saved({ pid: 0, pidStartTime: processStartTime(process.pid) }), noFifo), 'stopped');
});

test('a reused pid (right pid, wrong start time) is stopped', async () => {
  const c = sleeper();
  await new Promise((r) => c.once('spawn', r));
  const real = processStartTime(c.pid);
  const wrong = String(Number(real) - 1);
  assert.is(deriveStatus(saved({ pid: c.pid, pidStartTime: wrong }), noFifo), 'stopped');
  assert.is(deriveStatus(saved({ pid: c.pid, pidStartTime: wrong }), fifo), 'stopped');
  assert.is(deriveStatus(saved({ pid: c.pid, pidStartTime: '' }), noFifo), 'stopped');
  // pid 1 is alive but is not our init
  assert.is(deriveStatus(saved({ pid: 1, pidStartTime: real }), noFifo), 'stopped');
  c.kill('SIGKILL');
  await exited(c);
});

test('a zombie init is stopped', async () => {
  // `sleep 0` becomes a zombie: its parent exec's into `sleep 60`, which never waits.
  const c = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(c);
  const zpid = await new Promise((resolve) => {
    let buf = '';
    c.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(Number(buf.trim()));
    });
  });
  let state = '';
  for (let i = 0; i < 200 && state !== 'Z'; i++) {
    await new Promise((r) => setTimeout(r, 10));
    try {
      const st = fs.readFileSync(`/proc/${zpid}/stat`, 'utf8');
      state = st.slice(st.lastIndexOf(')') + 2).split(' ')[0];
    } catch {
      break;
    }
  }
  assert.is(state, 'Z', 'could not make a zombie');
  assert.is(processStartTime(zpid), undefined);
  assert.is(deriveStatus(saved({ pid: zpid, pidStartTime: '1' }), noFifo), 'stopped');
  c.kill('SIGKILL');
  await exited(c);
});

test('a frozen v1 freezer cgroup is paused (skipped without a writable v1 freezer)', async () => {
  const root = '/sys/fs/cgroup/freezer';
  if (!fs.existsSync(path.join(root, 'cgroup.procs'))) {
    console.log('  (skipped: no v1 freezer hierarchy)');
    return;
  }
  const dir = path.join(root, `tsrunc-unit-status-${process.pid}`);
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    console.log(`  (skipped: cannot create ${dir}: ${e.code})`);
    return;
  }
  const c = sleeper();
  try {
    await new Promise((r) => c.once('spawn', r));
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(c.pid));
    const s = saved({
      pid: c.pid, pidStartTime: processStartTime(c.pid),
      cgroup: { version: 1, paths: { freezer: dir }, created: true },
    });
    assert.is(deriveStatus(s, noFifo), 'running');
    fs.writeFileSync(path.join(dir, 'freezer.state'), 'FROZEN');
    for (let i = 0; i < 100 && fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim() !== 'FROZEN'; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.is(deriveStatus(s, noFifo), 'paused');
    // a created (never started) container that is frozen is paused too, as runc reports it
    execFileSync('mkfifo', [fifo]);
    try {
      assert.is(deriveStatus(s, fifo), 'paused', 'fifo present: the freezer still decides');
    } finally {
      fs.rmSync(fifo, { force: true });
    }
    fs.writeFileSync(path.join(dir, 'freezer.state'), 'THAWED');
    assert.is(deriveStatus(s, noFifo), 'running');
    // a cgroup that vanished is not frozen
    const gone = saved({ ...s, cgroup: { version: 1, paths: { freezer: path.join(dir, 'nope') }, created: true } });
    assert.is(deriveStatus(gone, noFifo), 'running');
  } finally {
    try {
      fs.writeFileSync(path.join(dir, 'freezer.state'), 'THAWED');
    } catch { /* ignore */ }
    c.kill('SIGKILL');
    await exited(c);
    for (let i = 0; i < 100; i++) {
      try {
        fs.rmdirSync(dir);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
});

test('ociState: the fields runc prints, pid 0 once stopped, annotations only when present', () => {
  const s = saved({ pid: 4242, pidStartTime: '1', owner: '', annotations: { a: 'b' } });
  const running = ociState(s, 'running');
  assert.equal(running, {
    ociVersion: '1.2.0', id: 'c1', pid: 4242, status: 'running', bundle: '/bundle', rootfs: '/bundle/rootfs',
    created: '2024-01-02T03:04:05.123456789Z', owner: '', annotations: { a: 'b' },
  });
  // runc's order (checked with runc 1.1.5 state): annotations, when any, before owner
  assert.equal(Object.keys(running), ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'annotations', 'owner']);
  assert.equal(Object.keys(ociState(saved({}), 'running')), ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner']);
  assert.is(ociState(s, 'created').pid, 4242);
  assert.is(ociState(s, 'paused').pid, 4242);
  assert.is(ociState(s, 'stopped').pid, 0);
  assert.is(ociState(s, 'stopped').status, 'stopped');
  assert.not.ok('annotations' in ociState(saved({ annotations: {} }), 'running'));
  assert.not.ok('annotations' in ociState(saved({}), 'running'));
  assert.not.ok('config' in running);
  assert.not.ok('pidStartTime' in running);
});

test('ociState validates against the runtime-spec state schema (when present)', () => {
  let validate;
  try {
    validate = require('../../dist/validators/state.js');
  } catch {
    return;
  }
  const fn = typeof validate === 'function' ? validate : validate.default ?? validate.validate;
  if (typeof fn !== 'function') return;
  for (const st of ['created', 'running', 'stopped']) {
    const doc = ociState(saved({ pid: 7, annotations: { x: 'y' } }), st);
    assert.ok(fn(doc), `${st}: ${JSON.stringify(fn.errors)}`);
  }
});

test.after(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await exited(c);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
