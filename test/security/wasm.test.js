'use strict';
// A WebAssembly module runs in a process forked from the runtime
// (src/runtime/init/wasm.ts): no execve replaces the runtime's memory, its
// argv and environment areas or its executable. What the module may reach is
// its linear memory and what WASI gives: stdio and the files under its
// preopen "/", the container's root, which holds the container's /proc.
// The attacks, from modules (test/lib/wasm.js) against the copy of tsrunc:
//   - open its own process's /proc files (mem, environ, maps, cmdline, auxv;
//     by /proc/self, /proc/1, /proc/thread-self, a symlink in the rootfs):
//     before the guard (src/runtime/init/wasi-guard.ts) it read maps (the
//     host paths of node and koffi) and could read and write mem;
//   - reach the host's node binary through /proc/self/exe without asking to
//     follow symlinks (uvwasi lets the kernel follow the magic link), or its
//     host path with path_readlink: before, the module read the ELF file;
//   - from the host's side, what the process shows: before, /proc/PID/cmdline
//     was the runtime's command line (--root, the bundle) and environ the
//     caller's environment;
//   - from another process of the container: the module's processes are not
//     dumpable, so their /proc files are the host root's.
// runc has no WebAssembly handler: these run against tsrunc only.
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const wasm = require('../lib/wasm');
const { skip } = require('../lib/skip');
const lib = require('./lib');

const test = suite('wasm tsrunc');
const ctx = lib.attackContext('wasm');
h.install(test, ctx);

const COMPAT = { 'module.wasm.image/variant': 'compat' };
const SMART = { 'module.wasm.image/variant': 'compat-smart' };
const WASI_EACCES = 2;
const SECRET = `wasm-caller-secret-${h.rand(8)}`;
const show = (r) => `exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout.slice(0, 300)}\nstderr: ${r.stderr}`;

function wtest(name, fn) {
  test(name, async () => {
    const why = wasm.unavailable();
    if (why) return skip(`wasm: ${name}: ${why}`);
    return fn();
  });
}

function bundle(args, annotations = COMPAT) {
  const b = ctx.makeBundle({ args, annotations, readonly: false });
  wasm.installModules(b.rootfs, Object.keys(wasm.MODULES));
  return b;
}

/** Runs `args` in a fresh container, with a secret in the runtime's environment. */
function runModule(b, args) {
  b.config.process.args = args;
  ctx.writeConfig(b, b.config);
  return ctx.rt(['run', '--bundle', b.dir, ctx.id('wa')], { env: { ...process.env, TSRUNC_CALLER_SECRET: SECRET } });
}

/** The host pids of the container's processes (its init's memory or unified cgroup). */
function containerPids(initPid) {
  const lines = fs.readFileSync(`/proc/${initPid}/cgroup`, 'utf8').trim().split('\n');
  const v2 = lines.find((l) => l.startsWith('0::') && !lines.some((x) => x.split(':')[1].includes('memory')));
  const line = v2 || lines.find((l) => l.split(':')[1].split(',').includes('memory'));
  const dir = v2 ? path.join('/sys/fs/cgroup', line.slice(3)) : path.join('/sys/fs/cgroup/memory', line.split(':').slice(2).join(':'));
  return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean).map(Number);
}

