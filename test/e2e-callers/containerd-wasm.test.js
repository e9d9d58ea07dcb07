'use strict';
// containerd (ctr, containerd-shim-runc-v2) driving tsrunc with a WebAssembly
// image: one layer holding only .wasm modules (test/lib/wasm.js, no busybox,
// no libc), imported with `ctr images import`, run with `ctr run --annotation
// module.wasm.image/variant=compat` as a Kubernetes wasm RuntimeClass's
// containers are marked. tsrunc only: runc has no WebAssembly handler.
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const L = require('./lib');
const wasm = require('../lib/wasm');
const { skip } = require('../lib/skip');
const { writeImageArchive } = require('../../scripts/busybox-image');

const test = suite('containerd-wasm');
const RT = 'tsrunc';
const IMAGE = 'localhost/wasm:test'; // Entrypoint ["/hello.wasm"]
const MARK = ['--annotation', 'module.wasm.image/variant=compat'];

let env;
let cd;

/** Why this file cannot run here, or undefined. */
function cannotRun() {
  if (!L.RUNTIMES.includes(RT)) return `E2E_CALLERS_RUNTIMES leaves out ${RT}`;
  const missing = L.missingTools(['containerd', 'ctr', 'containerd-shim-runc-v2']);
  if (missing.length) return `not installed: ${missing.join(', ')} (apt-get install containerd)`;
  return wasm.unavailable();
}

/** Starts containerd and imports the wasm image once. */
const setup = L.once(async () => {
  env = new L.Env('wasm');
  cd = new L.Containerd(env);
  await cd.start();
  const rootfs = path.join(env.base, 'wasm-rootfs');
  fs.mkdirSync(rootfs);
  wasm.installModules(rootfs, Object.keys(wasm.MODULES));
  const archive = path.join(env.base, 'wasm-image.tar');
  writeImageArchive(archive, rootfs, [{ name: IMAGE, config: { Entrypoint: ['/hello.wasm'] } }]);
  cd.importImages(undefined, archive);
});

L.cleanUpAfter(test, 'containerd-wasm', () => env);

function ctest(name, fn) {
  test(name, async () => {
    const why = cannotRun();
    if (why) return skip(`containerd-wasm: ${name}: ${why}`);
    await setup();
    return fn();
  });
}

const show = (r) => `exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const explain = (msg) => `${msg}\nlast runtime calls:\n${L.formatCalls(env.calls(RT).slice(-10))}\ncontainerd log:\n${cd.logTail(10)}`;

function taskStatus(id) {
  const line = cd.ctr(['task', 'ls']).stdout.split('\n').find((l) => l.trim().split(/\s+/)[0] === id);
  return line ? line.trim().split(/\s+/)[2] : null;
}

async function waitTask(id, status, timeout = 15000) {
  const end = Date.now() + timeout;
  while (taskStatus(id) !== status) {
    if (Date.now() > end) throw new Error(explain(`task ${id}: ${taskStatus(id)}, expected ${status}`));
    await L.delay(50);
  }
}

async function remove(id) {
  cd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
  await waitTask(id, 'STOPPED').catch(() => {});
  cd.ctr(['task', 'delete', id]);
  cd.ctr(['containers', 'rm', id]);
}

/** The container's processes gone, its cgroups removed. */
async function assertGone(id) {
  const end = Date.now() + 10000;
  while (L.cgroupDirs(`/${cd.namespace}/${id}`).length) {
    if (Date.now() > end) throw new Error(explain(`cgroups of ${id} left: ${L.cgroupDirs(`/${cd.namespace}/${id}`).join(', ')}`));
    await L.delay(50);
  }
}

ctest('ctr run --rm of an image of modules only: the entrypoint module\'s output and exit code; the annotation reaches tsrunc', async () => {
  const id = `hello-${L.rand()}`;
  const r = cd.ctr(['run', '--rm', ...cd.runtimeArgs(RT), ...MARK, IMAGE, id]);
  assert.is(r.status, 3, explain(show(r)));
  assert.is(r.stdout, 'hello from wasm\n');
  assert.is(r.stderr, 'to stderr\n');
  const create = env.calls(RT).filter((c) => c.sub === 'create' && c.argv.includes(id))[0];
  assert.ok(create && create.rc === 0, explain('create succeeded'));
  assert.is(JSON.parse(create.config).annotations['module.wasm.image/variant'], 'compat');
  await assertGone(id);
});

ctest('ctr run with args: a module of the image given instead of the entrypoint, its args and env', async () => {
  const id = `echo-${L.rand()}`;
  const r = cd.ctr(['run', '--rm', ...cd.runtimeArgs(RT), ...MARK, '--env', 'GREETING=hi there', IMAGE, id, '/echo.wasm', 'a', 'b c']);
  assert.is(r.status, 0, explain(show(r)));
  const [args, envs] = r.stdout.split('--\n');
  assert.is(args, '/echo.wasm\na\nb c\n');
  assert.ok(envs.split('\n').includes('GREETING=hi there'), r.stdout);
  await assertGone(id);
});

ctest('ctr run -d, ctr task exec of a module, ctr task kill (SIGTERM ends the module: exit status 143), task delete', async () => {
  const id = `kill-${L.rand()}`;
  const run = cd.ctrAsync(['run', '--rm', ...cd.runtimeArgs(RT), ...MARK, IMAGE, id, '/sleep.wasm']);
  try {
    await waitTask(id, 'RUNNING');
    const e = cd.ctr(['task', 'exec', '--exec-id', 'x', '--fifo-dir', cd.fifoDir, id, '/exit.wasm', '6']);
    assert.is(e.status, 6, explain(show(e)));
    const h = cd.ctr(['task', 'exec', '--exec-id', 'y', '--fifo-dir', cd.fifoDir, id, '/hello.wasm']);
    assert.is(h.status, 3, explain(show(h)));
    assert.is(h.stdout, 'hello from wasm\n');
    const k = cd.ctr(['task', 'kill', id]);
    assert.is(k.status, 0, explain(show(k)));
    const r = await run.done;
    assert.is(r.status, 143, explain(show(r)));
    assert.is(r.stdout, 'ready\n');
  } finally {
    await remove(id);
  }
  await assertGone(id);
});

ctest('a native command in a container marked compat fails at start with the runtime\'s error, and nothing is left', async () => {
  const id = `native-${L.rand()}`;
  const r = cd.ctr(['run', '--rm', ...cd.runtimeArgs(RT), ...MARK, IMAGE, id, '/bin/sh']);
  assert.not.equal(r.status, 0, explain(show(r)));
  assert.ok(`${r.stdout}${r.stderr}`.includes('exec: "/bin/sh": stat /bin/sh: no such file or directory'), explain(show(r)));
  cd.ctr(['containers', 'rm', id]);
  await assertGone(id);
});

ctest('no runtime call crashed (exit status 0 or 1, 255 for exec; no stack trace)', () => {
  const crashed = L.crashedCalls(env.calls(RT));
  assert.equal(crashed.map((c) => c.argv.join(' ')), [], explain('crashed calls'));
});

test.run();
