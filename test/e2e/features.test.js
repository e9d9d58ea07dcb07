'use strict';
// `features` (features.md, features-linux.md): the document is valid against
// the upstream schema (/work/shared/reference/runtime-spec/schema, draft-04)
// and against ours, and everything it lists really works in a container:
// ociVersionMin/Max as config ociVersion, every hook, every namespace, every
// mount option (in a real tmpfs and bind mount), every seccomp action,
// operator, architecture and supported flag, every capability the host has
// (network devices and memory policy modes and flags: netdevices.test.js and
// mempolicy.test.js); idmapped mounts apply a mount's mapping; what it says is
// not there (LSMs, Intel RDT) is refused with a clear error.
//
// Against runc (TSRUNC_TEST_RUNTIME=/usr/sbin/runc) only the schema checks
// run: the content is tsrunc's own (runc 1.1.5's lists things it does not
// support on this host, e.g. AppArmor and SELinux, and predates most fields).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const Ajv04 = require('ajv-draft-04').default;
const h = require('../lib/harness');
const { startSeccompAgent } = require('../lib/seccomp-agent');
const { parseMountinfo } = require('../../conformance/lib/facts');
const { capMask, capNames, CAP_BITS } = require('../../conformance/lib/checks');

const test = suite('features');
const ctx = h.createContext('features');
h.install(test, ctx);
fs.chmodSync(ctx.base, 0o755); // a user-namespace root must reach the bundles

const SPEC_SCHEMAS = require('../lib/shared').shared('reference/runtime-spec/schema');
const NOT_RUNC = `the features content is tsrunc's own (${h.RUNTIME_NAME} is tested for the schema only)`;

function tsruncOnly(name, fn) {
  if (h.IS_TSRUNC) test(name, fn);
  else {
    console.log(`SKIP ${name}: ${NOT_RUNC}`);
    test.skip(name, fn);
  }
}

function features() {
  const r = ctx.rt(['features'], { noRoot: true });
  assert.is(r.status, 0, `features: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}
const F = features();

const ok = (r, what) => assert.is(r.status, 0, `${what}: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

/** `run` of `sh -c script` with edit(config); returns the result (leftovers checked). */
function run(script, edit, opts = {}) {
  const b = ctx.shBundle(script, edit, opts);
  const id = ctx.id('f');
  const r = ctx.rt(['run', '--bundle', b.dir, id]);
  ctx.leftovers({ id, bundle: b });
  return { ...r, bundle: b };
}

// ---------------------------------------------------------------------------
// the document

test('features prints valid JSON on stdout, nothing on stderr, exit 0', () => {
  const r = ctx.rt(['features'], { noRoot: true });
  ok(r, 'features');
  assert.is(r.stderr, '');
  JSON.parse(r.stdout);
});

test('features is valid against the upstream runtime-spec features schema (all schema files loaded)', () => {
  const ajv = new Ajv04({ allErrors: true, strict: false });
  const files = fs.readdirSync(SPEC_SCHEMAS).filter((f) => f.endsWith('.json'));
  assert.ok(files.includes('features-schema.json') && files.includes('features-linux.json') && files.includes('defs-linux.json'));
  // the schemas refer to each other by file name ("defs.json#/definitions/..."): registered under it
  for (const f of files) ajv.addSchema(JSON.parse(fs.readFileSync(path.join(SPEC_SCHEMAS, f), 'utf8')), f);
  const validate = ajv.getSchema('features-schema.json');
  assert.ok(validate, 'features-schema.json compiles');
  const valid = validate(F);
  assert.ok(valid, `invalid against the upstream schema:\n${ajv.errorsText(validate.errors, { separator: '\n' })}`);
});

test('features is valid against our schema (dist/bundle/schema.js validateFeaturesSchema)', () => {
  const { validateFeaturesSchema } = require('../../dist/bundle/schema.js');
  assert.equal(validateFeaturesSchema(F), []);
});

test('ociVersionMin <= ociVersionMax, both semver', () => {
  const v = (s) => {
    const m = /^(\d+)\.(\d+)\.(\d+)(-[\w.-]+)?$/.exec(s);
    assert.ok(m, `not a semver: ${s}`);
    return [Number(m[1]), Number(m[2]), Number(m[3])];
  };
  const [a, b] = [v(F.ociVersionMin), v(F.ociVersionMax)];
  assert.ok(a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] <= b[2]))), `${F.ociVersionMin} > ${F.ociVersionMax}`);
});

