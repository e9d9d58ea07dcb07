'use strict';
// checkpoint and restore (CRIU, Debian's criu), as runc's checkpoint.bats
// and podman's `container checkpoint/restore` use them.
//
// Where CRIU cannot work with the kernel (this machine's: `criu check` fails
// in its kernel feature detection), checkpoint must fail with an error that
// names the cause, exit 1, and leave the container running as it was; those
// tests run here. The checkpoint/restore cycles run where `criu check` passes:
// the VM guest (test/vm/run.sh --criu-checks boots Debian's kernel and runs
// this file; test/vm/vm.test.js checks its result). Elsewhere they are
// skipped, saying why.
//   node node_modules/uvu/bin.js test/e2e 'checkpoint\.test\.js$'
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');

const test = suite('checkpoint');
const ctx = h.createContext('criu');
h.install(test, ctx);

/** What `criu check` says here: { installed, works, why }. */
const CRIU = (() => {
  // its errors go to its log, which is stderr only where that is a terminal
  const log = ctx.tmp('criu-check.log');
  const r = spawnSync('criu', ['check', '--log-file', log], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH || ''}:/usr/sbin:/sbin` } });
  if (r.error) return { installed: false, works: false, why: 'criu is not installed (Debian: apt-get install criu)' };
  const out = `${fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''}${r.stdout}${r.stderr}`.trim();
  fs.rmSync(log, { force: true });
  const first = (out.split('\n').find((l) => /Error/.test(l)) || out.split('\n')[0] || '').replace(/^.*?Error \([^)]*\):\s*/, '');
  return { installed: true, works: r.status === 0, why: r.status === 0 ? '' : `criu check fails on this kernel (${first})` };
})();
/** The reason the real checkpoint/restore tests cannot run here, or ''. */
const CANNOT = !h.IS_TSRUNC && !h.IS_RUNC ? `${h.RUNTIME_NAME} is neither tsrunc nor runc`
  : !CRIU.works ? `${CRIU.why}: the checkpoint/restore cycles run in the VM guest (test/vm, run.sh --criu-checks)` : '';

const ok = (r, what = '') => assert.is(r.status, 0, `${what} exit status ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
/** Exit 1 with one error on stderr matching `re` (warnings may come before it: CRIU's log quoted). */
function fails(r, re, what = '') {
  assert.is(r.status, 1, `${what} should exit 1, got ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const entries = h.parseTextLog(r.stderr);
  const errors = entries.filter((e) => e.level === 'error');
  // runc 1.1.5 logs "container still running" first, from its deferred destroy of a container that was not checkpointed
  if (h.IS_TSRUNC) assert.is(errors.length, 1, `one error line in:\n${r.stderr}`);
  assert.ok(errors.length > 0 && entries.every((e) => e.level === 'error' || e.level === 'warning'), `only log lines on stderr, an error last:\n${r.stderr}`);
  const m = errors[errors.length - 1].msg;
  assert.match(m, re, `${what}: ${r.stderr}`);
  return m;
}

// A counter in the shell's memory, written out every 0.1 s: a restored process
// continues from its own memory, a restarted one would begin at 1 again. Its
// stdio is the container's /dev/null: what the runtime was given stays
// outside (CRIU cannot dump a file of the host's mount namespace).
const COUNTER = 'exec </dev/null >/dev/null 2>&1; i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done';

function counterBundle(edit) {
  return ctx.shBundle(COUNTER, edit);
}

/** The counter's value now (NaN when the file holds something else). */
function count(bundle) {
  return Number((fs.readFileSync(path.join(bundle.rootfs, 'tmp', 'count'), 'utf8') || '').trim());
}

/** Waits until the counter exceeds `above`; returns its value. */
async function countAbove(bundle, above, timeout = 30000) {
  const end = Date.now() + timeout;
  for (;;) {
    let n = NaN;
    try {
      n = count(bundle);
    } catch {
      /* not written yet */
    }
    if (n > above) return n;
    if (Date.now() > end) throw new Error(`the counter did not go above ${above} within ${timeout} ms (it is ${n})`);
    await h.delay(50);
  }
}

async function runCounter(bundle, id) {
  ok(ctx.rt(['run', '-d', '--bundle', bundle.dir, id]), 'run -d');
  const st = await ctx.waitStatus(id, 'running');
  await countAbove(bundle, 2);
  return st;
}

/** A file in `dir` named `name`, for the assertion message. */
function hasFile(dir, name) {
  assert.ok(fs.existsSync(path.join(dir, name)), `no ${name} in ${dir}: ${fs.existsSync(dir) ? fs.readdirSync(dir).join(' ') : '(no dir)'}`);
}

/** /proc/<pid>/cgroup's paths of the process. */
function cgroupOf(pid) {
  return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
}

// ---------------------------------------------------------------------------
// everywhere: flags, bad input, CRIU missing or not working

test('checkpoint --help and restore --help exit 0 with runc\'s flags (podman probes `checkpoint --help`)', () => {
  const c = ctx.rt(['checkpoint', '--help'], { noRoot: true });
  ok(c, 'checkpoint --help');
  for (const f of ['--image-path', '--work-path', '--parent-path', '--leave-running', '--tcp-established', '--ext-unix-sk', '--shell-job',
    '--lazy-pages', '--status-fd', '--page-server', '--file-locks', '--pre-dump', '--manage-cgroups-mode', '--empty-ns', '--auto-dedup']) {
    assert.match(c.stdout, new RegExp(`^ {3}${f}\\b`, 'm'), `checkpoint --help lists ${f}`);
  }
  const r = ctx.rt(['restore', '--help'], { noRoot: true });
  ok(r, 'restore --help');
  for (const f of ['--console-socket', '--image-path', '--work-path', '--tcp-established', '--ext-unix-sk', '--shell-job', '--file-locks',
    '--manage-cgroups-mode', '--bundle value, -b', '--detach, -d', '--pid-file', '--no-subreaper', '--no-pivot', '--empty-ns', '--auto-dedup', '--lazy-pages']) {
    assert.match(r.stdout, new RegExp(`^ {3}${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'm'), `restore --help lists ${f}`);
  }
});

