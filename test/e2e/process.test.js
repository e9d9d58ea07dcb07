'use strict';
// config.md's `process` and config-linux.md (outside cgroups and seccomp) end
// to end: every field is read back from inside a real container (/proc/self/
// status, /proc/self/limits, oom_score_adj, /proc/sys, uname, /proc/self/stat,
// ionice, /proc/uptime), and every value this host cannot provide fails with
// exit 1, one error line naming the field, and nothing left behind.
//
// Against runc 1.1.5 (TSRUNC_TEST_RUNTIME=/usr/sbin/runc) the read-backs of
// the fields it knows run too; fields added to the spec after runc 1.1
// (personality, scheduler, ioPriority, execCPUAffinity, timeOffsets) are
// skipped with the reason, and for bad input only "exit 1 + nothing left"
// applies, where runc rejects the input at all (it ignores some on purpose,
// as noted at each case).
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const { expectedCaps, capMask, capNames, CAP_BITS, RLIMIT_ROWS } = require('../../conformance/lib/checks');

const test = suite('process');
const ctx = h.createContext('process');
h.install(test, ctx);

const RUNC_11 = 'runc 1.1.5 predates this field and ignores it';
/** A test that only makes sense for tsrunc: skipped (and counted as skipped) for other runtimes. */
function tsruncOnly(name, reason, fn) {
  if (h.IS_TSRUNC) test(name, fn);
  else {
    console.log(`SKIP ${name}: ${reason}`);
    test.skip(name, fn);
  }
}

// ---------------------------------------------------------------------------
// host facts

const readSafe = (p) => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
};
const statusField = (text, key) => {
  const m = new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text || '');
  return m ? m[1].trim() : undefined;
};
const SELF_STATUS = readSafe('/proc/self/status');
const HOST_BND = BigInt(`0x${statusField(SELF_STATUS, 'CapBnd')}`);
const LAST_CAP = Number((readSafe('/proc/sys/kernel/cap_last_cap') || '40').trim());
/** Capabilities this kernel knows but the runtime's bounding set lacks (CAP_SYS_RESOURCE on the CI machine). */
const MISSING_CAPS = Object.entries(CAP_BITS).filter(([, n]) => n <= LAST_CAP && !(HOST_BND & (1n << BigInt(n)))).map(([name]) => name);
const CPUS = Number(require('os').cpus().length);
const RT_GROUP_SCHED = fs.existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us') || fs.existsSync('/sys/fs/cgroup/cpu,cpuacct/cpu.rt_runtime_us');

/** The caller's limits, which the runtime inherits: { 'Max open files': {soft, hard}, ... }. */
function parseLimits(text) {
  const out = {};
  for (const line of (text || '').split('\n')) {
    if (!line || line.startsWith('Limit ')) continue;
    const name = line.slice(0, 26).trim();
    const [soft, hard] = line.slice(26).trim().split(/\s+/);
    if (name) out[name] = { soft, hard };
  }
  return out;
}
const HOST_LIMITS = parseLimits(readSafe('/proc/self/limits'));

// ---------------------------------------------------------------------------
// helpers

const bundle = (script, edit, opts) => ctx.shBundle(script, edit, opts);

