'use strict';
// WebAssembly containers end to end through the CLI: a container marked
// module.wasm.image/variant=compat|compat-smart or run.oci.handler=wasm|wasm-smart
// whose args[0] is a .wasm module runs it with Node's WASI (preview1) in
// place of execve, after all of its set-up (src/runtime/init/wasm.ts). The
// modules are written in the text format in test/lib/wasm.js and compiled
// with wat2wasm (Debian's wabt). runc has no WebAssembly handler: against
// another runtime every test is skipped.
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const wasm = require('../lib/wasm');
const { skip } = require('../lib/skip');
const FIXTURES = require('../lib/shared').shared('fixtures/caller-configs');

const test = suite('wasm');
const ctx = h.createContext('wasm');
h.install(test, ctx);

const COMPAT = { 'module.wasm.image/variant': 'compat' };
const SMART = { 'module.wasm.image/variant': 'compat-smart' };
const HANDLER = { 'run.oci.handler': 'wasm' };
const HANDLER_SMART = { 'run.oci.handler': 'wasm-smart' };
const MODULES = Object.keys(wasm.MODULES);
const V2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');

/** Why these tests cannot run here, or undefined. */
function cannotRun() {
  if (!h.IS_TSRUNC) return `${h.RUNTIME_NAME} has no WebAssembly handler`;
  return wasm.unavailable();
}

function wtest(name, fn) {
  test(name, async () => {
    const why = cannotRun();
    if (why) return skip(`wasm: ${name}: ${why}`);
    return fn();
  });
}

