'use strict';
// linux.seccomp end to end: real containers with busybox, filters compiled
// with libseccomp by the runtime and installed by the container's init.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { createContext, install, IS_TSRUNC, errorMessage } = require('../lib/harness');
const { skip } = require('../lib/skip');

const { startSeccompAgent } = require('../lib/seccomp-agent');
const FIXTURE = require('../lib/shared').shared('fixtures/caller-configs/containerd-cri-container.json');

const ctx = createContext('seccomp');
install(test, ctx);

/** A bundle running `sh -c script` under `seccomp`; `edit(process, config)` for the rest. */
function bundle(seccomp, script, edit) {
  return ctx.makeBundle({
    args: ['sh', '-c', script],
    readonly: false, // the scripts write to /tmp
    edit: (c) => {
      if (seccomp) c.linux.seccomp = seccomp;
      if (edit) edit(c.process, c);
      return c;
    },
  });
}

/** `run` of a shell script under `seccomp`; returns { status, stdout, stderr }. */
function runWith(seccomp, script, edit) {
  const b = bundle(seccomp, script, edit);
  const id = ctx.id('sc');
  const r = ctx.rt(['run', id], { cwd: b.dir });
  ctx.leftovers({ id, bundle: b }); // run without --keep removes the container
  return r;
}

/** A config that must fail: exit 1, one error line naming the field, nothing left behind. */
function expectRejected(seccomp, ...fragments) {
  const b = bundle(seccomp, 'true');
  const id = ctx.id('sc');
  const r = ctx.rt(['run', id], { cwd: b.dir });
  assert.is(r.status, 1, `exit status; stderr: ${r.stderr}`);
  if (IS_TSRUNC) {
    const msg = errorMessage(r.stderr);
    for (const f of fragments) assert.ok(msg.includes(f), `message should include ${JSON.stringify(f)}: ${msg}`);
  }
  ctx.leftovers({ id, bundle: b });
  return r;
}

let probeBinary;
/** payloads/sysprobe.c compiled static (once), or undefined with skip() called when gcc cannot. */
function sysprobe() {
  if (probeBinary === undefined) {
    const out = ctx.tmp('sysprobe');
    try {
      execFileSync('gcc', ['-static', '-O2', '-Wall', '-pthread', '-o', out, path.join(__dirname, 'payloads', 'sysprobe.c')],
        { stdio: ['ignore', 'ignore', 'pipe'] });
      probeBinary = out;
    } catch (e) {
      probeBinary = `gcc -static cannot build the probe: ${e.stderr || e.message}`.split('\n')[0];
    }
  }
  if (probeBinary.startsWith('/')) return probeBinary;
  skip(probeBinary);
  return undefined;
}

/**
 * Runs sysprobe with `requests` (see payloads/sysprobe.c) under `seccomp`;
 * returns { status, stdout, stderr, got: { request: result } }, or undefined when skipped.
 */
function probe(seccomp, requests, edit) {
  const bin = sysprobe();
  if (!bin) return undefined;
  const b = bundle(seccomp, 'unused', (p, c) => {
    p.args = ['/sysprobe', ...requests];
    if (edit) edit(p, c);
  });
  fs.copyFileSync(bin, path.join(b.rootfs, 'sysprobe'));
  fs.chmodSync(path.join(b.rootfs, 'sysprobe'), 0o755);
  const id = ctx.id('sc');
  const r = ctx.rt(['run', id], { cwd: b.dir });
  ctx.leftovers({ id, bundle: b });
  const got = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+) (.+)$/.exec(line);
    if (m) got[m[1]] = m[2];
  }
  return { ...r, got };
}

/** containerd's RuntimeDefault profile, as a CRI container gets it. */
function criProfile() {
  return JSON.parse(fs.readFileSync(FIXTURE, 'utf8')).linux.seccomp;
}

// ---- the filter is there ----

test('the container process runs with a seccomp filter (mode 2)', () => {
  const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
    'grep Seccomp /proc/self/status');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^Seccomp_filters:\s+1$/m);
});