/** `run` of a bundle; asserts exit 0 and that the container left nothing; returns stdout. */
function runOk(b, what = '') {
  const id = ctx.id('p');
  const r = ctx.rt(['run', '--bundle', b.dir, id]);
  assert.is(r.status, 0, `${what} run: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  ctx.leftovers({ id, bundle: b });
  return r.stdout;
}

const runScript = (script, edit, what) => runOk(bundle(script, edit), what);

/**
 * A config the runtime must refuse: `run` exits 1 with one error line naming
 * `mentions` (tsrunc only: runc's texts differ), and nothing is left behind.
 * runcRejects: false when runc 1.1.5 accepts the input (then only the
 * leftovers check applies to it), with the reason in runcNote.
 */
function rejected(edit, { mentions = [], runcRejects = true, runcNote = '', script = 'true', cmd = 'run' } = {}) {
  const b = bundle(script, edit);
  const id = ctx.id('bad');
  const r = ctx.rt([cmd, '--bundle', b.dir, id]);
  if (h.IS_TSRUNC) {
    assert.is(r.status, 1, `${cmd} should fail: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const msg = h.errorMessage(r.stderr);
    for (const m of mentions) {
      if (m instanceof RegExp) assert.match(msg, m, `message "${msg}" should match ${m}`);
      else assert.ok(msg.includes(m), `message "${msg}" should mention ${JSON.stringify(m)}`);
    }
  } else if (runcRejects) {
    assert.is(r.status, 1, `${cmd} should fail: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  } else {
    console.log(`NOTE ${h.RUNTIME_NAME} accepts this config (${runcNote}): exit ${r.status}`);
    if (cmd === 'create' && r.status === 0) ctx.rt(['delete', '--force', id]);
  }
  ctx.leftovers({ id, bundle: b });
  return r;
}

const withNamespaces = (c, drop = [], add = []) => {
  c.linux.namespaces = c.linux.namespaces.filter((n) => !drop.includes(n.type)).concat(add.map((type) => ({ type })));
};

// ---------------------------------------------------------------------------
// capabilities

/** CapInh/CapPrm/CapEff/CapBnd/CapAmb of the container process as BigInts. */
function capsFrom(stdout) {
  const out = {};
  for (const k of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
    const v = statusField(stdout, k);
    assert.ok(v !== undefined, `no ${k} line in:\n${stdout}`);
    out[k] = BigInt(`0x${v}`);
  }
  return out;
}

function checkCaps(stdout, caps, { uid, noNewPrivileges }) {
  const got = capsFrom(stdout);
  const want = expectedCaps(caps, { uid, noNewPrivileges, hostBnd: HOST_BND });
  for (const k of Object.keys(want)) {
    assert.is(got[k], want[k], `${k}: got [${capNames(got[k]).join(' ')}], want [${capNames(want[k]).join(' ')}]`);
  }
}

const CAPS_ROOT = {
  bounding: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_NET_RAW', 'CAP_SYS_CHROOT'],
  permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP'],
  effective: ['CAP_CHOWN', 'CAP_KILL'],
  inheritable: ['CAP_KILL', 'CAP_NET_RAW'],
  ambient: ['CAP_KILL'],
};

test('capabilities: the five sets of a root process, noNewPrivileges=true (Cap* in /proc/self/status)', () => {
  const out = runScript('grep -E "^(Cap|NoNewPrivs)" /proc/self/status', (c) => {
    c.process.capabilities = JSON.parse(JSON.stringify(CAPS_ROOT));
    c.process.noNewPrivileges = true;
  });
  checkCaps(out, CAPS_ROOT, { uid: 0, noNewPrivileges: true });
  // the bounding set is exactly the configured one
  assert.is(capsFrom(out).CapBnd, capMask(CAPS_ROOT.bounding));
  assert.is(statusField(out, 'NoNewPrivs'), '1');
});

test('capabilities: root with noNewPrivileges=false gets bounding | inheritable as permitted after execve', () => {
  const caps = { bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW'], permitted: ['CAP_KILL'], effective: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: [] };
  const out = runScript('grep -E "^(Cap|NoNewPrivs)" /proc/self/status', (c) => {
    c.process.capabilities = caps;
    c.process.noNewPrivileges = false;
  });
  checkCaps(out, caps, { uid: 0, noNewPrivileges: false });
  assert.is(capsFrom(out).CapPrm, capMask(['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW']));
  assert.is(statusField(out, 'NoNewPrivs'), '0');
});

test('capabilities: a non-root user keeps exactly its ambient capabilities across execve', () => {
  const caps = {
    bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
    permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    ambient: ['CAP_NET_BIND_SERVICE'],
  };
  const out = runScript('id -u; grep -E "^Cap" /proc/self/status', (c) => {
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.capabilities = caps;
    c.process.noNewPrivileges = false;
  });
  assert.match(out, /^1000$/m);
  checkCaps(out, caps, { uid: 1000, noNewPrivileges: false });
  const got = capsFrom(out);
  assert.is(got.CapAmb, capMask(['CAP_NET_BIND_SERVICE']));
  assert.is(got.CapEff, capMask(['CAP_NET_BIND_SERVICE']));
  assert.is(got.CapInh, capMask(['CAP_KILL', 'CAP_NET_BIND_SERVICE']));
});

test('capabilities: empty sets leave the process without any capability', () => {
  const out = runScript('grep -E "^Cap" /proc/self/status', (c) => {
    c.process.capabilities = { bounding: [], permitted: [], effective: [], inheritable: [], ambient: [] };
  });
  const got = capsFrom(out);
  for (const k of Object.keys(got)) assert.is(got[k], 0n, `${k} should be empty`);
});

test('capabilities: the configured capabilities really work (CAP_CHOWN present vs absent)', () => {
  const script = 'touch /tmp/f && chown 1:1 /tmp/f && echo chown-ok || echo chown-failed';
  const withCap = runScript(script, (c) => {
    c.process.capabilities = { bounding: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'], effective: ['CAP_CHOWN'] };
  });
  assert.match(withCap, /chown-ok/);
  const without = runScript(script, (c) => {
    c.process.capabilities = { bounding: ['CAP_KILL'], permitted: ['CAP_KILL'], effective: ['CAP_KILL'] };
  });
  assert.match(without, /chown-failed/);
});

test('capabilities: effective outside permitted (capset cannot do it) is an error naming the field', () => {
  rejected((c) => {
    c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], permitted: ['CAP_KILL'], effective: ['CAP_KILL', 'CAP_CHOWN'] };
  }, { mentions: ['process.capabilities.effective', 'CAP_CHOWN'] });
});

test('capabilities: an unknown capability name is an error naming the set and the name', () => {
  rejected((c) => c.process.capabilities.bounding.push('CAP_NO_SUCH_THING'), {
    mentions: ['process.capabilities.bounding[3]', 'CAP_NO_SUCH_THING'],
    runcRejects: false,
    runcNote: 'runc 1.1.5 ignores unknown capabilities with a warning',
  });
});

for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient']) {
  test(`capabilities: a capability outside the host's bounding set in ${set} is an error naming it`, () => {
    if (!MISSING_CAPS.length) {
      skip('the runtime has every capability of this kernel in its bounding set');
      return;
    }
    const cap = MISSING_CAPS[0];
    rejected((c) => {
      c.process.capabilities[set] = [...(c.process.capabilities[set] || []), cap];
    }, {
      mentions: [`process.capabilities.${set}`, cap],
      // runc 1.1.5 fails to apply effective/permitted/inheritable ("unable to apply caps")
      // and silently drops the capability from bounding and ambient
      runcRejects: !['bounding', 'ambient'].includes(set),
      runcNote: `runc 1.1.5 silently drops ${cap} from the ${set} set`,
    });
  });
}

