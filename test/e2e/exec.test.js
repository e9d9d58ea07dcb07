'use strict';
// `exec` end to end: a busybox container running `sleep`, and processes
// started in it with every flag runc 1.1 has. The runtime is a parameter:
//   node node_modules/uvu/bin.js test/e2e exec.test.js
//   TSRUNC_TEST_RUNTIME=/usr/sbin/runc node node_modules/uvu/bin.js test/e2e exec.test.js
// Every assertion holds for runc 1.1.5 (the reference). tsrunc's known
// deviations from it are listed in KNOWN below: against tsrunc such a test
// still runs, its failure is printed as "KNOWN tsrunc FAILURE ..." instead of
// failing the suite, and it fails if it passes (so the list stays true).
// TSRUNC_EXEC_STRICT=1 makes them ordinary tests.
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const { spawnSync } = require('child_process');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');

const test = suite('exec');
const ctx = h.createContext('exec');
h.install(test, ctx);

// name of a test -> the tsrunc bug it hits (see the file's header)
const KNOWN = h.IS_TSRUNC && !process.env.TSRUNC_EXEC_STRICT ? {
  // none at present
} : {};

function xtest(name, fn) {
  const bug = KNOWN[name];
  if (!bug) {
    test(name, fn);
    return;
  }
  test(name, async () => {
    let err;
    try {
      await fn();
    } catch (e) {
      err = e;
    }
    if (err) {
      console.log(`KNOWN tsrunc FAILURE exec: ${name}: ${bug}\n  ${String(err && err.message).split('\n')[0]}`);
      return;
    }
    assert.unreachable(`"${name}" is listed as a known tsrunc failure (${bug}) but passes: remove it from KNOWN`);
  });
}

// the capabilities of the default config: CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10)
const DEFAULT_CAPS = (1n << 29n) | (1n << 5n) | (1n << 10n);
const CAP_SYS_ADMIN = 21n;
const CAP_NET_ADMIN = 12n;

/** A running container (`run -d`) whose process is `sleep 1000`; opts go to makeBundle. */
function start(opts = {}) {
  const b = ctx.makeBundle({ args: ['sleep', '1000'], ...opts });
  const id = ctx.id('ex');
  const r = ctx.rt(['run', '-d', '--bundle', b.dir, id]);
  assert.is(r.status, 0, `run -d: ${r.stderr}`);
  const s = ctx.state(id);
  assert.ok(s && s.status === 'running', `container ${id} should be running: ${JSON.stringify(s)}`);
  return { b, id, pid: s.pid };
}

/** `<runtime> exec ...args`; opts as ctx.rt. */
function exec(args, opts) {
  return ctx.rt(['exec', ...args], opts);
}

function ok(r, what = 'exec') {
  assert.is(r.status, 0, `${what}: status ${r.status} signal ${r.signal}; stderr: ${r.stderr}`);
}

/** Fields of /proc/<pid>/status text as a map. */
function statusFields(text) {
  const m = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return m;
}

const hostStatus = (pid) => statusFields(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
const capHex = (v) => v.toString(16).padStart(16, '0');

/** The message of a failed exec (one error log line, as runc). */
function failMessage(r) {
  assert.ok(r.status !== 0 && r.status !== null, `exec should fail: status ${r.status} signal ${r.signal}; stdout: ${r.stdout}`);
  return h.errorMessage(r.stderr);
}

/** The container is still running with the same init. */
function unharmed(c) {
  const s = ctx.state(c.id);
  assert.ok(s, `state ${c.id}`);
  assert.is(s.status, 'running');
  assert.is(s.pid, c.pid);
  assert.ok(h.pidAlive(c.pid), 'the init is alive');
  const r = exec([c.id, 'echo', 'still-here']);
  ok(r, 'exec after the failure');
  assert.is(r.stdout, 'still-here\n');
}

async function waitFile(p, re, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    const t = fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
    if (re.test(t)) return t;
    if (Date.now() > end) throw new Error(`${p}: ${JSON.stringify(t)} does not match ${re}`);
    await h.delay(50);
  }
}

// ---- the process ----