// Regression: with no noNewPrivileges and no CAP_SYS_ADMIN the filter goes on before the
// user switch, so the runtime's own last steps run under it; a list without close_range
// (runtime-tools' default profile) must still start the process.
test('an allow list without close_range, no noNewPrivileges: the runtime\'s last steps still work', () => {
  const allowed = ['read', 'write', 'close', 'openat', 'open', 'fstat', 'newfstatat', 'stat', 'lstat', 'mmap', 'munmap',
    'brk', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'ioctl', 'access', 'execve', 'exit', 'exit_group',
    'getpid', 'getppid', 'getuid', 'geteuid', 'getgid', 'getegid', 'setuid', 'setgid', 'setresuid', 'setresgid',
    'setgroups', 'capget', 'capset', 'prctl', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'getdents64',
    'fcntl', 'dup2', 'dup3', 'chdir', 'getcwd', 'wait4', 'clone', 'fork', 'vfork', 'uname', 'prlimit64', 'getrandom',
    'rseq', 'mprotect', 'pread64', 'lseek', 'readlink', 'statx', 'poll', 'pipe2', 'writev', 'futex', 'sendmsg',
    'recvmsg', 'madvise', 'umask', 'sigaltstack', 'faccessat', 'faccessat2', 'kill', 'tgkill'];
  const r = runWith({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: allowed, action: 'SCMP_ACT_ALLOW' }] },
    'echo started', (p) => { p.noNewPrivileges = false; });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^started$/m);
});

test('no seccomp section: no filter', () => {
  const r = runWith(undefined, 'grep Seccomp: /proc/self/status');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Seccomp:\s+0$/m);
});

// ---- actions ----

test('SCMP_ACT_ERRNO: EPERM by default', () => {
  const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] },
    'mkdir /tmp/d; echo "rc=$?"; ls -d /tmp/d');
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stderr, /can't create directory '\/tmp\/d': Operation not permitted/);
  assert.match(r.stderr, /\/tmp\/d: No such file or directory/);
});

test('SCMP_ACT_ERRNO with errnoRet', () => {
  const r = runWith(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 }] },
    'mkdir /tmp/d; echo "rc=$?"');
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stderr, /can't create directory '\/tmp\/d': No space left on device/);
});

test('SCMP_ACT_KILL_PROCESS: the process dies with SIGSYS (run exits 159)', () => {
  const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }] },
    'echo before; exec mkdir /tmp/d');
  assert.is(r.status, 159, r.stderr);
  assert.match(r.stdout, /before/);
});

test('SCMP_ACT_TRAP: SIGSYS too', () => {
  const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_TRAP' }] },
    'exec mkdir /tmp/d');
  assert.is(r.status, 159, r.stderr);
});

test('SCMP_ACT_LOG lets the call through', () => {
  const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_LOG' }] },
    'mkdir /tmp/d && echo made');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /made/);
});

// ---- argument comparisons ----

test('args: SCMP_CMP_EQ on one argument (kill with SIGUSR1 only)', () => {
  const r = runWith(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 10, op: 'SCMP_CMP_EQ' }] }],
    },
    'trap "echo got-usr2" USR2; kill -0 $$ && echo sig0-ok; kill -USR2 $$; kill -USR1 $$; echo "usr1-rc=$?"');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /sig0-ok/);
  assert.match(r.stdout, /got-usr2/);
  assert.match(r.stdout, /usr1-rc=1/);
  assert.match(r.stderr, /Operation not permitted/);
});

test('args: two comparisons of the same argument match either (one rule each)', () => {
  const r = runWith(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{
        names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 22,
        args: [{ index: 1, value: 10, op: 'SCMP_CMP_EQ' }, { index: 1, value: 12, op: 'SCMP_CMP_EQ' }],
      }],
    },
    'trap "" USR1 USR2 HUP; kill -USR1 $$; echo "usr1=$?"; kill -USR2 $$; echo "usr2=$?"; kill -HUP $$; echo "hup=$?"');
  assert.match(r.stdout, /usr1=1/);
  assert.match(r.stdout, /usr2=1/);
  assert.match(r.stdout, /hup=0/);
});