tsruncOnly('ociVersionMin and ociVersionMax are accepted as config.json ociVersion', () => {
  for (const v of [F.ociVersionMin, F.ociVersionMax]) {
    const r = run('echo ran', (c) => {
      c.ociVersion = v;
    });
    ok(r, `ociVersion ${v}`);
    assert.match(r.stdout, /ran/);
  }
});

// ---------------------------------------------------------------------------
// hooks

tsruncOnly('every listed hook runs', async () => {
  assert.ok(Array.isArray(F.hooks) && F.hooks.length > 0);
  const out = ctx.tmp('hooks');
  fs.mkdirSync(out);
  const b = ctx.makeBundle({
    args: ['true'],
    extraMounts: [{ destination: '/hookout', type: 'bind', source: out, options: ['rbind', 'rw'] }],
    edit: (c) => {
      c.hooks = {};
      for (const kind of F.hooks) {
        // startContainer runs in the container: /hookout is the same directory there
        const dir = kind === 'startContainer' ? '/hookout' : out;
        c.hooks[kind] = [{ path: '/bin/busybox', args: ['sh', '-c', `cat >/dev/null; echo ${kind} >>${dir}/ran`] }];
      }
      return c;
    },
  });
  const id = ctx.id('hooks');
  ok(ctx.rt(['run', '--bundle', b.dir, id]), 'run');
  const ran = fs.readFileSync(path.join(out, 'ran'), 'utf8').split('\n').filter(Boolean);
  assert.equal([...ran].sort(), [...F.hooks].sort(), 'each listed hook ran once');
  ctx.leftovers({ id, bundle: b });
});

// ---------------------------------------------------------------------------
// namespaces

const NS_FILE = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };

tsruncOnly('every listed namespace type exists on this kernel and a container gets a new one of it', () => {
  const listed = F.linux.namespaces;
  assert.ok(listed.includes('mount') && listed.includes('pid'));
  for (const type of listed) {
    assert.ok(NS_FILE[type], `unknown namespace type ${type}`);
    const file = `/proc/self/ns/${NS_FILE[type]}`;
    assert.ok(fs.existsSync(file), `${type} is listed but the kernel has no ${file}`);
    const r = run(`readlink ${file}`, (c) => {
      c.linux.namespaces = [{ type: 'mount' }];
      if (type !== 'mount') c.linux.namespaces.push({ type });
      // proc, sysfs and mqueue can only be mounted by a user namespace that owns the pid, network and ipc namespaces
      if (type === 'user') c.linux.namespaces.push({ type: 'pid' }, { type: 'network' }, { type: 'ipc' });
      if (type !== 'uts') delete c.hostname;
      if (type === 'user') {
        c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      }
    });
    ok(r, `a new ${type} namespace`);
    const got = r.stdout.trim();
    assert.match(got, new RegExp(`^${NS_FILE[type]}:\\[\\d+\\]$`), `${type}: ${got}`);
    assert.is.not(got, fs.readlinkSync(file), `${type}: the container's namespace is not the host's`);
  }
  // and all of them at once
  const r = run(listed.map((t) => `readlink /proc/self/ns/${NS_FILE[t]}`).join('; '), (c) => {
    c.linux.namespaces = listed.map((type) => ({ type }));
    if (listed.includes('user')) {
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }
  });
  ok(r, 'every listed namespace at once');
  for (const t of listed) assert.not.ok(r.stdout.includes(fs.readlinkSync(`/proc/self/ns/${NS_FILE[t]}`)), `${t} is new`);
});

// ---------------------------------------------------------------------------
// mount options

/** The options that can only be given to one kind of mount. */
const BIND_ONLY = new Set(['bind', 'rbind', 'idmap', 'ridmap']);
/** Idmapped mounts need a mapping: without a user namespace, the mount's own. */
const IDMAP = new Set(['idmap', 'ridmap']);
const ONE_ID = [{ containerID: 0, hostID: 100000, size: 65536 }];
const TMPFS_ONLY = new Set(['tmpcopyup']);