// ---------------------------------------------------------------------------
// noNewPrivileges

test('noNewPrivileges: true and false read back as NoNewPrivs 1 and 0', () => {
  for (const nnp of [true, false]) {
    const out = runScript('grep NoNewPrivs /proc/self/status', (c) => {
      c.process.noNewPrivileges = nnp;
    });
    assert.is(statusField(out, 'NoNewPrivs'), nnp ? '1' : '0', `noNewPrivileges=${nnp}`);
  }
  const out = runScript('grep NoNewPrivs /proc/self/status', (c) => {
    delete c.process.noNewPrivileges;
  });
  assert.is(statusField(out, 'NoNewPrivs'), '0', 'noNewPrivileges absent');
});

// ---------------------------------------------------------------------------
// rlimits

const UNLIMITED = '18446744073709551615';

test('rlimits: every configured limit is in /proc/self/limits (lowered, raised soft, unlimited)', () => {
  const limits = [
    { type: 'RLIMIT_NOFILE', soft: 256, hard: 512 },
    { type: 'RLIMIT_CORE', soft: 1024, hard: 2048 },
    { type: 'RLIMIT_MSGQUEUE', soft: 4096, hard: 8192 },
    { type: 'RLIMIT_NPROC', soft: 5000, hard: 6000 },
    { type: 'RLIMIT_SIGPENDING', soft: 300, hard: 400 },
    { type: 'RLIMIT_STACK', soft: 4194304, hard: 8388608 },
    { type: 'RLIMIT_NICE', soft: 0, hard: 0 },
    { type: 'RLIMIT_CPU', soft: 'U', hard: 'U' },
    { type: 'RLIMIT_FSIZE', soft: 1048576, hard: 'U' },
  ];
  // unlimited is 2^64-1 in config.json, which JSON.stringify cannot write: a placeholder, replaced in the text
  const PLACEHOLDER = 987654321012345;
  const b = bundle('cat /proc/self/limits', (c) => {
    c.process.rlimits = limits.map((l) => ({ ...l, soft: l.soft === 'U' ? PLACEHOLDER : l.soft, hard: l.hard === 'U' ? PLACEHOLDER : l.hard }));
  });
  fs.writeFileSync(b.configPath, fs.readFileSync(b.configPath, 'utf8').split(String(PLACEHOLDER)).join(UNLIMITED));
  const got = parseLimits(runOk(b));
  for (const l of limits) {
    const row = got[RLIMIT_ROWS[l.type]];
    assert.ok(row, `no row for ${l.type}`);
    const norm = (v) => (v === 'U' ? 'unlimited' : String(v));
    assert.equal(row, { soft: norm(l.soft), hard: norm(l.hard) }, `${l.type}`);
  }
  // limits not in the config stay as the runtime had them
  assert.equal(got['Max file locks'], HOST_LIMITS['Max file locks']);
});