wtest('a module cannot open its own process\'s /proc files: mem, environ, maps, cmdline, auxv, by /proc/self, /proc/1, /proc/thread-self, a symlink in the rootfs', () => {
  const b = bundle(['/cat.wasm']);
  fs.symlinkSync('/proc/self/maps', path.join(b.rootfs, 'maps-link'));
  fs.writeFileSync(path.join(b.rootfs, 'etc', 'control'), 'a file of the rootfs\n');
  const control = runModule(b, ['/cat.wasm', '/etc/control']);
  assert.is(control.status, 0, `control: ${show(control)}`);
  assert.is(control.stdout, 'a file of the rootfs\n');
  const paths = ['/proc/self/mem', '/proc/self/environ', '/proc/self/maps', '/proc/self/cmdline', '/proc/self/auxv',
    '/proc/1/mem', '/proc/2/maps', '/proc/thread-self/maps', '/proc/self/task/2/maps', '/maps-link', '/proc/self/fdinfo/1'];
  for (const p of paths) {
    for (const extra of [[], ['nofollow']]) {
      const r = runModule(b, ['/cat.wasm', p, ...extra]);
      // 100 + ENOENT (44) for a pid that is not there (the module is PID 2, its supervisor PID 1)
      if (r.status === 144 && /\/proc\/(1|2|self\/task\/2)\//.test(p)) continue;
      assert.is(r.status, 100 + WASI_EACCES, `${p} ${extra.join(' ')}: ${show(r)}`);
      assert.is(r.stdout, '', `${p}: nothing read`);
    }
  }
});

wtest('a module cannot reach the host\'s node binary: /proc/self/exe opened without following symlinks (the kernel follows the magic link), nor its host path by path_readlink', () => {
  const b = bundle(['/cat.wasm']);
  let r = runModule(b, ['/cat.wasm', '/proc/self/exe', 'nofollow']);
  assert.is(r.status, 100 + WASI_EACCES, show(r));
  assert.not.ok(r.stdout.includes('ELF'), 'the ELF file was read');
  r = runModule(b, ['/cat.wasm', '/proc/self/exe']); // followed by uvwasi: the link's text, in the rootfs
  assert.ok(r.status === 100 + 44 || r.status === 100 + WASI_EACCES, show(r));
  r = runModule(b, ['/readlink.wasm', '/proc/self/exe']);
  assert.is(r.status, 100 + WASI_EACCES, show(r));
  assert.not.ok(r.stdout.includes(path.dirname(lib.runtimeCopies().node)), show(r));
  // a link that names nothing of the runtime is read as usual
  r = runModule(b, ['/readlink.wasm', '/proc/self/cwd']);
  assert.is(r.status, 0, show(r));
  assert.is(r.stdout, '/');
});

wtest('from the host: the module\'s processes show its args, not the runtime\'s command line; an empty environ, not the caller\'s', async () => {
  const b = bundle(['/sleep.wasm', 'an-arg']);
  const id = ctx.id('wh');
  const out = ctx.tmp('out');
  const r = ctx.rt(['run', '-d', '--bundle', b.dir, id], { stdoutPath: out, env: { ...process.env, TSRUNC_CALLER_SECRET: SECRET } });
  assert.is(r.status, 0, show(r));
  await lib.waitFor(() => lib.readText(out) === 'ready\n', 'the module to start');
  const pids = containerPids(ctx.state(id).pid);
  assert.is(pids.length, 2, `the supervisor and the module: ${pids}`);
  for (const p of pids) {
    const cmdline = lib.readText(`/proc/${p}/cmdline`);
    assert.equal(cmdline.split('\0').filter(Boolean), ['/sleep.wasm', 'an-arg'], `process ${p}: ${cmdline}`);
    for (const leak of [ctx.root, b.dir, lib.runtimeCopies().dir, 'tsrunc']) assert.not.ok(cmdline.includes(leak), `process ${p}: cmdline has ${leak}`);
    const environ = lib.readText(`/proc/${p}/environ`);
    assert.not.ok(environ.includes(SECRET), `process ${p}: environ has the caller's secret`);
    assert.is(environ.replace(/\0/g, ''), '', `process ${p}: environ`);
  }
});

wtest('another process of the container cannot read the module\'s processes\' /proc files (environ, mem, exe, fd): they are not dumpable', async () => {
  const b = bundle(['/sleep.wasm'], SMART);
  const id = ctx.id('wx');
  const out = ctx.tmp('out');
  const r = ctx.rt(['run', '-d', '--bundle', b.dir, id], { stdoutPath: out, env: { ...process.env, TSRUNC_CALLER_SECRET: SECRET } });
  assert.is(r.status, 0, show(r));
  await lib.waitFor(() => lib.readText(out) === 'ready\n', 'the module to start');
  const script = 'test -f /sleep.wasm || exit 99; for p in 1 2; do for f in environ mem; do cat /proc/$p/$f >/dev/null 2>&1 && echo "read $p/$f"; done; '
    + 'readlink /proc/$p/exe && echo "exe $p"; readlink /proc/$p/fd/0 && echo "fd $p"; done; echo done';
  const e = ctx.rt(['exec', id, 'sh', '-c', script]);
  assert.is(e.status, 0, show(e));
  assert.is(e.stdout, 'done\n', show(e));
});

test.run();