/**
 * What mountinfo must show for an option (per-mount options, or super
 * options with `super`), where the kernel shows it at all.
 * tmpfsOnly: superblock flags a bind mount cannot change.
 */
const SHOWS = {
  ro: { has: 'ro' }, rro: { has: 'ro' }, rw: { has: 'rw' }, rrw: { has: 'rw' },
  nosuid: { has: 'nosuid' }, rnosuid: { has: 'nosuid' }, suid: { lacks: 'nosuid' }, rsuid: { lacks: 'nosuid' },
  nodev: { has: 'nodev' }, rnodev: { has: 'nodev' }, dev: { lacks: 'nodev' }, rdev: { lacks: 'nodev' },
  noexec: { has: 'noexec' }, rnoexec: { has: 'noexec' }, exec: { lacks: 'noexec' }, rexec: { lacks: 'noexec' },
  noatime: { has: 'noatime' }, rnoatime: { has: 'noatime' },
  relatime: { has: 'relatime' }, rrelatime: { has: 'relatime' },
  strictatime: { lacks: ['relatime', 'noatime'] }, rstrictatime: { lacks: ['relatime', 'noatime'] },
  nodiratime: { has: 'nodiratime' }, rnodiratime: { has: 'nodiratime' },
  nosymfollow: { has: 'nosymfollow' }, rnosymfollow: { has: 'nosymfollow' },
  symfollow: { lacks: 'nosymfollow' }, rsymfollow: { lacks: 'nosymfollow' },
  sync: { super: 'sync', tmpfsOnly: true }, dirsync: { super: 'dirsync', tmpfsOnly: true }, lazytime: { super: 'lazytime', tmpfsOnly: true },
  shared: { optional: /^shared:\d+$/ }, rshared: { optional: /^shared:\d+$/ },
  private: { noOptional: true }, rprivate: { noOptional: true },
  unbindable: { optional: /^unbindable$/ }, runbindable: { optional: /^unbindable$/ },
  idmap: { has: 'idmapped' }, ridmap: { has: 'idmapped' },
};

function checkShown(opt, m, kind) {
  const s = SHOWS[opt];
  if (!s || (s.tmpfsOnly && kind !== 'tmpfs')) return;
  const has = (o) => m.mountOptions.includes(o);
  if (s.has) assert.ok(has(s.has), `${opt} (${kind}): "${s.has}" missing in ${m.line}`);
  for (const l of [].concat(s.lacks || [])) assert.not.ok(has(l), `${opt} (${kind}): "${l}" present in ${m.line}`);
  if (s.super) assert.ok(m.superOptions.includes(s.super), `${opt} (${kind}): "${s.super}" missing in the super options of ${m.line}`);
  if (s.optional) assert.ok(m.optional.some((o) => s.optional.test(o)), `${opt} (${kind}): no ${s.optional} in ${m.line}`);
  if (s.noOptional) assert.equal(m.optional, [], `${opt} (${kind}): propagation fields in ${m.line}`);
}

/** Mounts for `opts`: /mnt/t-<opt> (tmpfs) and /mnt/b-<opt> (bind of `src`). */
function optionMounts(opts, src) {
  const mounts = [];
  for (const o of opts) {
    if (!BIND_ONLY.has(o)) mounts.push({ destination: `/mnt/t-${o}`, type: 'tmpfs', source: 'tmpfs', options: [o, 'size=1m'] });
    if (TMPFS_ONLY.has(o)) continue;
    const b = { destination: `/mnt/b-${o}`, type: 'bind', source: src, options: BIND_ONLY.has(o) && !IDMAP.has(o) ? [o] : ['rbind', o] };
    mounts.push(IDMAP.has(o) ? { ...b, uidMappings: ONE_ID, gidMappings: ONE_ID } : b);
  }
  return mounts;
}