const show = (r) => `exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** A bundle (busybox rootfs with every test module as /<name>.wasm) running `args`, marked with `annotations`. */
function bundle(args, annotations = COMPAT, opts = {}) {
  const b = ctx.makeBundle({ args, annotations, ...opts });
  wasm.installModules(b.rootfs, MODULES);
  return b;
}

function run(b, opts = {}) {
  return ctx.rt(['run', '--bundle', b.dir, ctx.id('w')], opts);
}

/** A detached running container; returns { id, pid, b }. */
function started(args, annotations = COMPAT, opts = {}) {
  const b = bundle(args, annotations, opts);
  const id = ctx.id('wd');
  const out = ctx.tmp('out');
  const r = ctx.rt(['run', '-d', '--bundle', b.dir, id], { stdoutPath: out });
  assert.is(r.status, 0, `run -d: ${show(r)}`);
  const s = ctx.state(id);
  assert.ok(s && s.status === 'running', `${id} should be running: ${JSON.stringify(s)}`);
  return { id, pid: s.pid, b, out };
}

async function waitFor(fn, what, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await h.delay(20);
  }
}

const readText = (p) => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

/** The host pids of the container's processes (cgroup.procs of its memory or unified cgroup). */
function containerPids(initPid) {
  const lines = fs.readFileSync(`/proc/${initPid}/cgroup`, 'utf8').trim().split('\n');
  const line = V2 ? lines.find((l) => l.startsWith('0::')) : lines.find((l) => l.split(':')[1].split(',').includes('memory'));
  const dir = V2 ? path.join('/sys/fs/cgroup', line.slice(3)) : path.join('/sys/fs/cgroup/memory', line.split(':').slice(2).join(':'));
  return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean).map(Number);
}

wtest('run: the module\'s stdout, stderr and exit code (proc_exit 3), with each marking crun knows', () => {
  for (const annotations of [COMPAT, SMART, HANDLER, HANDLER_SMART]) {
    const r = run(bundle(['/hello.wasm'], annotations));
    assert.is(r.status, 3, `${JSON.stringify(annotations)}: ${show(r)}`);
    assert.is(r.stdout, 'hello from wasm\n');
    assert.is(r.stderr, 'to stderr\n');
  }
});

wtest('run: the module gets the process\'s args and env (the container\'s, HOME added as for any process), nothing of the runtime\'s environment', () => {
  const b = bundle(['/echo.wasm', 'one', 'two words', ''], COMPAT, { env: ['A=1', 'B=x y=z', 'A=2'] });
  const r = run(b, { env: { ...process.env, TSRUNC_WASM_CALLER: 'caller-only' } });
  assert.is(r.status, 0, show(r));
  assert.is(r.stdout, ['/echo.wasm', 'one', 'two words', '', '--', 'A=1', 'B=x y=z', 'HOME=/root', ''].join('\n'));
});

wtest('run: exit codes of proc_exit and of a _start that returns', () => {
  const b = bundle(['/exit.wasm', '0']);
  for (const code of [0, 1, 42, 255]) {
    b.config.process.args = ['/exit.wasm', String(code)];
    ctx.writeConfig(b, b.config);
    const r = run(b);
    assert.is(r.status, code, show(r));
  }
  const r = run(bundle(['/true.wasm']));
  assert.is(r.status, 0, show(r));
});

wtest('run: a trap ends the module with 134 and says why: unreachable, and an out-of-bounds load (a trap, not a SIGSEGV)', () => {
  for (const [name, why] of [['trap', 'unreachable'], ['oob', 'memory access out of bounds']]) {
    const r = run(bundle([`/${name}.wasm`]));
    assert.is(r.status, 134, show(r));
    assert.ok(r.stderr.includes(`wasm trap: ${why}`), show(r));
  }
});

wtest('run: files in the rootfs under the preopen "/": absolute, relative, through symlinks, none outside it', () => {
  const b = bundle(['/cat.wasm', '/etc/wasm-note'], COMPAT, { readonly: false });
  fs.writeFileSync(path.join(b.rootfs, 'etc', 'wasm-note'), 'in the rootfs\n');
  fs.symlinkSync('/etc/wasm-note', path.join(b.rootfs, 'abs-link'));
  fs.symlinkSync('../../../../../../../../etc/wasm-note', path.join(b.rootfs, 'climbing-link'));
  for (const p of ['/etc/wasm-note', 'etc/wasm-note', '/abs-link', '/climbing-link', '/abs-link nofollow']) {
    b.config.process.args = ['/cat.wasm', ...p.split(' ')];
    ctx.writeConfig(b, b.config);
    const r = run(b);
    assert.is(r.status, 0, `${p}: ${show(r)}`);
    assert.is(r.stdout, 'in the rootfs\n', p);
  }
  // the host's /etc/hostname is not the rootfs's (busybox has none)
  b.config.process.args = ['/cat.wasm', '/../../etc/hostname'];
  ctx.writeConfig(b, b.config);
  const r = run(b);
  assert.is(r.status, 100 + 44, `ENOENT in the rootfs: ${show(r)}`);
});

wtest('run: the process enters the config\'s cwd as any process does (the host sees it as /proc/PID/cwd)', async () => {
  const { pid, b } = started(['/sleep.wasm'], COMPAT, { cwd: '/work/here' });
  for (const p of containerPids(pid)) {
    assert.equal(h.statId(`/proc/${p}/cwd`), h.statId(path.join(b.rootfs, 'work/here')), `process ${p}`);
  }
});

wtest('create, start: created with the annotation in state, the module runs at start, then stopped; delete leaves nothing', async () => {
  const b = bundle(['/hello.wasm']);
  const id = ctx.id('wc');
  const out = ctx.tmp('out');
  let r = ctx.rt(['create', '--bundle', b.dir, id], { stdoutPath: out });
  assert.is(r.status, 0, show(r));
  const s = ctx.state(id);
  assert.is(s.status, 'created');
  assert.equal(s.annotations, COMPAT);
  assert.is(readText(out), '', 'nothing runs before start');
  r = ctx.rt(['start', id]);
  assert.is(r.status, 0, show(r));
  await ctx.waitStatus(id, 'stopped');
  assert.is(readText(out), 'hello from wasm\n');
  r = ctx.rt(['delete', id]);
  assert.is(r.status, 0, show(r));
  ctx.leftovers({ id, bundle: b });
});

wtest('create fails, naming the problem, and leaves nothing: a native args[0] under compat and run.oci.handler=wasm, a missing module, .wat text, not a module, a component, imports WASI lacks, no _start', () => {
  const cases = [
    [['sh', '-c', 'true'], COMPAT, 'exec: "sh": not a WebAssembly module (the container is marked as WebAssembly by module.wasm.image/variant=compat)'],
    [['/bin/busybox', 'true'], HANDLER, 'exec: "/bin/busybox": not a WebAssembly module (the container is marked as WebAssembly by run.oci.handler=wasm)'],
    [['/missing.wasm'], COMPAT, 'exec: "/missing.wasm": stat /missing.wasm: no such file or directory'],
    [['/text.wat'], SMART, 'exec: "/text.wat": the WebAssembly text format (.wat) is not supported: compile it to a .wasm module (wat2wasm)'],
    [['/garbage.wasm'], SMART, 'exec: "/garbage.wasm": not a WebAssembly module'],
    [['/bad.wasm'], COMPAT, 'exec: "/bad.wasm": invalid WebAssembly module: '],
    [['/component.wasm'], COMPAT, 'exec: "/component.wasm": a WebAssembly component or unknown version 65549: only core modules (WASI preview1) are supported'],
    [['/envImport.wasm'], COMPAT, 'exec: "/envImport.wasm": imports function env.host_call: only WASI preview1 functions (wasi_snapshot_preview1) can be given to a module'],
    [['/noStart.wasm'], COMPAT, 'exec: "/noStart.wasm": not a WASI command: it exports no _start function'],
    [['/dev/zero'], COMPAT, 'exec: "/dev/zero": not a regular file'],
  ];
  for (const [args, annotations, message] of cases) {
    const b = bundle(args, annotations);
    fs.writeFileSync(path.join(b.rootfs, 'text.wat'), '(module)\n');
    fs.writeFileSync(path.join(b.rootfs, 'garbage.wasm'), 'not wasm at all\n');
    fs.writeFileSync(path.join(b.rootfs, 'bad.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff, 0xff]));
    fs.writeFileSync(path.join(b.rootfs, 'component.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]));
    for (const n of Object.keys(wasm.BAD_MODULES)) fs.copyFileSync(wasm.moduleFile(n), path.join(b.rootfs, `${n}.wasm`));
    const id = ctx.id('wf');
    const r = ctx.rt(['create', '--bundle', b.dir, id]);
    assert.is(r.status, 1, `${args[0]}: ${show(r)}`);
    const msg = h.errorMessage(r.stderr);
    assert.ok(msg.includes(message), `${args[0]}: "${msg}" should include "${message}"`);
    ctx.leftovers({ id, bundle: b });
  }
});

wtest('native processes: compat-smart and wasm-smart run a native args[0] natively, a CRI sandbox is never a module, no annotation execs a .wasm as any file', () => {
  for (const annotations of [SMART, HANDLER_SMART, { ...COMPAT, 'io.kubernetes.cri.container-type': 'sandbox' }]) {
    const r = run(bundle(['sh', '-c', 'echo native; exit 4'], annotations));
    assert.is(r.status, 4, `${JSON.stringify(annotations)}: ${show(r)}`);
    assert.is(r.stdout, 'native\n');
  }
  // run.oci.handler decides alone when present (crun's order): another handler is not ours
  let r = run(bundle(['sh', '-c', 'echo native'], { 'run.oci.handler': 'krun', ...COMPAT }));
  assert.is(r.status, 0, show(r));
  assert.is(r.stdout, 'native\n');
  r = ctx.rt(['create', '--bundle', bundle(['/hello.wasm'], {}).dir, ctx.id('wn')]);
  assert.is(r.status, 1, show(r));
  assert.ok(h.errorMessage(r.stderr).includes('exec: "/hello.wasm": permission denied'), show(r));
});

wtest('kill: SIGTERM ends a module that cannot handle it, also as PID 1 (run returns 143), SIGKILL 137; without a pid namespace too', async () => {
  const cases = [['TERM', 143, undefined], ['KILL', 137, undefined], ['TERM', 143, 'no pid namespace'], ['INT', 130, undefined]];
  for (const [sig, status, variant] of cases) {
    const b = bundle(['/sleep.wasm']);
    if (variant) {
      b.config.linux.namespaces = b.config.linux.namespaces.filter((n) => n.type !== 'pid');
      ctx.writeConfig(b, b.config);
    }
    const id = ctx.id('wk');
    const out = ctx.tmp('out');
    const { done } = ctx.rtAsync(['run', '--bundle', b.dir, id], { stdoutPath: out });
    await waitFor(() => readText(out) === 'ready\n', `the module of ${id} to start`);
    const k = ctx.rt(['kill', id, sig]);
    assert.is(k.status, 0, show(k));
    const r = await done;
    assert.is(r.status, status, `SIG${sig} ${variant || ''}: ${show(r)}`);
    ctx.leftovers({ id, bundle: b });
  }
  // kill --all, of a detached one: every process of the container ends
  const { id, pid } = started(['/sleep.wasm']);
  const pids = containerPids(pid);
  assert.is(pids.length, 2, `PID 1 and the module's process: ${pids}`);
  assert.is(ctx.rt(['kill', '--all', id, 'KILL']).status, 0);
  await ctx.waitStatus(id, 'stopped');
  for (const p of pids) await waitFor(() => !h.pidAlive(p), `process ${p} to end`);
});

