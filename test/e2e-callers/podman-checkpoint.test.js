'use strict';
// podman's `container checkpoint` and `container restore` (podman 4.3, conmon,
// CRIU) through each runtime (tsrunc, and runc 1.1.5 as the reference): the
// runtime's checkpoint --image-path/--work-path, then conmon's restore
// --detach --bundle --pid-file --image-path --work-path; the restored
// container counts on from its memory. Also --export/--import under a new
// name (a restore into a new container id) and --leave-running.
//
// CRIU must work with the kernel: where `criu check` fails (this machine's
// kernel) the tests are skipped; the VM guest runs them (test/vm/run.sh
// --criu-checks).
//   node node_modules/uvu/bin.js test/e2e-callers 'podman-checkpoint\.test\.js$'
const fs = require('fs');
const { spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const { skip } = require('../lib/skip');
const L = require('./lib');

const test = suite('podman checkpoint');

/** Why CRIU cannot checkpoint here, or ''. */
const NO_CRIU = (() => {
  if (!L.which('criu') && !fs.existsSync('/usr/sbin/criu')) return 'criu is not installed (Debian: apt-get install criu)';
  const r = spawnSync('criu', ['check', '--log-file', '/dev/null'], { env: { ...process.env, PATH: `${process.env.PATH || ''}:/usr/sbin` } });
  return r.status === 0 ? '' : 'criu check fails on this kernel: podman checkpoint/restore runs in the VM guest (test/vm, run.sh --criu-checks)';
})();

let env;
let pm;

const setup = L.once(async () => {
  const missing = L.missingTools(['podman', 'conmon']);
  if (missing.length) throw new Error(`not installed: ${missing.join(', ')} (apt-get install podman conmon)`);
  env = new L.Env('podman-cr');
  pm = new L.Podman(env);
  pm.setup();
  pm.loadImages();
});

L.cleanUpAfter(test, 'podman checkpoint', () => env);

const show = (r) => `exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const explain = (rt, msg) => `${msg}\nlast runtime calls (${rt}):\n${L.formatCalls(env.calls(rt).slice(-12))}`.split(env.base).join('<tmp>');

function podman(rt, args, opts) {
  return pm.podman(['--runtime', rt, ...args], { timeout: 180000, ...opts });
}

function podmanOk(rt, args, what) {
  const r = podman(rt, args);
  assert.is(r.status, 0, explain(rt, `${what || `podman ${args.join(' ')}`}: ${show(r)}`));
  return r;
}

/** The counter's value inside the container (podman exec), NaN when unreadable. */
function count(rt, name) {
  const r = podman(rt, ['exec', name, 'cat', '/tmp/count']);
  return r.status === 0 ? Number(r.stdout.trim()) : NaN;
}

async function countAbove(rt, name, above, timeout = 60000) {
  const end = Date.now() + timeout;
  for (;;) {
    const n = count(rt, name);
    if (n > above) return n;
    if (Date.now() > end) throw new Error(explain(rt, `${name}: the counter did not go above ${above} (it is ${n})`));
    await L.delay(200);
  }
}

function status(rt, name) {
  const r = podmanOk(rt, ['inspect', '--format', '{{.State.Status}}', name]);
  return r.stdout.trim();
}

const COUNTER = ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done'];

for (const rt of L.RUNTIMES) {
  test(`${rt}: podman container checkpoint, then restore: the runtime's checkpoint and restore flags, the counter goes on`, async () => {
    if (NO_CRIU) return skip(NO_CRIU);
    await setup();
    const name = `cr-${rt}-${L.rand()}`;
    try {
      podmanOk(rt, ['run', '-d', '--name', name, '--cgroup-parent', pm.cgroupParent, L.IMAGES.busybox, ...COUNTER]);
      const id = podmanOk(rt, ['inspect', '--format', '{{.Id}}', name]).stdout.trim();
      const before = await countAbove(rt, name, 2);
      podmanOk(rt, ['container', 'checkpoint', name], 'podman container checkpoint');
      assert.is(status(rt, name), 'exited', 'checkpointed: exited');
      const cp = env.calls(rt).filter((c) => c.sub === 'checkpoint' && c.argv.includes(id)).pop();
      assert.ok(cp && cp.rc === 0, explain(rt, 'the runtime\'s checkpoint ran and succeeded'));
      for (const f of ['--image-path', '--work-path']) assert.ok(cp.argv.includes(f), explain(rt, `checkpoint ${f}`));
      podmanOk(rt, ['container', 'restore', name], 'podman container restore');
      assert.is(status(rt, name), 'running');
      const rs = env.calls(rt).filter((c) => c.sub === 'restore' && c.argv.includes(id)).pop();
      assert.ok(rs && rs.rc === 0, explain(rt, 'the runtime\'s restore ran and succeeded'));
      for (const f of ['--detach', '--image-path', '--work-path', '--bundle', '--pid-file']) assert.ok(rs.argv.includes(f), explain(rt, `restore ${f}`));
      const after = await countAbove(rt, name, before);
      assert.ok(after > before, `counted on from ${before}: ${after}`);
      // the runtime's own view: running, with the pid podman has
      const pid = Number(podmanOk(rt, ['inspect', '--format', '{{.State.Pid}}', name]).stdout.trim());
      assert.ok(pid > 0 && fs.existsSync(`/proc/${pid}`), `podman's pid ${pid} is alive`);
    } finally {
      podman(rt, ['rm', '-f', '-t', '0', name]);
    }
  });

  test(`${rt}: podman container checkpoint --leave-running --export, restore --import under a new name`, async () => {
    if (NO_CRIU) return skip(NO_CRIU);
    await setup();
    const name = `crx-${rt}-${L.rand()}`;
    const copy = `${name}-copy`;
    const archive = env.tmp('export.tar.gz');
    try {
      podmanOk(rt, ['run', '-d', '--name', name, '--cgroup-parent', pm.cgroupParent, L.IMAGES.busybox, ...COUNTER]);
      const before = await countAbove(rt, name, 2);
      const pid = podmanOk(rt, ['inspect', '--format', '{{.State.Pid}}', name]).stdout.trim();
      podmanOk(rt, ['container', 'checkpoint', '--leave-running', '--export', archive, name], 'checkpoint --leave-running --export');
      assert.is(status(rt, name), 'running', 'left running');
      assert.is(podmanOk(rt, ['inspect', '--format', '{{.State.Pid}}', name]).stdout.trim(), pid, 'the same process');
      assert.ok(fs.statSync(archive).size > 0, 'the archive');
      podmanOk(rt, ['container', 'restore', '--import', archive, '--name', copy], 'restore --import --name');
      assert.is(status(rt, copy), 'running');
      const n = await countAbove(rt, copy, before);
      assert.ok(n > before, `the copy counts on from ${before}: ${n}`);
      assert.ok(await countAbove(rt, name, before) > before, 'the original counts on too');
    } finally {
      podman(rt, ['rm', '-f', '-t', '0', copy]);
      podman(rt, ['rm', '-f', '-t', '0', name]);
    }
  });
}

test.run();