test('checkpoint: a missing container, a created one, and bad flag values fail with runc\'s words; nothing changes', async () => {
  fails(ctx.rt(['checkpoint', 'criu-nonexistent']), /container does not exist/, 'missing');
  const bundle = ctx.makeBundle();
  const id = ctx.id('cp-created');
  ok(ctx.rt(['create', '--bundle', bundle.dir, id]), 'create');
  const img = ctx.tmp('img');
  fails(ctx.rt(['checkpoint', '--image-path', img, id]), /^Container cannot be checkpointed in created state$/, 'created');
  assert.is(ctx.state(id).status, 'created');
  ok(ctx.rt(['delete', '--force', id]));

  const counter = counterBundle();
  const rid = ctx.id('cp-flags');
  const st = await runCounter(counter, rid);
  fails(ctx.rt(['checkpoint', '--image-path', img, '--manage-cgroups-mode', 'bogus', rid]), /manage.cgroups.mode/i, '--manage-cgroups-mode bogus');
  fails(ctx.rt(['checkpoint', '--image-path', img, '--parent-path', '/abs', rid]), /^--parent-path must be relative$/, 'absolute --parent-path');
  fails(ctx.rt(['checkpoint', '--image-path', img, '--parent-path', '../nowhere', rid]), /^invalid --parent-path: .*nowhere.*no such file or directory/, 'missing --parent-path');
  fails(ctx.rt(['checkpoint', '--image-path', img, '--page-server', 'nohostport', rid]), /^Use --page-server ADDRESS:PORT to specify page server$/, '--page-server');
  fails(ctx.rt(['checkpoint', '--image-path', img, '--page-server', 'host:port', rid]), /^Invalid port number$/, '--page-server port');
  fails(ctx.rt(['checkpoint', '--image-path', img, '--empty-ns', 'pid', rid]), /^namespace "pid" is not supported$/, '--empty-ns pid');
  const now = ctx.state(rid);
  assert.is(now.status, 'running');
  assert.is(now.pid, st.pid, 'the same init');
});