wtest('exec: a module (output, exit code, the exec\'s args and env), a native binary under compat-smart, and under compat a native binary is refused as crun\'s handlers do', () => {
  const { id } = started(['/sleep.wasm'], SMART);
  let r = ctx.rt(['exec', '--env', 'E=1', id, '/echo.wasm', 'x y']);
  assert.is(r.status, 0, show(r));
  assert.is(r.stdout, ['/echo.wasm', 'x y', '--', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'E=1', 'HOME=/root', ''].join('\n'));
  r = ctx.rt(['exec', id, '/exit.wasm', '5']);
  assert.is(r.status, 5, show(r));
  r = ctx.rt(['exec', id, 'sh', '-c', 'test -f /sleep.wasm && echo native $$']);
  assert.is(r.status, 0, show(r));
  assert.match(r.stdout, /^native \d+\n$/);
  r = ctx.rt(['exec', id, '/trap.wasm']);
  assert.is(r.status, 134, show(r));

  const c = started(['/sleep.wasm'], COMPAT);
  r = ctx.rt(['exec', c.id, '/hello.wasm']);
  assert.is(r.status, 3, show(r));
  assert.is(r.stdout, 'hello from wasm\n');
  r = ctx.rt(['exec', c.id, 'sh', '-c', 'echo native']);
  assert.not.equal(r.status, 0, show(r));
  assert.ok(h.errorMessage(r.stderr).includes('exec: "sh": not a WebAssembly module'), show(r));
});