tsruncOnly('every listed mount option works in a real tmpfs and bind mount, with the effect mountinfo can show', () => {
  const opts = F.mountOptions;
  assert.ok(Array.isArray(opts) && opts.length > 0);
  const src = ctx.tmp('bindsrc');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'marker'), 'bind-marker\n');
  const mk = (list) => ctx.makeBundle({
    args: ['sh', '-c', 'cat /proc/self/mountinfo; for d in /mnt/b-*; do echo "marker $d $(cat $d/marker)"; done'],
    readonly: false,
    extraMounts: optionMounts(list, src),
  });
  // all at once; when that fails, one container per option names the ones that do not work
  const b = mk(opts);
  const id = ctx.id('mopts');
  let r = ctx.rt(['run', '--bundle', b.dir, id]);
  ctx.leftovers({ id, bundle: b });
  if (r.status !== 0) {
    const bad = [];
    for (const o of opts) {
      const bo = mk([o]);
      const io = ctx.id('mopt');
      const ro = ctx.rt(['run', '--bundle', bo.dir, io]);
      ctx.leftovers({ id: io, bundle: bo });
      if (ro.status !== 0) bad.push(`${o}: ${ro.stderr.trim()}`);
    }
    assert.equal(bad, [], `listed mount options that do not work:\n${bad.join('\n')}`);
    r = ctx.rt(['run', '--bundle', b.dir, id]);
  }
  ok(r, 'run with every listed mount option');
  const mounts = parseMountinfo(r.stdout.split('\n').filter((l) => !l.startsWith('marker ')).join('\n'));
  for (const o of opts) {
    for (const kind of ['tmpfs', 'bind']) {
      if ((kind === 'tmpfs' && BIND_ONLY.has(o)) || (kind === 'bind' && TMPFS_ONLY.has(o))) continue;
      const dest = `/mnt/${kind === 'tmpfs' ? 't' : 'b'}-${o}`;
      const m = mounts.filter((x) => x.mountPoint === dest).pop();
      assert.ok(m, `${o} (${kind}): no mount at ${dest}`);
      assert.is(m.fsType, kind === 'tmpfs' ? 'tmpfs' : parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).filter((x) => src.startsWith(x.mountPoint === '/' ? '/' : `${x.mountPoint}/`) || src === x.mountPoint).sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0].fsType, `${o} (${kind}): fs type`);
      if (kind === 'bind') assert.match(r.stdout, new RegExp(`^marker ${dest} bind-marker$`, 'm'), `${o}: the bind mount shows the source`);
      checkShown(o, m, kind);
    }
  }
});

tsruncOnly('tmpcopyup (listed) copies the image\'s directory into the new tmpfs', () => {
  if (!F.mountOptions.includes('tmpcopyup')) return;
  const b = ctx.makeBundle({
    args: ['sh', '-c', 'cat /opt/copyup/file; stat -c %a /opt/copyup; grep " /opt/copyup " /proc/self/mountinfo'],
    extraMounts: [{ destination: '/opt/copyup', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'size=1m'] }],
  });
  fs.mkdirSync(path.join(b.rootfs, 'opt/copyup'), { recursive: true, mode: 0o750 });
  fs.chmodSync(path.join(b.rootfs, 'opt/copyup'), 0o750);
  fs.writeFileSync(path.join(b.rootfs, 'opt/copyup/file'), 'from-the-image\n');
  const id = ctx.id('copyup');
  const r = ctx.rt(['run', '--bundle', b.dir, id]);
  ok(r, 'run');
  assert.match(r.stdout, /^from-the-image$/m);
  assert.match(r.stdout, /^750$/m);
  assert.match(r.stdout, / - tmpfs /);
  ctx.leftovers({ id, bundle: b });
});

// ---------------------------------------------------------------------------
// capabilities

const LAST_CAP = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
const HOST_BND = BigInt(`0x${/^CapBnd:\s*(\w+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]}`);