test('exec ID cmd args: output, stdin, exit status 0, the container keeps running', () => {
  const c = start();
  let r = exec([c.id, 'echo', 'hello', 'world']);
  ok(r);
  assert.is(r.stdout, 'hello world\n');
  assert.is(r.stderr, '');
  r = exec([c.id, 'cat'], { input: 'from stdin\n' });
  ok(r);
  assert.is(r.stdout, 'from stdin\n');
  r = exec([c.id, 'sh', '-c', 'echo to-stderr >&2']);
  ok(r);
  assert.is(r.stderr, 'to-stderr\n');
  const s = ctx.state(c.id);
  assert.is(s.status, 'running');
  assert.is(s.pid, c.pid);
});

test('exit status: the process\'s, 128+N when killed by signal N', () => {
  const c = start();
  assert.is(exec([c.id, 'sh', '-c', 'exit 7']).status, 7);
  assert.is(exec([c.id, 'false']).status, 1);
  assert.is(exec([c.id, 'sh', '-c', 'kill -KILL $$']).status, 137);
  assert.is(exec([c.id, 'sh', '-c', 'kill -TERM $$']).status, 143);
  assert.is(ctx.state(c.id).status, 'running');
});

test('args that look like flags belong to the command', () => {
  const c = start();
  let r = exec([c.id, 'sh', '-c', 'echo x']);
  ok(r);
  assert.is(r.stdout, 'x\n');
  r = exec([c.id, 'echo', '--cwd', '/tmp', '-e', 'A=1', '-u', '0', '--help', '-d']);
  ok(r);
  assert.is(r.stdout, '--cwd /tmp -e A=1 -u 0 --help -d\n');
  r = exec(['--cwd', '/tmp', c.id, 'sh', '-c', 'pwd', '--cwd', '/etc']);
  ok(r);
  assert.is(r.stdout, '/tmp\n');
});

// ---- the container it joins ----

test('joins every namespace of the init (same /proc/PID/ns inodes)', () => {
  const c = start();
  const names = fs.readdirSync(`/proc/${c.pid}/ns`).filter((n) => !n.endsWith('_for_children')).sort();
  assert.ok(names.includes('pid') && names.includes('mnt'), names.join(' '));
  const r = exec([c.id, 'sh', '-c', `for n in ${names.join(' ')}; do echo "$n $(readlink /proc/self/ns/$n)"; done`]);
  ok(r);
  const inside = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ')));
  for (const n of names) {
    assert.is(inside[n], fs.readlinkSync(`/proc/${c.pid}/ns/${n}`), `${n} namespace`);
  }
  // the config's new namespaces really are not the host's
  for (const n of ['pid', 'net', 'ipc', 'uts', 'mnt']) {
    assert.is.not(inside[n], fs.readlinkSync(`/proc/self/ns/${n}`), `${n} namespace is the container's, not the host's`);
  }
});

// Prints the calling process's session keyring: its serial and KEYCTL_DESCRIBE's text.
const SESSION_KEYRING_C = `#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
  long id = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0);
  char d[256] = "";
  long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, id, d, sizeof d - 1);
  if (n < 0) d[0] = 0;
  printf("%ld %s\\n", id, d);
  return id < 0;
}
`;

test('joins the init\'s session keyring "_ses.<id>", as runc\'s exec does (not the caller\'s)', () => {
  const src = ctx.tmp('keyring.c');
  const bin = ctx.tmp('keyring');
  fs.writeFileSync(src, SESSION_KEYRING_C);
  const cc = spawnSync('gcc', ['-static', '-O2', '-x', 'c', '-o', bin, src], { encoding: 'utf8' });
  if (cc.error?.code === 'ENOENT') return skip('gcc is not installed: the helper that prints a process\'s session keyring cannot be built');
  assert.is(cc.status, 0, `gcc: ${cc.stderr}`);
  const c = start({ args: ['sh', '-c', '/keyring > /init-keyring.tmp && mv /init-keyring.tmp /init-keyring; exec sleep 1000'], readonly: false, edit: (cfg) => {
    cfg.mounts.push({ destination: '/keyring', type: 'bind', source: bin, options: ['bind', 'ro'] });
  } });
  const initFile = path.join(c.b.rootfs, 'init-keyring');
  for (const end = Date.now() + 10000; !fs.existsSync(initFile) && Date.now() < end;) h.sleepMs(20);
  const init = fs.readFileSync(initFile, 'utf8').trim();
  assert.match(init, new RegExp(`^\\d+ keyring;0;0;[0-9a-f]+;_ses\\.${c.id}$`), init);
  const r = exec([c.id, '/keyring']);
  ok(r);
  assert.is(r.stdout.trim(), init, 'the same keyring as the init');
});