test('args: SCMP_CMP_MASKED_EQ (chmod to modes without group/other bits refused)', () => {
  const r = runWith(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0o077, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
        { names: ['fchmodat'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 0o077, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    },
    'touch /tmp/f; chmod 755 /tmp/f; echo "755=$?"; chmod 700 /tmp/f; echo "700=$?"; chmod 640 /tmp/f; echo "640=$?"; stat -c %a /tmp/f');
  assert.match(r.stdout, /755=0/);
  assert.match(r.stdout, /700=1/);
  assert.match(r.stdout, /640=0/);
  assert.match(r.stdout, /^640$/m);
});

test('args: SCMP_CMP_GT and conditions on different arguments are ANDed', () => {
  // chmod(path, mode): refused when mode > 0o700; the kill rule needs pid == 1 AND sig == 12.
  const r = runWith(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0o700, op: 'SCMP_CMP_GT' }] },
        {
          names: ['kill'], action: 'SCMP_ACT_ERRNO',
          args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 12, op: 'SCMP_CMP_EQ' }],
        },
      ],
    },
    'touch /tmp/f; chmod 600 /tmp/f; echo "a=$?"; chmod 755 /tmp/f; echo "b=$?"; ' +
      'trap "" USR2; sh -c "trap \\"\\" USR2; kill -USR2 \\$\\$; echo child=\\$?"; kill -USR2 1; echo "init=$?"');
  assert.match(r.stdout, /a=0/);
  assert.match(r.stdout, /b=1/);
  assert.match(r.stdout, /child=0/);
  assert.match(r.stdout, /init=1/);
});

// ---- default action with an allow list ----

function containerdProfile() {
  return JSON.parse(fs.readFileSync(FIXTURE, 'utf8')).linux.seccomp;
}

test('defaultAction SCMP_ACT_ERRNO with an allow list, defaultErrnoRet', () => {
  const profile = containerdProfile();
  // The RuntimeDefault allow list without mkdir/mkdirat: those fall to the default action.
  for (const s of profile.syscalls) s.names = s.names.filter((n) => n !== 'mkdir' && n !== 'mkdirat');
  profile.defaultErrnoRet = 38; // ENOSYS
  const r = runWith(profile, 'echo allowed; mkdir /tmp/d; echo "rc=$?"');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /allowed/);
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stderr, /can't create directory '\/tmp\/d': Function not implemented/);
});

test("containerd's RuntimeDefault profile (and its process: no no_new_privs, no CAP_SYS_ADMIN) runs busybox", () => {
  const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
  const r = runWith(fixture.linux.seccomp,
    'echo hello; ls / >/dev/null && mkdir /tmp/x && ps >/dev/null && grep Seccomp: /proc/self/status; grep NoNewPrivs /proc/self/status',
    (p) => {
      p.capabilities = fixture.process.capabilities;
      p.noNewPrivileges = false;
    });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /hello/);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^NoNewPrivs:\s+0$/m);
});

// runtime-tools' linux_seccomp: the filter goes in before the user switch (no no_new_privs, no
// CAP_SYS_ADMIN to keep), and the runtime's own check of the cwd (CVE-2024-21626) needs getcwd.
test('a profile that denies getcwd, without no_new_privs or CAP_SYS_ADMIN: the process still starts', () => {
  if (!IS_TSRUNC) return skip('runc 1.1.5 fails it: "failed to verify if current working directory is safe: operation not permitted"');
  const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }] },
    'echo started; grep Seccomp: /proc/self/status',
    (p) => {
      p.noNewPrivileges = false;
      p.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
    });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /started/);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
});

test('a non-root process without no_new_privs or capabilities still gets the filter', () => {
  const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] },
    'id -u; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /tmp/d; echo "rc=$?"',
    (p) => {
      p.user = { uid: 65534, gid: 65534 };
      p.noNewPrivileges = false;
      p.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [] };
    });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^65534$/m);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^NoNewPrivs:\s+0$/m);
  assert.match(r.stdout, /rc=1/);
});

test('unknown syscall names are skipped, the known ones in the same entry apply', () => {
  const r = runWith(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['no_such_syscall', 'mkdir', 'mkdirat', 'another_made_up_one'], action: 'SCMP_ACT_ERRNO' }],
    },
    'mkdir /tmp/d; echo "rc=$?"');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /rc=1/);
});

test('rules with the default action are skipped', () => {
  const r = runWith(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    },
    'mkdir /tmp/d; echo "rc=$?"');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /rc=1/);
});

test('architectures and flags are accepted', () => {
  const r = runWith(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
      // runc 1.1 (the reference here) refuses every flag; runc 1.2 takes them
      flags: IS_TSRUNC ? ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] : undefined,
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    },
    'mkdir /tmp/d; echo "rc=$?"');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /rc=1/);
});