test('rlimits: an unknown type is an error naming it', () => {
  rejected((c) => c.process.rlimits.push({ type: 'RLIMIT_NOSUCH', soft: 1, hard: 1 }), {
    mentions: ['process.rlimits[1].type', 'RLIMIT_NOSUCH'],
  });
});

test('rlimits: raising a hard limit above the runtime\'s own hard limit fails clearly (no CAP_SYS_RESOURCE)', () => {
  if (!MISSING_CAPS.includes('CAP_SYS_RESOURCE')) {
    skip('the runtime has CAP_SYS_RESOURCE, it may raise hard limits');
    return;
  }
  const hard = Number(HOST_LIMITS['Max open files'].hard);
  rejected((c) => {
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: hard + 1000 }];
  }, { mentions: ['process.rlimits', 'RLIMIT_NOFILE', String(hard + 1000), 'CAP_SYS_RESOURCE'] });
});

test('rlimits: soft above hard is an error naming the entry', () => {
  rejected((c) => {
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 2048, hard: 1024 }];
  }, { mentions: ['process.rlimits[0]', '2048', '1024'] });
});

// ---------------------------------------------------------------------------
// oomScoreAdj

test('oomScoreAdj: the value is in /proc/self/oom_score_adj; absent leaves the caller\'s', () => {
  for (const v of [500, 1000, 0]) {
    const out = runScript('cat /proc/self/oom_score_adj', (c) => {
      c.process.oomScoreAdj = v;
    });
    assert.is(out.trim(), String(v), `oomScoreAdj ${v}`);
  }
  const own = (readSafe('/proc/self/oom_score_adj') || '').trim();
  const out = runScript('cat /proc/self/oom_score_adj', (c) => {
    delete c.process.oomScoreAdj;
  });
  assert.is(out.trim(), own, 'oomScoreAdj absent: inherited from the runtime\'s caller');
});

test('oomScoreAdj: a value below the runtime\'s own needs CAP_SYS_RESOURCE: an error naming the field', () => {
  if (!MISSING_CAPS.includes('CAP_SYS_RESOURCE')) {
    skip('the runtime has CAP_SYS_RESOURCE, it may lower oom_score_adj');
    return;
  }
  rejected((c) => {
    c.process.oomScoreAdj = -500;
  }, { mentions: ['process.oomScoreAdj', '-500'] });
});

// ---------------------------------------------------------------------------
// LSMs and Intel RDT: not on this host

test('apparmorProfile without AppArmor on the host: an error naming the field and the LSM', () => {
  if (readSafe('/sys/module/apparmor/parameters/enabled') === 'Y\n') {
    skip('AppArmor is enabled on this host');
    return;
  }
  rejected((c) => {
    c.process.apparmorProfile = 'tsrunc-e2e-profile';
  }, { mentions: ['process.apparmorProfile', 'AppArmor'] });
});