test('checkpoint without CRIU in PATH (or --criu naming nothing): "criu not found in PATH", exit 1, the container runs on', async () => {
  if (!h.IS_TSRUNC) return skip(`${h.RUNTIME_NAME} words this its own way`);
  const bundle = counterBundle();
  const id = ctx.id('cp-nocriu');
  const st = await runCounter(bundle, id);
  const img = ctx.tmp('img');
  const empty = ctx.tmp('emptypath');
  fs.mkdirSync(empty);
  // PATH without criu: node is found by its full path (the launcher's shebang uses env)
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${empty}` };
  fails(ctx.rt(['checkpoint', '--image-path', img, id], { env }), /^criu not found in PATH \(.*\): checkpoint and restore need CRIU/, 'no criu in PATH');
  fails(ctx.rt(['--criu', path.join(empty, 'criu'), 'checkpoint', '--image-path', img, id]), /^criu binary .*criu \(--criu\) does not exist or is not executable$/, '--criu');
  const n = count(bundle);
  const now = ctx.state(id);
  assert.is(now.status, 'running');
  assert.is(now.pid, st.pid, 'the same init');
  assert.ok(await countAbove(bundle, n) > n, 'the counter goes on');
});

test('checkpoint where CRIU cannot work with the kernel: the error names CRIU\'s reason, exit 1, the container runs on untouched', async () => {
  if (!CRIU.installed) return skip(CRIU.why);
  if (CRIU.works) return skip('criu check passes on this kernel: the checkpoint tests below run instead');
  const bundle = counterBundle();
  const id = ctx.id('cp-nokernel');
  const st = await runCounter(bundle, id);
  const img = ctx.tmp('img');
  const work = ctx.tmp('work');
  const r = ctx.rt(['checkpoint', '--image-path', img, '--work-path', work, id]);
  const msg = fails(r, /^criu failed: type DUMP errno \d+/, 'checkpoint');
  if (h.IS_TSRUNC) {
    // CRIU's own first error, that it cannot work with this kernel, and where its log is (runc: "criu failed: type DUMP errno 0\nlog file: dump.log")
    assert.match(msg, /^criu failed: type DUMP errno \d+: \S/, msg);
    assert.match(msg, /CRIU cannot work with this kernel/, msg);
    assert.ok(msg.includes(path.join(work, 'dump.log')), `the log is named: ${msg}`);
    assert.match(r.stderr, /level=warning msg="--- Quoting /, 'the log quoted as runc quotes it');
  }
  hasFile(work, 'dump.log');
  const n = count(bundle);
  const now = ctx.state(id);
  assert.is(now.status, 'running', 'still running');
  assert.is(now.pid, st.pid, 'the same init');
  assert.ok(await countAbove(bundle, n) > n, 'the counter goes on (the processes were not left frozen)');
  const e = ctx.rt(['exec', id, 'cat', '/tmp/count']);
  ok(e, 'exec after the failed checkpoint');
  ok(ctx.rt(['delete', '--force', id]));
  ctx.leftovers({ id, bundle });
});

test('stdio that is the host\'s /dev/null becomes the container\'s own /dev/null (runc\'s reOpenDevNull: CRIU cannot dump the host\'s; conmon gives it as stdin)', async () => {
  const bundle = ctx.makeBundle({ args: ['sleep', '100'] });
  const id = ctx.id('devnull');
  // the harness gives the runtime /dev/null as stdin, files as stdout and stderr
  ok(ctx.rt(['run', '-d', '--bundle', bundle.dir, id]), 'run -d');
  const { pid } = await ctx.waitStatus(id, 'running');
  const host = fs.statSync('/dev/null');
  const fd0 = fs.statSync(`/proc/${pid}/fd/0`);
  assert.is(fd0.rdev, host.rdev, 'still a /dev/null (1:3)');
  assert.is.not(fd0.dev, host.dev, 'not the host\'s /dev/null: the one on the container\'s /dev');
  const dev = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/dev');
  const fdMnt = /^mnt_id:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/0`, 'utf8'))[1];
  assert.is(fdMnt, dev.split(' ')[0], 'on the container\'s /dev mount');
  assert.is(fs.statSync(`/proc/${pid}/fd/1`).dev, fs.statSync(ctx.base).dev, 'stdout, a file, is left as it was');
  ok(ctx.rt(['delete', '--force', id]));
});