wtest('memory limit: a module that grows its memory past linux.resources.memory.limit is OOM-killed (or memory.grow fails); below it, it grows', () => {
  const cgroupsPath = `/tsrunc-e2e-wasm-${h.rand()}`;
  const b = bundle(['/grow.wasm', '256'], COMPAT, { cgroupsPath, edit: (c) => { c.linux.resources = { memory: { limit: 64 * 1024 * 1024 } }; } });
  let r = run(b);
  assert.is(r.status, 0, `16 MiB under a 64 MiB limit: ${show(r)}`);
  assert.is(r.stdout, 'grown\n');
  b.config.process.args = ['/grow.wasm', '2048'];
  ctx.writeConfig(b, b.config);
  const id = ctx.id('wm');
  r = ctx.rt(['run', '--bundle', b.dir, id]);
  assert.ok(r.status === 137 || r.status === 2, `128 MiB under a 64 MiB limit: ${show(r)}`);
  assert.not.ok(r.stdout.includes('grown'), show(r));
  if (r.status === 137 && !V2) {
    // the OOM killer, not anything else, ended it
    const oom = readText(path.join('/sys/fs/cgroup/memory', cgroupsPath, 'memory.oom_control'));
    if (oom) assert.match(oom, /oom_kill [1-9]/);
  }
});

/** containerd's default seccomp profile (RuntimeDefault, Docker's list), from a captured CRI config. */
function containerdProfile() {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, 'containerd-cri-container.json'), 'utf8')).linux.seccomp;
}

/**
 * The syscalls docs/wasm.md says a module's processes make once the filter is
 * in force, those of any container's init before execve (fifo, ready) and
 * exit_group: an allow list that must be enough.
 */
const WASM_SYSCALLS = [
  // the init after the filter: ready, the exec fifo, fds, the supervisor
  'sendmsg', 'openat', 'write', 'close', 'close_range', 'fcntl', 'getpid', 'dup3', 'eventfd2', 'prctl',
  'madvise', 'clone', 'set_robust_list', 'rt_sigprocmask', 'rt_sigtimedwait', 'kill', 'wait4', 'exit_group',
  // Node and V8 running the module
  'mmap', 'munmap', 'mprotect', 'rt_sigaction', 'rt_sigreturn', 'futex', 'read', 'pipe2', 'statx', 'fstat', 'fstatfs', 'ioctl',
  // WASI calls (uvwasi): files, poll_oneoff's loop, random_get, clocks
  'readlink', 'lseek', 'pread64', 'pwrite64', 'readv', 'writev', 'getdents64', 'epoll_create1', 'epoll_ctl', 'epoll_pwait', 'epoll_wait',
  'getrandom', 'clock_gettime', 'clock_nanosleep', 'sched_yield', 'exit',
];