test('selinuxLabel without SELinux on the host: an error naming the field and the LSM (mountLabel is ignored: parity-setup)', () => {
  if (fs.existsSync('/sys/fs/selinux/enforce')) {
    skip('SELinux is enabled on this host');
    return;
  }
  rejected((c) => {
    c.process.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2';
  }, { mentions: ['process.selinuxLabel', 'SELinux'] });
});

test('intelRdt without resctrl: an error naming the field', () => {
  rejected((c) => {
    c.linux.intelRdt = { closID: 'tsrunc-e2e', l3CacheSchema: 'L3:0=f' };
  }, { mentions: ['linux.intelRdt', /resctrl|Intel RDT/] });
});

// ---------------------------------------------------------------------------
// sysctl

test('sysctl: namespaced keys (ipc, network, uts) are set in the container, the host keeps its values', () => {
  const hostMsgmax = readSafe('/proc/sys/kernel/msgmax');
  const hostMqMax = readSafe('/proc/sys/fs/mqueue/msg_max');
  const sysctl = {
    'kernel.msgmax': '12345',
    'kernel.shmmni': '2048',
    'fs.mqueue.msg_max': '20',
    'net.ipv4.ip_forward': '1',
    'net.ipv4.ping_group_range': '0 100',
    'net.core.somaxconn': '777',
    'kernel.domainname': 'sysctl.example',
  };
  const keys = Object.keys(sysctl);
  const out = runScript(keys.map((k) => `echo "${k}=$(cat /proc/sys/${k.replace(/\./g, '/')} | tr '\\t' ' ')"`).join('; '), (c) => {
    c.linux.sysctl = sysctl;
  });
  for (const [k, v] of Object.entries(sysctl)) assert.match(out, new RegExp(`^${k.replace(/\./g, '\\.')}=${v}$`, 'm'), `${k} in:\n${out}`);
  assert.is(readSafe('/proc/sys/kernel/msgmax'), hostMsgmax, 'the host\'s kernel.msgmax is untouched');
  assert.is(readSafe('/proc/sys/fs/mqueue/msg_max'), hostMqMax, 'the host\'s fs.mqueue.msg_max is untouched');
});

test('sysctl: a key that is not namespaced is an error naming it', () => {
  for (const key of ['vm.swappiness', 'kernel.pid_max']) {
    rejected((c) => {
      c.linux.sysctl = { [key]: '10' };
    }, { mentions: ['linux.sysctl', key] });
  }
});

test('sysctl: a key of a namespace the container does not have is an error naming it', () => {
  rejected((c) => {
    withNamespaces(c, ['network']);
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
  }, { mentions: ['linux.sysctl', 'net.ipv4.ip_forward', 'network'] });
  rejected((c) => {
    withNamespaces(c, ['ipc']);
    c.linux.sysctl = { 'kernel.msgmax': '12345' };
  }, { mentions: ['linux.sysctl', 'kernel.msgmax', 'ipc'] });
  rejected((c) => {
    withNamespaces(c, ['ipc']);
    c.linux.sysctl = { 'fs.mqueue.msg_max': '20' };
  }, { mentions: ['linux.sysctl', 'fs.mqueue.msg_max', 'ipc'] });
  rejected((c) => {
    withNamespaces(c, ['uts']);
    delete c.hostname;
    c.linux.sysctl = { 'kernel.domainname': 'x.example' };
  }, { mentions: ['linux.sysctl', 'kernel.domainname', 'uts'] });
});

// ---------------------------------------------------------------------------
// personality

const NATIVE_MACHINE = require('os').machine ? require('os').machine() : process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const MACHINE_32 = { x86_64: 'i686', aarch64: 'armv8l' }[NATIVE_MACHINE];

tsruncOnly('personality: LINUX32 makes uname -m report the 32-bit machine, LINUX the native one', RUNC_11, () => {
  const out32 = runScript('uname -m; cat /proc/self/personality', (c) => {
    c.linux.personality = { domain: 'LINUX32' };
  });
  assert.is(out32.split('\n')[0], MACHINE_32);
  assert.match(out32, /^00000008$/m);
  const out = runScript('uname -m; cat /proc/self/personality', (c) => {
    c.linux.personality = { domain: 'LINUX' };
  });
  assert.is(out.split('\n')[0], NATIVE_MACHINE);
  assert.match(out, /^00000000$/m);
});