// ---- bad input: exit 1, the field named, nothing left behind ----

test('unknown action', () => {
  expectRejected({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_FOO' }] },
    'linux.seccomp.syscalls[0].action', 'SCMP_ACT_FOO');
});

test('unknown operator', () => {
  expectRejected(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 1, op: 'SCMP_CMP_FOO' }] }] },
    'linux.seccomp.syscalls[0].args[0].op', 'SCMP_CMP_FOO');
});

test('unknown architecture', () => {
  expectRejected({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_FOO'] },
    'linux.seccomp.architectures[1]', 'SCMP_ARCH_FOO');
});

test('unknown flag', () => {
  expectRejected({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_FOO'] }, 'linux.seccomp.flags[0]', 'SECCOMP_FILTER_FLAG_FOO');
});

// The spec requires these errors; runc 1.1 does not check them.
test('errnoRet with an action that returns no errno', () => {
  if (!IS_TSRUNC) return;
  expectRejected({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 5 }] },
    'linux.seccomp.syscalls[0].errnoRet', 'SCMP_ACT_KILL');
  expectRejected({ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 5 }, 'linux.seccomp.defaultErrnoRet');
});

test('listenerMetadata needs listenerPath (the spec says so; runc 1.1 does not check)', () => {
  if (!IS_TSRUNC) return;
  expectRejected({ defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' }, 'linux.seccomp', 'listenerMetadata');
});

// runc's words, which callers and runc's own tests (seccomp-notify.bats) look for; the field first.
test('SCMP_ACT_NOTIFY without listenerPath, or with an empty one: runc\'s "listenerPath is not set"', () => {
  const rule = { names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' };
  for (const listener of [{}, { listenerPath: '' }]) {
    const r = expectRejected({ defaultAction: 'SCMP_ACT_ALLOW', ...listener, syscalls: [rule] }, 'linux.seccomp.listenerPath');
    assert.match(errorMessage(r.stderr), /listenerPath is not set/);
  }
});

test('SCMP_ACT_NOTIFY as the default action, or for write: runc\'s errors', () => {
  let r = expectRejected({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/tmp/x.sock' }, 'linux.seccomp.defaultAction');
  assert.match(errorMessage(r.stderr), /SCMP_ACT_NOTIFY cannot be used as default action/);
  r = expectRejected({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/tmp/x.sock', syscalls: [{ names: ['mkdir', 'write'], action: 'SCMP_ACT_NOTIFY' }] },
    'linux.seccomp.syscalls[0].names');
  assert.match(errorMessage(r.stderr), /SCMP_ACT_NOTIFY cannot be used for the write syscall/);
});

test('listenerPath without any SCMP_ACT_NOTIFY rule is not used (runc runs it too), even empty', () => {
  for (const listenerPath of [ctx.tmp('nobody-listens.sock'), '']) {
    const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
      'mkdir /tmp/d; echo "rc=$?"');
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /rc=1/);
  }
});

test('an architecture this libseccomp does not know', () => {
  if (!IS_TSRUNC) return;
  // loongarch64 arrived in libseccomp 2.6; skip where the library has it.
  const { versionString } = require('../../dist/seccomp/libseccomp');
  const [maj, min] = versionString().split('.').map(Number);
  if (maj > 2 || (maj === 2 && min >= 6)) return;
  expectRejected({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_LOONGARCH64'] },
    'linux.seccomp.architectures[0]', 'not supported by libseccomp');
});

test('compileSeccomp names the field itself (behind the schema check)', () => {
  if (!IS_TSRUNC) return;
  const { compileSeccomp } = require('../../dist/seccomp/compile');
  const bad = [
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ERRNO' }, { names: ['b'], action: 'SCMP_ACT_FOO' }] },
      'linux.seccomp.syscalls[1].action: unknown action "SCMP_ACT_FOO"'],
    [{ defaultAction: 'SCMP_ACT_BAR' }, 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_BAR"'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_X' }] }] },
      'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_X"'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] },
      'linux.seccomp.syscalls[0].args[0].index'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }, 'linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_Z80"'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NOPE'] }, 'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_NOPE"'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['sendmsg'], action: 'SCMP_ACT_NOTIFY' }], listenerPath: '/x' },
      'linux.seccomp.syscalls[0].names'],
  ];
  for (const [cfg, msg] of bad) {
    assert.throws(() => compileSeccomp(cfg), (e) => e.message.includes(msg), msg);
  }
  const ok = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }] });
  assert.ok(Buffer.isBuffer(ok.bpf) && ok.bpf.length > 0 && ok.bpf.length % 8 === 0);
  assert.is(ok.notify, false);
});