test('restore: no checkpoint at --image-path, or an id in use: a clear error, exit 1, nothing made', async () => {
  const bundle = counterBundle();
  const id = ctx.id('rs-bad');
  const img = ctx.tmp('img');
  fs.mkdirSync(img);
  const r = ctx.rt(['restore', '-d', '--image-path', img, '--bundle', bundle.dir, id]);
  fails(r, h.IS_TSRUNC ? /descriptors\.json.*no such file or directory/ : /./, 'restore from an empty dir');
  assert.is(ctx.state(id), null, 'no container');
  ctx.leftovers({ id, bundle });
  if (h.IS_TSRUNC) {
    const nocriu = ctx.rt(['--criu', '/nonexistent/criu', 'restore', '-d', '--image-path', img, '--bundle', bundle.dir, id]);
    fails(nocriu, /^criu binary \/nonexistent\/criu \(--criu\) does not exist or is not executable$/, 'restore --criu');
    ctx.leftovers({ id, bundle });
  }
  const used = ctx.id('rs-used');
  await runCounter(bundle, used);
  if (!CRIU.installed) return;
  fails(ctx.rt(['restore', '-d', '--image-path', img, '--bundle', bundle.dir, used]), /container with given ID already exists|descriptors\.json/, 'id in use');
  assert.is(ctx.state(used).status, 'running');
});

// ---------------------------------------------------------------------------
// where CRIU works (the VM guest)

test('checkpoint, then restore under the same id: the state JSON is the restored init\'s, the counter goes on from memory', async () => {
  if (CANNOT) return skip(CANNOT);
  const bundle = counterBundle();
  const id = ctx.id('cr-same');
  const st = await runCounter(bundle, id);
  const img = ctx.tmp('img');
  const work = ctx.tmp('work');
  ok(ctx.rt(['checkpoint', '--image-path', img, '--work-path', work, id]), 'checkpoint');
  // runc's "checkpointed": the container is gone, its processes and cgroup too
  assert.is(ctx.state(id), null, 'no container after the checkpoint');
  assert.not.ok(h.pidAlive(st.pid), 'the init is gone');
  ctx.leftovers({ id });
  hasFile(img, 'inventory.img');
  hasFile(img, 'descriptors.json');
  hasFile(work, 'dump.log');
  const at = count(bundle);
  assert.ok(at > 0, `counter at the checkpoint: ${at}`);
  // a restarted process would start from 1 again; the restored one goes on from `at`
  fs.writeFileSync(path.join(bundle.rootfs, 'tmp', 'count'), 'reset\n');

  const r = ctx.rt(['restore', '-d', '--image-path', img, '--work-path', work, '--bundle', bundle.dir, id]);
  ok(r, 'restore');
  hasFile(work, 'restore.log');
  const s = ctx.state(id);
  assert.is(s.status, 'running');
  assert.is(s.id, id);
  assert.is(s.bundle, bundle.dir);
  assert.is(s.rootfs, bundle.rootfs);
  assert.ok(s.pid > 0 && s.pid !== st.pid, `a new host pid: ${s.pid} (was ${st.pid})`);
  assert.ok(h.pidAlive(s.pid));
  assert.ok(Date.parse(s.created) >= Date.parse(st.created), `created ${s.created} is the restore's (run: ${st.created})`);
  const after = await countAbove(bundle, at);
  assert.ok(after > at, `the counter went on from ${at}: ${after}`);
  assert.ok(cgroupOf(s.pid).includes(id), `in its cgroup: ${cgroupOf(s.pid)}`);
  // the restored container is a container like any other
  const e = ctx.rt(['exec', id, 'cat', '/tmp/count']);
  ok(e, 'exec');
  assert.match(e.stdout.trim(), /^\d+$/);
  ok(ctx.rt(['kill', id, 'KILL']), 'kill');
  await ctx.waitStatus(id, 'stopped');
  ok(ctx.rt(['delete', id]), 'delete');
  ctx.leftovers({ id, bundle });
});