tsruncOnly('every listed capability the host has works in a bounding set; the ones it lacks are refused as such, not as unknown', () => {
  const caps = F.linux.capabilities;
  assert.ok(Array.isArray(caps) && caps.length > 0);
  for (const c of caps) assert.ok(c in CAP_BITS && CAP_BITS[c] <= LAST_CAP, `${c} is listed but the kernel does not know it (cap_last_cap ${LAST_CAP})`);
  const have = caps.filter((c) => HOST_BND & (1n << BigInt(CAP_BITS[c])));
  const lack = caps.filter((c) => !have.includes(c));
  const r = run('grep -E "^Cap(Bnd|Prm)" /proc/self/status', (c) => {
    c.process.capabilities = { bounding: have, permitted: have, effective: have };
  });
  ok(r, 'a container with every listed capability the host has');
  const bnd = BigInt(`0x${/^CapBnd:\s*(\w+)$/m.exec(r.stdout)[1]}`);
  assert.is(bnd, capMask(have), `CapBnd [${capNames(bnd).join(' ')}]`);
  for (const cap of lack) {
    const rl = run('true', (c) => {
      c.process.capabilities.bounding.push(cap);
    });
    assert.is(rl.status, 1, `${cap} (not in the host's bounding set) is refused`);
    const msg = h.errorMessage(rl.stderr);
    assert.ok(msg.includes(cap) && !/unknown capability/.test(msg), `${cap} is recognized (listed), refused because the host lacks it: ${msg}`);
  }
});

// ---------------------------------------------------------------------------
// seccomp

const sec = F.linux.seccomp || {};

/** The syscall(s) each action is tried on, the busybox command that makes the call, and what must happen. */
const ACTION_PROBES = {
  SCMP_ACT_ERRNO: { names: ['mkdir', 'mkdirat'], cmd: 'mkdir /tmp/probe-dir', want: 'exit 1' },
  SCMP_ACT_KILL: { names: ['sync'], cmd: 'sync', want: 'exit 159' },
  SCMP_ACT_KILL_THREAD: { names: ['sethostname'], cmd: 'hostname probe-host', want: 'exit 159' },
  SCMP_ACT_KILL_PROCESS: { names: ['fallocate'], cmd: 'fallocate -l 1 /tmp/probe-fa', want: 'exit 159' },
  SCMP_ACT_TRAP: { names: ['mknod', 'mknodat'], cmd: 'mkfifo /tmp/probe-fifo', want: 'exit 159' },
  // no tracer: the call fails with ENOSYS
  SCMP_ACT_TRACE: { names: ['ioprio_set'], cmd: 'ionice -c 3 -p $$', want: 'exit 1', stderr: /Function not implemented/ },
  SCMP_ACT_LOG: { names: ['ftruncate'], cmd: 'truncate -s 0 /tmp/probe-file', want: 'exit 0' },
};

tsruncOnly('every listed seccomp action takes effect (NOTIFY: see the agent test)', () => {
  const actions = sec.actions || [];
  for (const a of actions) {
    if (a === 'SCMP_ACT_NOTIFY' || a === 'SCMP_ACT_ALLOW') continue;
    assert.ok(ACTION_PROBES[a], `no probe for the listed action ${a}`);
  }
  const probes = Object.entries(ACTION_PROBES).filter(([a]) => actions.includes(a));
  const script = ['touch /tmp/probe-file', ...probes.map(([a, p]) => `sh -c 'exec ${p.cmd}' 2>/tmp/err-${a}; echo "${a} exit $?"; sed "s/^/${a} stderr /" /tmp/err-${a}`)].join('\n');
  const r = run(script, (c) => {
    c.linux.seccomp = {
      defaultAction: actions.includes('SCMP_ACT_ALLOW') ? 'SCMP_ACT_ALLOW' : undefined,
      syscalls: probes.map(([action, p]) => ({ names: p.names, action })),
    };
  });
  ok(r, 'run');
  for (const [a, p] of probes) {
    assert.match(r.stdout, new RegExp(`^${a} ${p.want}$`, 'm'), `${a} on ${p.names.join('/')}: want ${p.want}:\n${r.stdout}`);
    if (p.stderr) assert.match(r.stdout.split('\n').filter((l) => l.startsWith(`${a} stderr`)).join('\n'), p.stderr, a);
  }
});

const OPERATOR_CASES = {
  SCMP_CMP_EQ: [{ value: 12 }, [12]],
  SCMP_CMP_NE: [{ value: 12 }, [10, 15]],
  SCMP_CMP_LT: [{ value: 12 }, [10]],
  SCMP_CMP_LE: [{ value: 12 }, [10, 12]],
  SCMP_CMP_GT: [{ value: 12 }, [15]],
  SCMP_CMP_GE: [{ value: 12 }, [12, 15]],
  // (arg & value) == valueTwo
  SCMP_CMP_MASKED_EQ: [{ value: 3, valueTwo: 0 }, [12]],
};