// ---- SCMP_ACT_NOTIFY with a seccomp agent ----

test('SCMP_ACT_NOTIFY: the agent at listenerPath gets the state and the listener fd, and answers', async () => {
  const agent = startSeccompAgent(ctx, 28); // ENOSPC
  const seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: agent.sock,
    listenerMetadata: 'MKDIR=enospc',
    flags: IS_TSRUNC ? ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] : undefined, // runc 1.1 has no flags
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  };
  const b = bundle(seccomp, 'mkdir /tmp/d; echo "rc=$?"; ls -l /proc/self/fd/ | grep -c anon_inode:seccomp; true', (p, c) => {
    c.annotations = { 'org.example/key': 'value' };
  });
  const id = ctx.id('sc');
  const r = ctx.rt(['run', id], { cwd: b.dir });
  await agent.done(r.status === 0 ? 5000 : 0);
  assert.is(r.status, 0, `${r.stderr}\nagent: ${agent.stderr()}`);
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stderr, /can't create directory '\/tmp\/d': No space left on device/);
  assert.match(r.stdout, /^0$/m, 'the listener fd must not leak into the container');
  const seen = JSON.parse(fs.readFileSync(agent.out, 'utf8'));
  assert.is(seen.nfds, 1);
  assert.match(seen.fdlink, /seccomp/);
  const s = seen.state;
  assert.equal(s.fds, ['seccompFd']);
  assert.is(s.metadata, 'MKDIR=enospc');
  // the runtime's own spec version, as in `state` and hooks (runc does the same)
  assert.match(s.ociVersion, /^1\.\d+\.\d+/);
  if (IS_TSRUNC) assert.is(s.ociVersion, require('../../dist/version').SPEC_VERSION);
  assert.ok(s.pid > 0);
  assert.is(s.state.id, id);
  assert.is(s.state.pid, s.pid);
  assert.is(s.state.status, 'creating');
  assert.is(s.state.bundle, b.dir);
  assert.equal(s.state.annotations, { 'org.example/key': 'value' });
  // mkdir runs in a child of the container's sh (the init, s.pid)
  assert.ok(seen.notif.pid >= s.pid, 'the notification comes from the container');
  assert.is(seen.notif.nr, process.arch === 'arm64' ? 34 /* mkdirat */ : 83 /* mkdir */);
});