test('restore under a new id: its state, cgroup and pid file are the new id\'s; checkpoint twice of the restored one', async () => {
  if (CANNOT) return skip(CANNOT);
  const bundle = counterBundle();
  const id = ctx.id('cr-old');
  await runCounter(bundle, id);
  const img = ctx.tmp('img');
  ok(ctx.rt(['checkpoint', '--image-path', img, '--manage-cgroups-mode', 'ignore', id]), 'checkpoint (ignore)');
  const at = count(bundle);
  const id2 = ctx.id('cr-new');
  const pidFile = ctx.tmp('pid');
  ok(ctx.rt(['restore', '-d', '--manage-cgroups-mode', 'ignore', '--pid-file', pidFile, '--image-path', img, '--bundle', bundle.dir, id2]), 'restore');
  assert.is(ctx.state(id), null, 'the old id stays gone');
  const s = ctx.state(id2);
  assert.is(s.status, 'running');
  assert.is(s.id, id2);
  assert.is(fs.readFileSync(pidFile, 'utf8').trim(), String(s.pid), 'pid file');
  assert.ok(cgroupOf(s.pid).includes(id2), `in the new id's cgroup: ${cgroupOf(s.pid)}`);
  const after = await countAbove(bundle, at);
  // and once more: checkpoint the restored container (default cgroup mode), restore it again
  const img2 = ctx.tmp('img');
  ok(ctx.rt(['checkpoint', '--image-path', img2, id2]), 'second checkpoint');
  assert.is(ctx.state(id2), null);
  ok(ctx.rt(['restore', '-d', '--image-path', img2, '--bundle', bundle.dir, id2]), 'second restore');
  assert.ok(await countAbove(bundle, after) > after, 'the counter goes on after two restores');
  ok(ctx.rt(['delete', '--force', id2]));
  ctx.leftovers({ id: id2, bundle });
  ctx.leftovers({ id });
});

test('checkpoint --leave-running: the container runs on (same init), and its image restores beside it under another id', async () => {
  if (CANNOT) return skip(CANNOT);
  const bundle = counterBundle();
  const id = ctx.id('cr-leave');
  const st = await runCounter(bundle, id);
  const id2 = ctx.id('cr-twin');
  let s;
  let restored;
  // CRIU refuses to restore a file whose size changed since the dump (as with runc): a dump
  // that froze the original's shell inside `echo $i > /tmp/count` holds that file open, and
  // the original writes it on. Such a dump is taken again (each try is 1 in ~10 under TCG).
  for (let attempt = 1; ; attempt++) {
    const img = ctx.tmp('img');
    ok(ctx.rt(['checkpoint', '--leave-running', '--image-path', img, id]), 'checkpoint --leave-running');
    s = ctx.state(id);
    assert.is(s.status, 'running');
    assert.is(s.pid, st.pid, 'the same init');
    const n = count(bundle);
    assert.ok(await countAbove(bundle, n) > n, 'the original counts on');
    hasFile(img, 'inventory.img');
    // a second container from the same image, in the same rootfs, beside the first
    restored = ctx.rt(['restore', '-d', '--image-path', img, '--bundle', bundle.dir, id2]);
    if (restored.status === 0 || attempt === 5 || !/has bad size/.test(restored.stderr)) break;
    ctx.rt(['delete', '--force', id2]);
  }
  ok(restored, 'restore beside it');
  const t = ctx.state(id2);
  assert.is(t.status, 'running');
  assert.ok(t.pid !== s.pid);
  assert.is(ctx.state(id).pid, st.pid, 'the original untouched');
  ok(ctx.rt(['delete', '--force', id2]));
  ok(ctx.rt(['delete', '--force', id]));
  ctx.leftovers({ id, bundle });
  ctx.leftovers({ id: id2 });
});