tsruncOnly('personality: flags and unknown domains are errors naming the field', RUNC_11, () => {
  rejected((c) => {
    c.linux.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] };
  }, { mentions: ['linux.personality.flags[0]', 'ADDR_NO_RANDOMIZE'] });
  rejected((c) => {
    c.linux.personality = { domain: 'LINUX64' };
  }, { mentions: ['linux.personality.domain', 'LINUX64'] });
});

// ---------------------------------------------------------------------------
// ioPriority

tsruncOnly('ioPriority: class and priority are what ionice reports', RUNC_11, () => {
  const cases = [
    [{ class: 'IOPRIO_CLASS_RT', priority: 4 }, 'realtime: prio 4'],
    [{ class: 'IOPRIO_CLASS_BE', priority: 6 }, 'best-effort: prio 6'],
    [{ class: 'IOPRIO_CLASS_IDLE', priority: 0 }, 'idle'],
  ];
  for (const [io, want] of cases) {
    const out = runScript('ionice -p $$', (c) => {
      c.process.ioPriority = io;
    });
    assert.is(out.trim(), want, JSON.stringify(io));
  }
});

tsruncOnly('ioPriority: a priority outside 0-7 is an error naming the field', RUNC_11, () => {
  rejected((c) => {
    c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 };
  }, { mentions: ['process.ioPriority'] });
});

// ---------------------------------------------------------------------------
// scheduler