test('sees the container: PID 1 is its init, its hostname, its root filesystem', () => {
  const c = start({ hostname: 'exec-host' });
  // written after the container started: the rootfs is the bundle's (readonly only from inside)
  fs.writeFileSync(path.join(c.b.rootfs, 'marker'), 'in-the-rootfs\n');
  const r = exec([c.id, 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline; echo; hostname; cat /marker; echo "$$"; ps -o pid,args']);
  ok(r);
  const lines = r.stdout.split('\n');
  assert.is(lines[0], 'sleep 1000 ');
  assert.is(lines[1], 'exec-host');
  assert.is(lines[2], 'in-the-rootfs');
  assert.ok(Number(lines[3]) > 1, `the exec'd shell is not PID 1: ${lines[3]}`);
  const ps = lines.slice(5).filter(Boolean).map((l) => l.trim().split(/\s+/));
  assert.equal(ps[0].slice(0, 3), ['1', 'sleep', '1000'], r.stdout);
  assert.ok(ps.length <= 4, `only sleep, sh and ps:\n${r.stdout}`);
});

test('joins the cgroup of the init (/proc/PID/cgroup matches), attached and detached', () => {
  const c = start();
  const initCg = fs.readFileSync(`/proc/${c.pid}/cgroup`, 'utf8');
  assert.is.not(initCg, fs.readFileSync('/proc/self/cgroup', 'utf8'), 'the init is in its own cgroup');
  // the config has no cgroup namespace: the process sees the host's paths
  const r = exec([c.id, 'cat', '/proc/self/cgroup']);
  ok(r);
  assert.is(r.stdout, initCg);
  const pidFile = ctx.tmp('pid');
  ok(exec(['-d', '--pid-file', pidFile, c.id, 'sleep', '1000']), 'exec -d');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  assert.is(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'), initCg);
});

test('joins the cgroup of the init from inside its cgroup namespace too (the kernel refuses clone3 into the cgroup there: the runtime adds it)', () => {
  const c = start({ namespaces: [...h.defaultConfig().linux.namespaces, { type: 'cgroup' }] });
  const initCg = fs.readFileSync(`/proc/${c.pid}/cgroup`, 'utf8');
  assert.is.not(initCg, fs.readFileSync('/proc/self/cgroup', 'utf8'), 'the init is in its own cgroup');
  const pidFile = ctx.tmp('pid');
  ok(exec(['-d', '--pid-file', pidFile, c.id, 'sleep', '1000']), 'exec -d');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  assert.is(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'), initCg);
  const r = exec([c.id, 'cat', '/proc/self/cgroup']);
  ok(r);
  assert.ok(r.stdout.split('\n').filter(Boolean).every((l) => l.endsWith(':/')), `the process sees its cgroup as the namespace's root:\n${r.stdout}`);
});

test('--cgroup (cgroup v1): a sub-cgroup per controller or for all; runc\'s errors for "..", a missing one, an unknown controller, bad arguments', () => {
  if (fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) return skip('cgroup v1 only: this host has cgroup v2');
  const c = start();
  // the init's cgroup per hierarchy (the config has no cgroup namespace: host paths)
  const initCg = {};
  for (const line of fs.readFileSync(`/proc/${c.pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, ctrls, p] = line.split(':');
    for (const k of ctrls.split(',')) initCg[k] = p;
  }
  const mount = (ctrl) => `/sys/fs/cgroup/${ctrl}`;
  const made = [path.join(mount('memory'), initCg.memory, 'submem'), path.join(mount('cpu'), initCg.cpu, 'subcpu')];
  if (fs.realpathSync(mount('cpu')) !== fs.realpathSync(mount('cpuacct'))) made.push(path.join(mount('cpuacct'), initCg.cpuacct, 'subcpu'));
  for (const d of made) fs.mkdirSync(d);
  try {
    const fails = (args, re) => {
      const r = exec([...args, c.id, 'true']);
      assert.is.not(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(h.errorMessage(r.stderr), re, args.join(' '));
    };
    fails(['--cgroup', '..'], /^exec failed: unable to create new parent process: \.\. is not a sub cgroup path$/);
    fails(['--cgroup', 'cpu:../x'], /: \.\.\/x is not a sub cgroup path$/);
    fails(['--cgroup', 'nonexistent'], /^exec failed: unable to start container process: error adding pid \d+ to cgroups: failed to write \d+: \S+ \/sys\/fs\/cgroup\/\S+\/nonexistent\/cgroup\.procs: no such file or directory$/);
    fails(['--cgroup', 'cpu:nonexistent'], / adding pid \d+ .*\/cpu[^:]*\/nonexistent\/cgroup\.procs: no such file or directory$/);
    fails(['--cgroup', 'whaaat:/'], /^exec failed: unable to create new parent process: unknown controller whaaat in SubCgroupPaths$/);
    fails(['--cgroup', 'a:b:c'], /^exec failed: invalid --cgroup argument: a:b:c$/);
    fails(['--cgroup', 'x', '--cgroup', 'cpu:y'], /^exec failed: invalid --cgroup argument: x \(missing <controller>: prefix\)$/);
    unharmed(c);
    // "/" is the container's own cgroup
    let r = exec(['--cgroup', '/', c.id, 'cat', '/proc/self/cgroup']);
    ok(r);
    assert.is(r.stdout, fs.readFileSync(`/proc/${c.pid}/cgroup`, 'utf8'));
    r = exec(['--cgroup', 'memory:submem', '--cgroup', 'cpu,cpuacct:subcpu', c.id, 'cat', '/proc/self/cgroup']);
    ok(r);
    const got = {};
    for (const line of r.stdout.trim().split('\n')) {
      const [, ctrls, p] = line.split(':');
      for (const k of ctrls.split(',')) got[k] = p;
    }
    assert.is(got.memory, `${initCg.memory}/submem`);
    assert.is(got.cpu, `${initCg.cpu}/subcpu`);
    assert.is(got.cpuacct, `${initCg.cpuacct}/subcpu`);
    assert.is(got.pids, initCg.pids, 'the other hierarchies: the container\'s cgroup');
  } finally {
    for (const d of made.reverse()) fs.rmdirSync(d);
  }
});

// ---- flags ----

test('--cwd: the working directory (default: the config\'s)', () => {
  const c = start({ cwd: '/etc' });
  let r = exec([c.id, 'pwd']);
  ok(r);
  assert.is(r.stdout, '/etc\n');
  r = exec(['--cwd', '/tmp', c.id, 'pwd']);
  ok(r);
  assert.is(r.stdout, '/tmp\n');
  r = exec(['--cwd', '/no/such/dir', c.id, 'pwd']);
  const msg = failMessage(r);
  assert.match(msg, /chdir to cwd \("\/no\/such\/dir"\) set in config.json failed/);
  assert.match(msg, /no such file or directory/);
});

xtest('--env/-e: overrides a variable of the config and adds new ones', () => {
  const c = start({ env: { FOO: 'from-config', KEEP: 'kept' } });
  let r = exec([c.id, 'env']);
  ok(r);
  assert.match(r.stdout, /^FOO=from-config$/m);
  // runc (urfave/cli) refuses two forms of one flag in a command: -e and --env are tried apart
  for (const flags of [['-e', 'FOO=override', '-e', 'NEW=added'], ['--env', 'FOO=override', '--env=NEW=added']]) {
    r = exec([...flags, c.id, 'env']);
    ok(r, `exec ${flags.join(' ')}`);
    const env = r.stdout.split('\n').filter(Boolean);
    assert.equal(env.filter((e) => e.startsWith('FOO=')), ['FOO=override']);
    assert.ok(env.includes('NEW=added'), r.stdout);
    assert.ok(env.includes('KEEP=kept'), r.stdout);
    assert.ok(env.includes('TERM=xterm'), r.stdout);
    assert.ok(env.some((e) => e.startsWith('PATH=')), r.stdout);
  }
});

test('--user/-u uid[:gid] (gid defaults to the config\'s)', () => {
  const c = start();
  let r = exec(['--user', '1000:1001', c.id, 'sh', '-c', 'id -u; id -g']);
  ok(r);
  assert.is(r.stdout, '1000\n1001\n');
  r = exec(['-u', '65534', c.id, 'sh', '-c', 'id -u; id -g']);
  ok(r);
  assert.is(r.stdout, '65534\n0\n');
  r = exec(['-u', 'abc', c.id, 'true']);
  assert.match(failMessage(r), /abc/);
});

xtest('--additional-gids/-g: supplementary groups', () => {
  const c = start();
  for (const flag of ['-g', '--additional-gids']) {
    const r = exec(['-u', '1000:1000', flag, '10', flag, '20', c.id, 'grep', '^Groups:', '/proc/self/status']);
    ok(r, flag);
    assert.match(r.stdout, /^Groups:\s+10 20\s*$/);
  }
});

test('the container\'s capabilities apply (same sets as the init)', () => {
  const c = start();
  const init = hostStatus(c.pid);
  assert.is(init.CapEff, capHex(DEFAULT_CAPS));
  const r = exec([c.id, 'cat', '/proc/self/status']);
  ok(r);
  const st = statusFields(r.stdout);
  for (const k of ['CapEff', 'CapPrm', 'CapBnd', 'CapInh']) assert.is(st[k], init[k], k);
});

xtest('--cap/-c: adds to the bounding, permitted and effective sets', () => {
  const c = start();
  for (const flag of ['--cap', '-c']) {
    const r = exec([flag, 'CAP_SYS_ADMIN', flag, 'CAP_NET_ADMIN', c.id, 'cat', '/proc/self/status']);
    ok(r, flag);
    const st = statusFields(r.stdout);
    const want = capHex(DEFAULT_CAPS | (1n << CAP_SYS_ADMIN) | (1n << CAP_NET_ADMIN));
    assert.is(st.CapEff, want, 'CapEff');
    assert.is(st.CapPrm, want, 'CapPrm');
    assert.is(st.CapBnd, want, 'CapBnd');
    assert.is(st.CapInh, capHex(0n), 'CapInh stays empty (CVE-2022-29162)');
  }
  // the init is not affected
  assert.is(hostStatus(c.pid).CapEff, capHex(DEFAULT_CAPS));
});

xtest('--no-new-privs, and the config\'s noNewPrivileges otherwise', () => {
  const off = start({ edit: (cfg) => { cfg.process.noNewPrivileges = false; } });
  let r = exec([off.id, 'grep', '^NoNewPrivs:', '/proc/self/status']);
  ok(r);
  assert.match(r.stdout, /^NoNewPrivs:\s+0$/m);
  r = exec(['--no-new-privs', off.id, 'grep', '^NoNewPrivs:', '/proc/self/status']);
  ok(r);
  assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
  const on = start();
  r = exec([on.id, 'grep', '^NoNewPrivs:', '/proc/self/status']);
  ok(r);
  assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
});

test('the container\'s seccomp filter applies', () => {
  const c = start({
    readonly: false,
    edit: (cfg) => {
      cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    },
  });
  const r = exec([c.id, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; mkdir /tmp/d; echo "rc=$?"; touch /tmp/f && echo touched']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^rc=1$/m);
  assert.match(r.stdout, /^touched$/m);
  assert.match(r.stderr, /Operation not permitted/);
});

test('the container\'s rlimits apply', () => {
  const c = start({
    edit: (cfg) => {
      cfg.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 777, hard: 888 }, { type: 'RLIMIT_CORE', soft: 0, hard: 12345 }];
    },
  });
  const r = exec([c.id, 'sh', '-c', 'ulimit -n; ulimit -Hn; grep -E "^Max (open files|core file size)" /proc/self/limits']);
  ok(r);
  const lines = r.stdout.split('\n');
  assert.is(lines[0], '777');
  assert.is(lines[1], '888');
  const limits = fs.readFileSync(`/proc/${c.pid}/limits`, 'utf8').split('\n').filter((l) => /^Max (open files|core file size)/.test(l));
  assert.equal(lines.slice(2).filter(Boolean), limits, 'same limits as the init');
});

test('--tty/-t: a terminal (tty is /dev/pts/N), the window size and its changes, exit status', async () => {
  const c = start({ env: { PS1: 'ctr# ' } });
  const tm = ctx.tmux({ width: 100, height: 30 });
  await tm.waitFor(/^host\$ /m, 10000, 'the host shell prompt');
  const rcFile = ctx.tmp('rc');
  tm.type(`${ctx.runtime} --root ${ctx.root} exec -t ${c.id} sh; echo RC=$? > ${rcFile}`);
  await tm.waitFor(/^ctr# /m, 20000, 'the prompt of the exec\'d shell');
  assert.match(await tm.cmd('tty'), /^\/dev\/pts\/\d+$/);
  assert.is(await tm.cmd('[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty'), 'all-tty');
  assert.is(await tm.cmd('stty size'), '30 100');
  tm.resize(120, 40);
  let size;
  for (const end = Date.now() + 10000; Date.now() < end;) {
    size = await tm.cmd('stty size');
    if (size === '40 120') break;
    await h.delay(100);
  }
  assert.is(size, '40 120', 'the new window size reaches the process');
  tm.type('exit 3');
  assert.is(await waitFile(rcFile, /^RC=\d+\n$/, 15000), 'RC=3\n');
  assert.is(ctx.state(c.id).status, 'running');
});

test('--detach/-d with --pid-file: returns at once, the pid file holds bare digits, the process runs in the container', () => {
  const c = start();
  const pidFile = ctx.tmp('pid');
  const t0 = Date.now();
  const r = exec(['--detach', '--pid-file', pidFile, c.id, 'sleep', '1000']);
  ok(r, 'exec -d');
  assert.ok(Date.now() - t0 < 15000, 'exec -d returned');
  assert.is(r.stdout, '');
  const text = fs.readFileSync(pidFile, 'utf8');
  assert.match(text, /^[1-9]\d*$/, `pid file ${JSON.stringify(text)}`);
  const pid = Number(text);
  assert.ok(h.pidAlive(pid), 'the process is alive');
  // runc returns before its `runc init` has exec'd the command: poll
  let cmdline;
  for (const end = Date.now() + 5000; Date.now() < end; h.sleepMs(50)) {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline === 'sleep\x001000\x00') break;
  }
  assert.is(cmdline, 'sleep\x001000\x00');
  assert.is(fs.readlinkSync(`/proc/${pid}/ns/pid`), fs.readlinkSync(`/proc/${c.pid}/ns/pid`));
  assert.is(fs.readlinkSync(`/proc/${pid}/ns/mnt`), fs.readlinkSync(`/proc/${c.pid}/ns/mnt`));
  // seen from inside
  const ps = exec([c.id, 'ps', '-o', 'args']);
  ok(ps);
  assert.is(ps.stdout.split('\n').filter((l) => l.trim() === 'sleep 1000').length, 2, ps.stdout);
  // -d with a short command; `delete --force` takes the detached process with it
  ok(exec(['-d', c.id, 'true']), 'exec -d true');
  ok(ctx.rt(['delete', '--force', c.id]), 'delete --force');
  for (const end = Date.now() + 5000; h.pidAlive(pid) && Date.now() < end;) h.sleepMs(50);
  assert.not.ok(h.pidAlive(pid), 'the detached process is gone with the container');
});

test('--process/-p FILE: args, env, cwd and user from a process.json', () => {
  const c = start();
  const file = ctx.tmp('process.json');
  fs.writeFileSync(file, JSON.stringify({
    terminal: false,
    user: { uid: 1000, gid: 1001 },
    args: ['sh', '-c', 'echo "$FOO"; pwd; id -u; id -g'],
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'FOO=from-json'],
    cwd: '/tmp',
  }));
  let r = exec(['--process', file, c.id]);
  ok(r);
  assert.is(r.stdout, 'from-json\n/tmp\n1000\n1001\n');
  r = exec(['-p', file, c.id]);
  ok(r);
  assert.is(r.stdout, 'from-json\n/tmp\n1000\n1001\n');
});

test('--process/-p from a pipe (runc\'s exec.bats uses -p <(...)), its JSON written after the runtime opened it', () => {
  const c = start();
  const file = ctx.tmp('process.json');
  fs.writeFileSync(file, JSON.stringify({ args: ['echo', 'from-a-pipe'], env: ['PATH=/bin:/usr/bin'], cwd: '/' }));
  // /dev/stdin is the pipe: the runtime waits for what the writer sends late, then for its end
  const r = ctx.rt(['exec', '-p', '/dev/stdin', c.id], { sh: `(sleep 0.5; cat '${file}') | exec "$@"` });
  ok(r);
  assert.is(r.stdout, 'from-a-pipe\n');
  // a directory is no process.json
  const d = exec(['-p', ctx.base, c.id]);
  assert.is.not(d.status, 0, d.stderr);
});

test('--preserve-fds 1: fd 3 reaches the process, fd 4 does not', () => {
  const c = start();
  const f3 = ctx.tmp('fd3');
  const f4 = ctx.tmp('fd4');
  const fd3 = fs.openSync(f3, 'w');
  const fd4 = fs.openSync(f4, 'w');
  let r;
  try {
    r = exec(['--preserve-fds', '1', c.id, 'sh', '-c', 'echo to-fd3 >&3; echo to-fd4 >&4 || echo no-fd4'], { extraFds: [fd3, fd4] });
  } finally {
    fs.closeSync(fd3);
    fs.closeSync(fd4);
  }
  ok(r);
  assert.is(fs.readFileSync(f3, 'utf8'), 'to-fd3\n');
  assert.is(fs.readFileSync(f4, 'utf8'), '');
  assert.is(r.stdout, 'no-fd4\n');
});

test('an inherited extra fd (no --preserve-fds) never reaches the process', () => {
  const c = start();
  const f3 = ctx.tmp('fd3');
  const fd3 = fs.openSync(f3, 'w');
  let r;
  try {
    r = exec([c.id, 'sh', '-c', 'echo leaked >&3 && echo LEAKED || echo no-fd3'], { extraFds: [fd3] });
  } finally {
    fs.closeSync(fd3);
  }
  ok(r);
  assert.is(r.stdout, 'no-fd3\n');
  assert.is(fs.readFileSync(f3, 'utf8'), '');
});

test('--console-socket with -d -t: the pty master goes to the socket, the process writes to it', async () => {
  const c = start();
  const recv = ctx.consoleReceiver({ rows: 24, cols: 80 });
  await recv.listening();
  // the receiver sets the size once it has the master: wait for that (up to 60 s on a loaded machine)
  const script = 'tty; i=0; while [ "$(stty size)" = "0 0" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; stty size; echo console-done';
  const r = exec(['-d', '-t', '--console-socket', recv.socket, c.id, 'sh', '-c', script]);
  ok(r, 'exec -d -t --console-socket');
  assert.is(r.stdout, '');
  await recv.ready();
  await recv.done(75000);
  assert.match(recv.meta(), /^fds=1$/m);
  const out = recv.output().replace(/\r/g, '');
  assert.match(out, /^\/dev\/pts\/\d+$/m);
  assert.match(out, /^24 80$/m);
  assert.match(out, /^console-done$/m);
  assert.is(ctx.state(c.id).status, 'running');
});

test('--tty with --detach needs --console-socket; --console-socket needs both', () => {
  const c = start();
  let r = exec(['-d', '-t', c.id, 'true']);
  assert.match(failMessage(r), /cannot allocate tty if runc will detach without setting console socket/);
  r = exec(['--console-socket', ctx.tmp('sock'), c.id, 'true']);
  assert.match(failMessage(r), /cannot use console socket if runc will not detach or allocate tty/);
  unharmed(c);
});

// ---- errors and states ----

test('a created, not yet started container: the process runs (as runc), the container stays created', () => {
  const b = ctx.makeBundle({ args: ['sleep', '1000'] });
  const id = ctx.id('ex');
  ok(ctx.rt(['create', '--bundle', b.dir, id]), 'create');
  const pid = ctx.state(id).pid;
  const r = exec([id, 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline; echo; hostname']);
  ok(r);
  // PID 1 is still the runtime's init, waiting for start
  assert.is.not(r.stdout.split('\n')[0], 'sleep 1000 ');
  assert.is(r.stdout.split('\n')[1], 'e2e');
  const s = ctx.state(id);
  assert.is(s.status, 'created');
  assert.is(s.pid, pid);
  ok(ctx.rt(['start', id]), 'start');
  assert.is(ctx.state(id).status, 'running');
  const r2 = exec([id, 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline']);
  ok(r2);
  assert.is(r2.stdout, 'sleep 1000 ');
});

test('a stopped container: refused', async () => {
  const b = ctx.makeBundle({ args: ['true'] });
  const id = ctx.id('ex');
  ok(ctx.rt(['run', '-d', '--bundle', b.dir, id]), 'run -d');
  await ctx.waitStatus(id, 'stopped');
  const r = exec([id, 'echo', 'never']);
  assert.match(failMessage(r), /cannot exec in a stopped container/);
  assert.is(r.stdout, '');
});

test('a paused container: refused; after resume it works', () => {
  const c = start();
  ok(ctx.rt(['pause', c.id]), 'pause');
  const r = exec([c.id, 'echo', 'never'], { timeout: 15000 });
  assert.match(failMessage(r), /cannot exec in a paused container/);
  ok(ctx.rt(['resume', c.id]), 'resume');
  unharmed(c);
});

test('a missing binary: fails with a clear message, the container unharmed', () => {
  const c = start();
  let r = exec([c.id, '/no/such/binary', 'arg']);
  assert.match(failMessage(r), /exec: "\/no\/such\/binary": stat \/no\/such\/binary: no such file or directory/);
  assert.is(r.stdout, '');
  r = exec([c.id, 'no-such-command']);
  assert.match(failMessage(r), /exec: "no-such-command": executable file not found in \$PATH/);
  unharmed(c);
});

test('a container that does not exist', () => {
  const r = exec(['no-such-container-' + h.rand(), 'true']);
  assert.match(failMessage(r), /container does not exist/);
});

xtest('a failed exec exits 255, as runc (the process\'s own status stays distinguishable)', async () => {
  const c = start();
  assert.is(exec([c.id, '/no/such/binary']).status, 255, 'missing binary');
  assert.is(exec(['--cwd', '/no/such/dir', c.id, 'true']).status, 255, 'bad cwd');
  assert.is(exec(['no-such-container-' + h.rand(), 'true']).status, 255, 'no such container');
  assert.is(exec(['-d', '-t', c.id, 'true']).status, 255, '-d -t without --console-socket');
  const b = ctx.makeBundle({ args: ['true'] });
  const id = ctx.id('ex');
  ok(ctx.rt(['run', '-d', '--bundle', b.dir, id]), 'run -d');
  await ctx.waitStatus(id, 'stopped');
  assert.is(exec([id, 'true']).status, 255, 'stopped container');
});

xtest('error messages start with "exec failed: ", as runc', async () => {
  const c = start();
  const msgs = [
    failMessage(exec([c.id, '/no/such/binary'])),
    failMessage(exec(['no-such-container-' + h.rand(), 'true'])),
    failMessage(exec(['-d', '-t', c.id, 'true'])),
  ];
  const b = ctx.makeBundle({ args: ['true'] });
  const id = ctx.id('ex');
  ok(ctx.rt(['run', '-d', '--bundle', b.dir, id]), 'run -d');
  await ctx.waitStatus(id, 'stopped');
  msgs.push(failMessage(exec([id, 'true'])));
  assert.is(msgs[3], 'exec failed: cannot exec in a stopped container');
  for (const m of msgs) assert.match(m, /^exec failed: /);
});

test.run();