tsruncOnly('every listed seccomp operator compares as documented (kill(2) signal argument)', () => {
  const script = 'trap "" 10 12 15; for s in 10 12 15; do if kill -$s $$ 2>/dev/null; then echo "sig $s allowed"; else echo "sig $s blocked"; fi; done';
  for (const op of sec.operators || []) {
    assert.ok(OPERATOR_CASES[op], `no case for the listed operator ${op}`);
    const [arg, blocked] = OPERATOR_CASES[op];
    const r = run(script, (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, op, ...arg }] }] };
    });
    ok(r, op);
    for (const s of [10, 12, 15]) {
      assert.match(r.stdout, new RegExp(`^sig ${s} ${blocked.includes(s) ? 'blocked' : 'allowed'}$`, 'm'), `${op} ${JSON.stringify(arg)}: signal ${s}:\n${r.stdout}`);
    }
  }
});

const NATIVE_ARCHS = { x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] }[process.arch] || [];

const LITTLE_ENDIAN_ARCHS = new Set(['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_SH']);
const NATIVE_LE = require('os').endianness() === 'LE';

tsruncOnly('seccomp architectures: the native ones work alone, all listed ones of the native byte order work together, the others fail clearly', () => {
  const archs = sec.archs || [];
  for (const a of NATIVE_ARCHS) assert.ok(archs.includes(a), `native architecture ${a} is not listed`);
  const probe = (list) => run('mkdir /tmp/arch-probe 2>/dev/null; echo "mkdir $?"', (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: list, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
  });
  for (const a of NATIVE_ARCHS) {
    const r = probe([a]);
    ok(r, a);
    assert.match(r.stdout, /^mkdir 1$/m, `${a}: the filter works`);
  }
  const same = archs.filter((a) => LITTLE_ENDIAN_ARCHS.has(a) === NATIVE_LE);
  const r = probe(same);
  ok(r, `every listed architecture of the native byte order: ${same.join(' ')}`);
  assert.match(r.stdout, /^mkdir 1$/m);
  // a filter cannot mix byte orders (libseccomp: EDOM): an error naming the field and saying why
  for (const a of archs.filter((x) => !same.includes(x))) {
    const rf = probe([a]);
    assert.is(rf.status, 1, `${a}: exit ${rf.status}`);
    const msg = h.errorMessage(rf.stderr);
    assert.ok(msg.includes('linux.seccomp.architectures[0]') && msg.includes(a), `${a}: the message names the field and the architecture: ${msg}`);
    assert.not.match(msg, /error -\d+/, `${a}: the libseccomp error should be explained, not a bare number: ${msg}`);
  }
});

tsruncOnly('every supported seccomp flag is accepted and the filter works with it (WAIT_KILLABLE_RECV: see the agent test)', () => {
  const flags = sec.supportedFlags || [];
  for (const f of flags) assert.ok((sec.knownFlags || []).includes(f), `supported flag ${f} is not in knownFlags`);
  for (const f of flags.filter((x) => x !== 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV')) {
    const r = run('mkdir /tmp/flag-probe 2>/dev/null; echo "mkdir $?"', (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: [f], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    });
    ok(r, f);
    assert.match(r.stdout, /^mkdir 1$/m, `${f}: the filter works`);
  }
});

tsruncOnly('SCMP_ACT_NOTIFY (with WAIT_KILLABLE_RECV when supported): the agent answers for the container', async () => {
  if (!(sec.actions || []).includes('SCMP_ACT_NOTIFY')) return;
  const agent = startSeccompAgent(ctx, 18); // EXDEV
  const flags = (sec.supportedFlags || []).filter((f) => f === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV');
  const r = run('mkdir /tmp/notify-probe; echo "mkdir $?"', (c) => {
    c.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW', listenerPath: agent.sock, flags, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    };
  });
  ok(r, 'run');
  assert.match(r.stdout, /^mkdir 1$/m);
  assert.match(r.stderr, /Invalid cross-device link/, 'the agent\'s EXDEV reaches the container');
  await agent.done(5000);
  const seen = JSON.parse(fs.readFileSync(agent.out, 'utf8'));
  assert.is(seen.nfds, 1);
});

// ---------------------------------------------------------------------------
// what features says is not there

tsruncOnly('mountExtensions.idmap is enabled, idmap and ridmap are listed, and a mount\'s uidMappings/gidMappings are applied', () => {
  assert.equal(F.linux.mountExtensions, { idmap: { enabled: true } });
  assert.ok(F.mountOptions.includes('idmap') && F.mountOptions.includes('ridmap'), F.mountOptions.join(' '));
  const src = ctx.tmp('idmapsrc');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'f'), '');
  fs.chownSync(path.join(src, 'f'), 7, 8);
  const r = run('stat -c "%u:%g" /mnt/idmap/f', (c) => {
    c.mounts.push({ destination: '/mnt/idmap', type: 'bind', source: src, options: ['bind'], uidMappings: [{ containerID: 7, hostID: 4000, size: 1 }], gidMappings: [{ containerID: 8, hostID: 4001, size: 1 }] });
  });
  ok(r, 'run with a mount\'s own mapping');
  assert.is(r.stdout.trim(), '4000:4001');
});