wtest('seccomp: modules run under containerd\'s default profile and under the allow list docs/wasm.md gives (hello, a file, poll_oneoff, memory.grow, a trap, kill)', async () => {
  const minimal = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'], syscalls: [{ names: WASM_SYSCALLS, action: 'SCMP_ACT_ALLOW' }] };
  for (const [what, profile] of [['containerd', containerdProfile()], ['minimal', minimal]]) {
    const edit = (c) => { c.linux.seccomp = profile; };
    const b = bundle(['/hello.wasm'], COMPAT, { edit });
    fs.writeFileSync(path.join(b.rootfs, 'etc', 'wasm-note'), 'note\n');
    for (const [args, status, stdout] of [[['/hello.wasm'], 3, 'hello from wasm\n'], [['/cat.wasm', '/etc/wasm-note'], 0, 'note\n'], [['/grow.wasm', '64'], 0, 'grown\n'], [['/trap.wasm'], 134, '']]) {
      b.config.process.args = args;
      ctx.writeConfig(b, b.config);
      const r = run(b);
      assert.is(r.status, status, `${what}: ${args.join(' ')}: ${show(r)}`);
      assert.is(r.stdout, stdout, `${what}: ${args.join(' ')}`);
    }
    b.config.process.args = ['/tick.wasm'];
    ctx.writeConfig(b, b.config);
    const id = ctx.id('ws');
    const out = ctx.tmp('out');
    const { done } = ctx.rtAsync(['run', '--bundle', b.dir, id], { stdoutPath: out });
    // ticks: poll_oneoff and fd_write, again and again, under the filter
    await waitFor(() => readText(out).startsWith('tick\ntick\n'), `${what}: the module of ${id} to tick twice`);
    const pids = containerPids(ctx.state(id).pid);
    for (const p of pids) assert.match(readText(`/proc/${p}/status`), /^Seccomp:\s+2$/m, `${what}: process ${p} is filtered`);
    assert.is(ctx.rt(['kill', id, 'TERM']).status, 0);
    const r = await done;
    assert.is(r.status, 143, `${what}: ${show(r)}`);
  }
});

wtest('the module\'s processes show the module, not the runtime: cmdline its args, comm its name, an empty environ, no fd of the host but stdio', async () => {
  const { pid, b } = started(['/sleep.wasm', 'arg'], COMPAT, { env: ['ONLY=container'] });
  const pids = containerPids(pid);
  assert.is(pids.length, 2);
  for (const p of pids) {
    assert.equal(readText(`/proc/${p}/cmdline`).split('\0').filter(Boolean), ['/sleep.wasm', 'arg'], `process ${p}`);
    assert.is(readText(`/proc/${p}/comm`), 'sleep.wasm\n');
    assert.is(readText(`/proc/${p}/environ`).replace(/\0/g, ''), '', `process ${p}: environ`);
    assert.match(readText(`/proc/${p}/status`), /^NoNewPrivs:\s+1$/m);
    const fds = fs.readdirSync(`/proc/${p}/fd`).map(Number).filter((n) => n > 2);
    for (const n of fds) {
      const target = fs.readlinkSync(`/proc/${p}/fd/${n}`);
      const isRoot = h.statId(`/proc/${p}/fd/${n}`) === h.statId(b.rootfs);
      // every other fd was made after the runtime's were closed: Node's eventfds, the loop poll_oneoff runs (epoll, its signal pipe)
      assert.ok(isRoot || /^(anon_inode:\[(eventfd|eventpoll)\]|pipe:\[\d+\])$/.test(target), `process ${p} fd ${n} -> ${target}`);
    }
  }
});

wtest('runs as the config\'s user: a module only root may read is refused, one it may read runs', () => {
  const b = bundle(['/hello.wasm'], COMPAT, { edit: (c) => { c.process.user = { uid: 1000, gid: 1000 }; } });
  fs.chmodSync(path.join(b.rootfs, 'hello.wasm'), 0o600);
  let r = ctx.rt(['create', '--bundle', b.dir, ctx.id('wu')]);
  assert.is(r.status, 1, show(r));
  assert.ok(h.errorMessage(r.stderr).includes('exec: "/hello.wasm": permission denied'), show(r));
  fs.chmodSync(path.join(b.rootfs, 'hello.wasm'), 0o644);
  r = run(b);
  assert.is(r.status, 3, show(r));
});

wtest('features: the annotations say WebAssembly modules run, with WASI preview1', () => {
  const r = ctx.rt(['features'], { noRoot: true });
  assert.is(r.status, 0, show(r));
  const a = JSON.parse(r.stdout).annotations;
  assert.is(a['org.opencontainers.tsrunc.wasm'], 'true');
  assert.is(a['org.opencontainers.tsrunc.wasm.wasi'], 'preview1');
});

test.run();