test('checkpoint --pre-dump, then checkpoint --parent-path: the final image links its parent and restores', async () => {
  if (CANNOT) return skip(CANNOT);
  const bundle = counterBundle();
  const id = ctx.id('cr-pre');
  const st = await runCounter(bundle, id);
  const base = ctx.tmp('images');
  const parent = path.join(base, 'parent-dir');
  const img = path.join(base, 'image-dir');
  const work = path.join(base, 'work-dir');
  const pre = ctx.rt(['checkpoint', '--pre-dump', '--image-path', parent, '--work-path', work, id]);
  if (pre.status !== 0 && /MemTrack/.test(pre.stderr)) return skip(`this kernel has no dirty memory tracking: ${pre.stderr.trim()}`);
  ok(pre, 'checkpoint --pre-dump');
  const s = ctx.state(id);
  assert.is(s.status, 'running', 'a pre-dump leaves the container running');
  assert.is(s.pid, st.pid);
  hasFile(parent, 'inventory.img');
  ok(ctx.rt(['checkpoint', '--parent-path', '../parent-dir', '--image-path', img, '--work-path', work, id]), 'checkpoint --parent-path');
  assert.ok(fs.lstatSync(path.join(img, 'parent')).isSymbolicLink(), 'image-dir/parent links the pre-dump');
  assert.is(fs.readlinkSync(path.join(img, 'parent')), '../parent-dir');
  assert.is(ctx.state(id), null);
  const at = count(bundle);
  ok(ctx.rt(['restore', '-d', '--image-path', img, '--work-path', work, '--bundle', bundle.dir, id]), 'restore');
  assert.is(ctx.state(id).status, 'running');
  assert.ok(await countAbove(bundle, at) > at, 'the counter goes on');
  ok(ctx.rt(['delete', '--force', id]));
  ctx.leftovers({ id, bundle });
});

// runc's check_pipes: the runtime's stdio three anonymous pipes (what conmon
// gives it; Node's 'pipe' stdio are sockets, which CRIU would need
// --ext-unix-sk for). This relay makes them, runs the runtime, writes its exit
// status to argv[1] once it exits, and then copies its own stdin to the
// container's and the container's stdout and stderr to its own.
const PIPES_PY = String.raw`
import os, subprocess, sys, threading
status_file, argv = sys.argv[1], sys.argv[2:]
in_r, in_w = os.pipe()
out_r, out_w = os.pipe()
err_r, err_w = os.pipe()
p = subprocess.Popen(argv, stdin=in_r, stdout=out_w, stderr=err_w, close_fds=True)
for fd in (in_r, out_w, err_w):
    os.close(fd)
def copy(src, dst, close=False):
    while True:
        b = os.read(src, 4096)
        if not b:
            break
        os.write(dst, b)
    if close:
        os.close(dst)
threading.Thread(target=copy, args=(out_r, 1), daemon=True).start()
threading.Thread(target=copy, args=(err_r, 2), daemon=True).start()
rc = p.wait()
with open(status_file + '.tmp', 'w') as f:
    f.write(str(rc))
os.rename(status_file + '.tmp', status_file)
copy(0, in_w, True)
`;