tsruncOnly('features that are off are refused with an error naming the field', () => {
  const refused = (edit, ...mentions) => {
    const r = run('true', edit);
    assert.is(r.status, 1, `exit ${r.status}: ${r.stderr}`);
    const msg = h.errorMessage(r.stderr);
    for (const m of mentions) assert.ok(msg.includes(m), `"${msg}" should mention ${m}`);
  };
  const lx = F.linux;
  const apparmorOn = (() => {
    try {
      return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
    } catch {
      return false;
    }
  })();
  assert.is(lx.apparmor.enabled, apparmorOn, 'apparmor.enabled matches the host');
  assert.is(lx.selinux.enabled, fs.existsSync('/sys/fs/selinux/enforce'), 'selinux.enabled matches the host');
  if (!lx.apparmor.enabled) refused((c) => { c.process.apparmorProfile = 'x'; }, 'process.apparmorProfile');
  if (!lx.selinux.enabled) refused((c) => { c.process.selinuxLabel = 'system_u:system_r:container_t:s0'; }, 'process.selinuxLabel');
  if (lx.intelRdt && !lx.intelRdt.enabled) refused((c) => { c.linux.intelRdt = { closID: 'x' }; }, 'linux.intelRdt');
  if (lx.mountExtensions && lx.mountExtensions.idmap && !lx.mountExtensions.idmap.enabled) {
    const src = ctx.tmp('idmapsrc');
    fs.mkdirSync(src);
    refused((c) => {
      c.mounts.push({ destination: '/mnt/idmap', type: 'bind', source: src, options: ['rbind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 100000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 1 }] });
    }, 'mounts[', 'idmap');
  }
  if (lx.netDevices && !lx.netDevices.enabled) refused((c) => { c.linux.netDevices = { eth9: {} }; }, 'linux.netDevices');
});

tsruncOnly('annotations: checkpoint/restore is announced with runc\'s key (crun\'s too; Docker reads it), and the command is there', () => {
  assert.is((F.annotations || {})['org.opencontainers.runc.checkpoint.enabled'], 'true');
  assert.is(ctx.rt(['checkpoint', '--help'], { noRoot: true }).status, 0, 'checkpoint --help');
});

tsruncOnly('annotations: the versions it reports are the real ones', () => {
  const a = F.annotations || {};
  const v = ctx.rt(['--version'], { noRoot: true }).stdout.split('\n')[0];
  if (a['org.opencontainers.tsrunc.version']) assert.ok(v.includes(a['org.opencontainers.tsrunc.version']), `${v} vs ${a['org.opencontainers.tsrunc.version']}`);
  if (a['io.github.seccomp.libseccomp.version']) {
    const dpkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libseccomp2'], { encoding: 'utf8' }).stdout || '';
    if (dpkg) assert.ok(dpkg.startsWith(a['io.github.seccomp.libseccomp.version']), `libseccomp ${dpkg} vs ${a['io.github.seccomp.libseccomp.version']}`);
  }
});

test.run();