/** policy, nice and rt_priority of the shell from /proc/self/stat (fields 41, 19, 40). */
function schedOf(out) {
  const line = out.split('\n').find((l) => /^\d+ \(/.test(l));
  assert.ok(line, `no stat line in:\n${out}`);
  const f = line.slice(line.lastIndexOf(')') + 2).split(' '); // f[0] is field 3
  return { nice: Number(f[19 - 3]), rtPriority: Number(f[40 - 3]), policy: Number(f[41 - 3]) };
}

tsruncOnly('scheduler: SCHED_OTHER/BATCH/IDLE with nice, SCHED_FIFO with a priority (/proc/self/stat)', RUNC_11, () => {
  const script = 'read -r line </proc/self/stat; echo "$line"';
  let s = schedOf(runScript(script, (c) => {
    c.process.scheduler = { policy: 'SCHED_OTHER', nice: 5 };
  }));
  assert.equal(s, { nice: 5, rtPriority: 0, policy: 0 }, 'SCHED_OTHER nice 5');
  s = schedOf(runScript(script, (c) => {
    c.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
  }));
  assert.equal(s, { nice: 7, rtPriority: 0, policy: 3 }, 'SCHED_BATCH nice 7');
  s = schedOf(runScript(script, (c) => {
    c.process.scheduler = { policy: 'SCHED_IDLE' };
  }));
  assert.is(s.policy, 5, 'SCHED_IDLE');
  s = schedOf(runScript(script, (c) => {
    c.process.scheduler = { policy: 'SCHED_FIFO', priority: 10 };
    // cgroup v1 with RT group scheduling: a new cpu cgroup has no RT budget unless given one
    if (RT_GROUP_SCHED) c.linux.resources.cpu = { realtimeRuntime: 100000, realtimePeriod: 1000000 };
  }));
  assert.equal(s, { nice: 0, rtPriority: 10, policy: 1 }, 'SCHED_FIFO priority 10');
});

tsruncOnly('scheduler: SCHED_FIFO in a cgroup without an RT budget fails with an error naming process.scheduler', RUNC_11, () => {
  if (!RT_GROUP_SCHED) {
    skip('no RT group scheduling on this host (real-time policies need no budget)');
    return;
  }
  rejected((c) => {
    c.process.scheduler = { policy: 'SCHED_FIFO', priority: 10 };
  }, { mentions: ['process.scheduler', 'SCHED_FIFO'] });
});

tsruncOnly('scheduler: an unknown policy is an error naming the field', RUNC_11, () => {
  rejected((c) => {
    c.process.scheduler = { policy: 'SCHED_NOSUCH' };
  }, { mentions: ['process.scheduler.policy'] });
});

// ---------------------------------------------------------------------------
// execCPUAffinity

const cpusAllowed = (out) => statusField(out, 'Cpus_allowed_list');

tsruncOnly('execCPUAffinity: not applied to the init; applied to exec (final), from --process and from config.json', RUNC_11, () => {
  if (CPUS < 2) {
    skip('one CPU: affinity cannot be observed');
    return;
  }
  const last = String(CPUS - 1);
  const b = bundle('grep Cpus_allowed_list /proc/self/status > /tmp/init-affinity; sleep 100', (c) => {
    c.process.execCPUAffinity = { final: last };
  });
  const id = ctx.id('aff');
  let r = ctx.rt(['create', '--bundle', b.dir, id]);
  assert.is(r.status, 0, r.stderr);
  r = ctx.rt(['start', id]);
  assert.is(r.status, 0, r.stderr);
  const hostList = cpusAllowed(readSafe('/proc/self/status'));
  let init;
  for (let i = 0; i < 100 && !init; i++) {
    init = readSafe(path.join(b.rootfs, 'tmp/init-affinity'));
    if (!init) h.sleepMs(50);
  }
  assert.is(cpusAllowed(init), hostList, 'the init keeps the affinity it inherits (execCPUAffinity is not for the init)');

  // exec with --process
  const proc = { ...b.config.process, args: ['grep', 'Cpus_allowed_list', '/proc/self/status'], execCPUAffinity: { final: '0' } };
  const pfile = ctx.tmp('process.json');
  fs.writeFileSync(pfile, JSON.stringify(proc));
  r = ctx.rt(['exec', '--process', pfile, id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(cpusAllowed(r.stdout), '0', 'exec --process with execCPUAffinity.final "0"');

  // exec of a command: the config's process (and its execCPUAffinity) is the base
  r = ctx.rt(['exec', id, 'grep', 'Cpus_allowed_list', '/proc/self/status']);
  assert.is(r.status, 0, r.stderr);
  assert.is(cpusAllowed(r.stdout), last, `exec with config.json's execCPUAffinity.final "${last}"`);
  ctx.rt(['delete', '--force', id]);
  ctx.leftovers({ id, bundle: b });
});

tsruncOnly('execCPUAffinity: a malformed list or a CPU the host lacks is an error naming the field', RUNC_11, () => {
  rejected((c) => {
    c.process.execCPUAffinity = { final: '0-' };
  }, { mentions: ['process.execCPUAffinity.final'] });
  rejected((c) => {
    c.process.execCPUAffinity = { initial: String(CPUS + 7) };
  }, { mentions: ['process.execCPUAffinity.initial', String(CPUS + 7)] });
});

// ---------------------------------------------------------------------------
// time namespace and timeOffsets

const hasTimeNs = fs.existsSync('/proc/self/ns/time');

tsruncOnly('timeOffsets: boottime and monotonic offsets of a new time namespace (/proc/uptime vs the host)', 'runc 1.1.5 has no time namespace', () => {
  if (!hasTimeNs) {
    skip('the kernel has no time namespace');
    return;
  }
  const DAY = 86400;
  const out = runScript('cat /proc/uptime; cat /proc/self/timens_offsets; readlink /proc/self/ns/time', (c) => {
    withNamespaces(c, [], ['time']);
    c.linux.timeOffsets = { boottime: { secs: DAY, nanosecs: 0 }, monotonic: { secs: 3600 } };
  });
  const hostUp = Number(readSafe('/proc/uptime').split(' ')[0]);
  const up = Number(out.split('\n')[0].split(' ')[0]);
  assert.ok(Math.abs(up - hostUp - DAY) < 30, `container uptime ${up}, host ${hostUp}: want host + ${DAY}`);
  assert.match(out, /^monotonic\s+3600\s+0$/m);
  assert.match(out, /^boottime\s+86400\s+0$/m);
  assert.not.match(out, new RegExp(fs.readlinkSync('/proc/self/ns/time').replace(/[[\]]/g, '\\$&')), 'a new time namespace');
});

tsruncOnly('timeOffsets without a new time namespace is an error naming the field', 'runc 1.1.5 ignores timeOffsets', () => {
  rejected((c) => {
    c.linux.timeOffsets = { boottime: { secs: 100 } };
  }, { mentions: ['linux.timeOffsets', 'time'] });
});

test.run();