/** The runtime run through the relay: { exited: Promise<status>, write(text), out(), err(), close() }. */
function withPipes(args) {
  const script = path.join(ctx.base, 'pipes.py');
  if (!fs.existsSync(script)) fs.writeFileSync(script, PIPES_PY);
  const statusFile = ctx.tmp('status');
  const child = ctx.spawnHelper('python3', [script, statusFile, ctx.runtime, '--root', ctx.root, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: ctx.base });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = (async () => {
    const end = Date.now() + 120000;
    while (!fs.existsSync(statusFile)) {
      if (Date.now() > end) throw new Error(`${args[0]} did not exit: ${err}`);
      await h.delay(50);
    }
    return Number(fs.readFileSync(statusFile, 'utf8'));
  })();
  return { exited, write: (t) => child.stdin.write(t), out: () => out, err: () => err, close: () => child.stdin.end() };
}

async function waitText(get, re, what, timeout = 20000) {
  const end = Date.now() + timeout;
  while (!re.test(get())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(get())}`);
    await h.delay(50);
  }
}

test('stdio pipes: the restored process reads and writes the pipes `restore` was given (descriptors.json), as runc\'s check_pipes', async () => {
  if (CANNOT) return skip(CANNOT);
  const bundle = ctx.shBundle('for i in $(seq 10); do read xxx || continue; echo ponG $xxx; done');
  const id = ctx.id('cr-pipes');
  const run = withPipes(['run', '-d', '--bundle', bundle.dir, id]);
  assert.is(await run.exited, 0, `run -d: ${run.err()}`);
  run.write('one\n');
  await waitText(run.out, /ponG one/, 'the first answer');
  const img = ctx.tmp('img');
  ok(ctx.rt(['checkpoint', '--image-path', img, id]), 'checkpoint');
  const names = JSON.parse(fs.readFileSync(path.join(img, 'descriptors.json'), 'utf8'));
  assert.ok(names.every((n) => /^pipe:\[\d+\]$/.test(n)), `descriptors.json: ${JSON.stringify(names)}`);
  run.close();
  const rs = withPipes(['restore', '-d', '--image-path', img, '--bundle', bundle.dir, id]);
  assert.is(await rs.exited, 0, `restore -d: ${rs.err()}`);
  rs.write('Ping\n');
  await waitText(rs.out, /ponG Ping/, 'the restored process\'s answer on the new pipe');
  assert.not.match(rs.out(), /ponG one/, 'nothing of the old pipe');
  assert.is(rs.err(), '', 'nothing on stderr');
  rs.close();
  ok(ctx.rt(['delete', '--force', id]));
  ctx.leftovers({ id, bundle });
});

test('restore in the foreground: restore exits with the container\'s status, and the container is gone after', async () => {
  if (CANNOT) return skip(CANNOT);
  const bundle = ctx.shBundle('exec </dev/null >/dev/null 2>&1; i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done; exit 7');
  const id = ctx.id('cr-fg');
  await runCounter(bundle, id);
  const img = ctx.tmp('img');
  ok(ctx.rt(['checkpoint', '--image-path', img, id]), 'checkpoint');
  const { done } = ctx.rtAsync(['restore', '--image-path', img, '--bundle', bundle.dir, id], { timeout: 120000 });
  await ctx.waitStatus(id, 'running', 60000);
  await countAbove(bundle, count(bundle));
  fs.writeFileSync(path.join(bundle.rootfs, 'tmp', 'stop'), '');
  const r = await done;
  assert.is(r.status, 7, `restore's exit status is the container's: ${r.stderr}`);
  assert.is(ctx.state(id), null, 'deleted after');
  ctx.leftovers({ id, bundle });
});

test('restore runs the prestart and createRuntime hooks with the restored init\'s pid (CRIU\'s setup-namespaces)', async () => {
  if (CANNOT) return skip(CANNOT);
  const log = ctx.tmp('hooks.log');
  const hook = (name) => ({ path: '/bin/sh', args: ['sh', '-c', `read s; echo "${name} $s" >> ${log}`] });
  const bundle = counterBundle();
  const id = ctx.id('cr-hooks');
  await runCounter(bundle, id);
  const img = ctx.tmp('img');
  ok(ctx.rt(['checkpoint', '--image-path', img, id]), 'checkpoint');
  fs.rmSync(log, { force: true });
  const cfg = JSON.parse(fs.readFileSync(bundle.configPath, 'utf8'));
  cfg.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')] };
  ctx.writeConfig(bundle, cfg);
  ok(ctx.rt(['restore', '-d', '--image-path', img, '--bundle', bundle.dir, id]), 'restore');
  const s = ctx.state(id);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(lines.map((l) => l.split(' ')[0]), ['prestart', 'createRuntime'], lines.join('\n'));
  for (const l of lines) {
    const st = JSON.parse(l.slice(l.indexOf(' ') + 1));
    assert.is(st.id, id);
    assert.is(st.pid, s.pid, 'the hook saw the restored init');
  }
  ok(ctx.rt(['delete', '--force', id]));
  ctx.leftovers({ id, bundle });
});

test('a terminal container: restore -d --console-socket hands the new pty master to the socket, and the shell answers on it', async () => {
  if (CANNOT) return skip(CANNOT);
  const bundle = ctx.shBundle('i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done', (c) => {
    c.process.terminal = true;
  });
  const id = ctx.id('cr-tty');
  const rc = ctx.consoleReceiver();
  await rc.listening();
  ok(ctx.rt(['run', '-d', '--console-socket', rc.socket, '--bundle', bundle.dir, id]), 'run -d with a terminal');
  await rc.ready();
  await countAbove(bundle, 2);
  const img = ctx.tmp('img');
  ok(ctx.rt(['checkpoint', '--image-path', img, id]), 'checkpoint');
  const rc2 = ctx.consoleReceiver();
  await rc2.listening();
  const at = count(bundle);
  ok(ctx.rt(['restore', '-d', '--console-socket', rc2.socket, '--image-path', img, '--bundle', bundle.dir, id]), 'restore -d --console-socket');
  await rc2.ready();
  assert.match(rc2.meta(), /fds=1/, 'one fd, the pty master');
  assert.ok(await countAbove(bundle, at) > at, 'the counter goes on');
  ok(ctx.rt(['delete', '--force', id]));
  ctx.leftovers({ id, bundle });
});

test('the library: Container#checkpoint and Container.restore (from a node program) make the same cycle', async () => {
  if (CANNOT) return skip(CANNOT);
  if (!h.IS_TSRUNC) return skip(`the library is tsrunc's (${h.RUNTIME_NAME})`);
  const bundle = counterBundle();
  const id = ctx.id('cr-api');
  await runCounter(bundle, id);
  const img = ctx.tmp('img');
  // a program of its own: the restored init is the restoring process's child, and is handed on when that one exits
  const file = ctx.tmp('program.js');
  fs.writeFileSync(file, `'use strict';
const { Container } = require(${JSON.stringify(h.PROJECT)});
const [root, bundle, id, img] = process.argv.slice(2);
(async () => {
  await Container.open(id, { root }).checkpoint({ imagePath: img, workPath: img });
  const gone = Container.list({ root }).includes(id) ? 'still there' : 'gone';
  const c = await Container.restore(id + '-r', { root, bundle, imagePath: img, workPath: img });
  process.stdout.write(JSON.stringify({ gone, state: c.state() }));
})().catch((e) => { process.stdout.write(JSON.stringify({ error: e.message })); });
`);
  ctx.trackId(`${id}-r`);
  const at = count(bundle);
  const r = spawnSync(process.execPath, [file, ctx.root, bundle.dir, id, img], { encoding: 'utf8', timeout: 120000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.not.ok(out.error, out.error);
  assert.is(out.gone, 'gone');
  assert.is(out.state.id, `${id}-r`);
  assert.is(out.state.status, 'running');
  assert.ok(await countAbove(bundle, at) > at, 'the counter goes on');
  ok(ctx.rt(['delete', '--force', `${id}-r`]));
  ctx.leftovers({ id: `${id}-r`, bundle });
});

test.run();