test('SCMP_ACT_NOTIFY with no agent listening: create fails and cleans up', () => {
  const b = bundle(
    { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: ctx.tmp('nobody-listens.sock'), syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
    'true');
  const id = ctx.id('sc');
  const r = ctx.rt(['create', id], { cwd: b.dir });
  assert.is(r.status, 1, r.stderr);
  // runc's words; what follows is each runtime's own detail (the path and the errno)
  assert.match(errorMessage(r.stderr), /failed to connect with seccomp agent specified in the seccomp profile: .*nobody-listens.*\.sock.*: (connect: )?no such file or directory/i);
  ctx.leftovers({ id, bundle: b });
});

// Also: a listener with the ENOSYS stub in front of the filter (containerd's profile denies by default).
test('SCMP_ACT_NOTIFY: a listenerPath "@name" is the abstract socket "\\0name", as runc dials it', async () => {
  const agent = startSeccompAgent(ctx, 28, { abstract: true });
  const seccomp = criProfile();
  for (const rule of seccomp.syscalls) rule.names = rule.names.filter((n) => n !== 'mkdir' && n !== 'mkdirat');
  seccomp.syscalls.push({ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' });
  seccomp.listenerPath = agent.sock;
  const r = runWith(seccomp, 'mkdir /tmp/d; echo "rc=$?"');
  await agent.done(r.status === 0 ? 5000 : 0);
  assert.is(r.status, 0, `${r.stderr}\nagent: ${agent.stderr()}`);
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stderr, /No space left on device/);
  assert.is(JSON.parse(fs.readFileSync(agent.out, 'utf8')).nfds, 1);
});

// ---- syscalls newer than the profile: ENOSYS (runc's patchbpf) ----

// The fixture's highest syscall on x86_64 is futex_waitv (449); 452 (fchmodat2) and 1000 (none yet) are above it.
test("containerd's profile: a syscall newer than all it names gets ENOSYS, an unlisted older one the default EPERM", () => {
  if (process.arch !== 'x64') return skip('the syscall numbers here are x86_64\'s');
  const r = probe(criProfile(), ['1000', '452', '163' /* acct: not allowed */, '435' /* clone3: listed, ENOSYS */, '39' /* getpid */]);
  if (!r) return;
  assert.is(r.status, 0, r.stderr);
  assert.is(r.got['1000'], '-38', r.stdout);
  assert.is(r.got['452'], '-38', r.stdout);
  assert.is(r.got['163'], '-1', r.stdout);
  assert.is(r.got['435'], '-38', r.stdout);
  assert.ok(Number(r.got['39']) > 0, r.stdout);
});

test('each architecture the profile lists has its own limit: an i386 process gets ENOSYS above it too', () => {
  if (process.arch !== 'x64') return skip('i386 calls need an x86_64 host');
  const r = probe(criProfile(), ['i386:20' /* getpid */, 'i386:1000', 'i386:51' /* acct */]);
  if (!r) return;
  assert.is(r.status, 0, r.stderr);
  if (r.got['i386:20'] === '-38') return skip('this kernel runs no i386 code (no IA32 emulation)');
  assert.ok(Number(r.got['i386:20']) > 0, r.stdout);
  assert.is(r.got['i386:1000'], '-38', r.stdout);
  assert.is(r.got['i386:51'], '-1', r.stdout);
});

test('a profile older than clone3 (not named at all): glibc gets ENOSYS and starts threads with clone', () => {
  const { libseccomp } = require('../../dist/seccomp/libseccomp');
  const clone3 = libseccomp().seccomp_syscall_resolve_name('clone3');
  const profile = criProfile();
  for (const rule of profile.syscalls) rule.names = rule.names.filter((n) => libseccomp().seccomp_syscall_resolve_name(n) < clone3);
  profile.syscalls = profile.syscalls.filter((rule) => rule.names.length);
  const r = probe(profile, ['thread', String(clone3)]);
  if (!r) return;
  assert.is(r.status, 0, r.stderr);
  assert.is(r.got[String(clone3)], '-38', r.stdout);
  assert.is(r.got.thread, 'ok', r.stdout);
});

test('defaultErrnoRet: an unlisted older syscall gets it, a newer one ENOSYS', () => {
  if (process.arch !== 'x64') return skip('the syscall numbers here are x86_64\'s');
  const r = probe({ ...criProfile(), defaultErrnoRet: 6 /* ENXIO */ }, ['163', '1000']);
  if (!r) return;
  assert.is(r.status, 0, r.stderr);
  assert.is(r.got['163'], '-6', r.stdout);
  assert.is(r.got['1000'], '-38', r.stdout);
});

test('defaultAction SCMP_ACT_KILL_PROCESS: a newer syscall gets ENOSYS, an unlisted older one still kills', () => {
  if (process.arch !== 'x64') return skip('the syscall numbers here are x86_64\'s');
  const r = probe({ ...criProfile(), defaultAction: 'SCMP_ACT_KILL_PROCESS' }, ['1000', '163', '39']);
  if (!r) return;
  assert.is(r.got['1000'], '-38', r.stdout);
  assert.is(r.got['39'], undefined, 'killed at acct');
  assert.is(r.status, 128 + 31, `SIGSYS; ${r.stderr}`);
});

test('defaultAction SCMP_ACT_ALLOW or SCMP_ACT_LOG: a syscall above all the profile names is let through', () => {
  if (process.arch !== 'x64') return skip('the syscall numbers here are x86_64\'s');
  for (const defaultAction of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG']) {
    // getppid (110) is the highest named; gettid (186) is above it
    const r = probe({ defaultAction, syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO' }] }, ['110', '186']);
    if (!r) return;
    assert.is(r.status, 0, r.stderr);
    assert.is(r.got['110'], '-1', r.stdout);
    assert.ok(Number(r.got['186']) > 0, `${defaultAction}: ${r.stdout}`);
  }
});

test.run();
