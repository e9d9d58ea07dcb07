'use strict';
// semanticProblems: every rule, on an otherwise valid config, gives exactly
// one message and the message names the offending field.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { semanticProblems } = require('../../dist/bundle/semantic.js');
const { defaultSpec, rootlessSpec } = require('../../dist/spec/default-spec.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-semantic-'));
const rootfs = path.join(tmp, 'rootfs');
fs.mkdirSync(rootfs);
const aFile = path.join(tmp, 'file');
fs.writeFileSync(aFile, '');

const clone = (x) => JSON.parse(JSON.stringify(x));

/** Applies `edit` to a valid spec and expects exactly one problem, starting with `field`, matching `re`. */
function one(edit, field, re, dir = rootfs) {
  const spec = clone(defaultSpec());
  edit(spec);
  const problems = semanticProblems(spec, dir);
  assert.is(problems.length, 1, JSON.stringify(problems));
  assert.ok(problems[0].startsWith(field + ':') || problems[0].startsWith(field + ' '), `"${problems[0]}" does not name ${field}`);
  if (re) assert.match(problems[0], re);
  return problems[0];
}

test('the default and rootless specs have no problems', () => {
  assert.equal(semanticProblems(defaultSpec(), rootfs), []);
  assert.equal(semanticProblems(rootlessSpec(1000, 1000), rootfs), []);
});

test('a full, busy but valid config has no problems', () => {
  const s = clone(defaultSpec());
  s.process.rlimits.push({ type: 'RLIMIT_CORE', soft: 0, hard: 0 }, { type: 'RLIMIT_NPROC', soft: 10, hard: 10 });
  s.process.capabilities.inheritable = ['CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE'];
  s.process.env.push('EMPTY=', 'A=b=c');
  s.domainname = 'example.org';
  s.linux.namespaces.push({ type: 'cgroup' }, { type: 'user' });
  s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  s.linux.rootfsPropagation = 'rslave';
  s.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }, { type: 'p', path: '/dev/fifo' }];
  s.mounts.push({ destination: '/data', source: '/tmp', options: ['rbind', 'ro', 'rprivate'] });
  s.mounts.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755', 'size=1m', 'tmpcopyup'] });
  assert.equal(semanticProblems(s, rootfs), []);
});

test('process missing', () => {
  one((s) => delete s.process, 'process', /required/);
});

test('process.cwd relative', () => {
  one((s) => (s.process.cwd = 'home'), 'process.cwd', /absolute.*"home"/);
});

test('process.args missing or empty', () => {
  one((s) => (s.process.args = []), 'process.args');
  one((s) => delete s.process.args, 'process.args');
});

test('process.rlimits: unknown type', () => {
  one((s) => s.process.rlimits.push({ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }), 'process.rlimits[1].type', /RLIMIT_BOGUS/);
});

test('process.rlimits: soft above hard', () => {
  one((s) => (s.process.rlimits[0] = { type: 'RLIMIT_NOFILE', soft: 2048, hard: 1024 }), 'process.rlimits[0]', /2048.*1024/);
});

test('process.rlimits: a type listed twice', () => {
  one((s) => s.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }), 'process.rlimits[1].type', /RLIMIT_NOFILE.*twice/);
});

test('every known RLIMIT is accepted', () => {
  const types = ['RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC',
    'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE',
    'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME'];
  const s = clone(defaultSpec());
  s.process.rlimits = types.map((type) => ({ type, soft: 1, hard: 2 }));
  assert.equal(semanticProblems(s, rootfs), []);
});

test('process.capabilities: unknown capability, per set and index', () => {
  for (const set of ['bounding', 'effective', 'permitted', 'ambient', 'inheritable']) {
    one((s) => {
      s.process.capabilities[set] = ['CAP_KILL', 'CAP_FLY'];
      // keep effective within permitted (a separate rule) so only the unknown name is reported
      if (set === 'permitted') s.process.capabilities.effective = ['CAP_KILL'];
    }, `process.capabilities.${set}[1]`, /CAP_FLY/);
  }
  one((s) => {
    s.process.capabilities.permitted = ['CAP_KILL'];
    s.process.capabilities.effective = ['CAP_KILL', 'CAP_CHOWN'];
  }, 'process.capabilities.effective[1]', /CAP_CHOWN is not in process\.capabilities\.permitted/);
  one((s) => (s.process.capabilities.bounding = ['kill']), 'process.capabilities.bounding[0]', /"kill"/);
});

test('process.env: an entry without "="', () => {
  one((s) => s.process.env.push('NOVALUE'), 'process.env[2]', /NOVALUE/);
});

test('root missing', () => {
  one((s) => delete s.root, 'root', /required/);
});

test('root.path does not exist', () => {
  one(() => {}, 'root.path', /does not exist/, path.join(tmp, 'nope'));
});

test('root.path is not a directory', () => {
  one(() => {}, 'root.path', /not a directory/, aFile);
});

test('linux.namespaces: a type listed twice', () => {
  one((s) => s.linux.namespaces.push({ type: 'pid' }), 'linux.namespaces[5]', /"pid".*twice/);
});

test('linux.namespaces[].path relative, or missing', () => {
  one((s) => (s.linux.namespaces[2].path = 'proc/1/ns/ipc'), 'linux.namespaces[2].path', /absolute/);
  one((s) => (s.linux.namespaces[2].path = '/proc/999999999/ns/ipc'), 'linux.namespaces[2].path', /does not exist/);
  const s = clone(defaultSpec());
  s.linux.namespaces[2].path = '/proc/self/ns/ipc';
  assert.equal(semanticProblems(s, rootfs), []);
});

test('linux.namespaces: no mount namespace', () => {
  // the default spec has masked and read-only paths: runc's words, naming the field
  one((s) => (s.linux.namespaces = s.linux.namespaces.filter((n) => n.type !== 'mount')), 'linux.namespaces', /unable to restrict sys entries without a private MNT namespace/);
  // without them it runs in the runtime's mount namespace, as the spec allows; not with a user namespace
  const s = clone(defaultSpec());
  s.linux.namespaces = s.linux.namespaces.filter((n) => n.type !== 'mount');
  delete s.linux.maskedPaths;
  delete s.linux.readonlyPaths;
  assert.equal(semanticProblems(s, rootfs), []);
  s.linux.namespaces.push({ type: 'user' });
  s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  assert.equal(semanticProblems(s, rootfs), ['linux.namespaces: a user namespace needs a mount namespace of its own to mount the rootfs (no "mount" namespace is listed)']);
});

test('hostname / domainname without a UTS namespace', () => {
  const noUts = (s) => (s.linux.namespaces = s.linux.namespaces.filter((n) => n.type !== 'uts'));
  one(noUts, 'hostname', /UTS/);
  one((s) => {
    noUts(s);
    delete s.hostname;
    s.domainname = 'example.org';
  }, 'domainname', /UTS/);
  const s = clone(defaultSpec());
  noUts(s);
  delete s.hostname;
  assert.equal(semanticProblems(s, rootfs), [], 'no uts and no hostname is fine');
});

test('a new user namespace without mappings', () => {
  one((s) => s.linux.namespaces.push({ type: 'user' }), 'linux.uidMappings', /user namespace/);
  const s = clone(defaultSpec());
  s.linux.namespaces.push({ type: 'user', path: '/proc/self/ns/user' });
  assert.equal(semanticProblems(s, rootfs), [], 'joining a user namespace needs no mappings');
});

test('mappings without a user namespace', () => {
  one((s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), 'linux.uidMappings', /no "user"/);
});

test('linux.rootfsPropagation: unknown value', () => {
  one((s) => (s.linux.rootfsPropagation = 'rsharde'), 'linux.rootfsPropagation', /rsharde/);
  for (const p of ['', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']) {
    const s = clone(defaultSpec());
    s.linux.rootfsPropagation = p;
    assert.equal(semanticProblems(s, rootfs), [], p);
  }
});

test('mounts[].options: unknown filesystem data is named with the mount index', () => {
  one((s) => s.mounts[1].options.push('sizee=1'), 'mounts[1].options', /"sizee=1".*tmpfs/);
  one((s) => s.mounts.push({ destination: '/x', source: '/tmp', options: ['rbind', 'nosiud'] }), 'mounts[7].options', /bind mount/);
});

test('mounts[].type missing without bind', () => {
  one((s) => s.mounts.push({ destination: '/x', source: 'tmpfs', options: ['nosuid'] }), 'mounts[7].type', /bind/);
  one((s) => s.mounts.push({ destination: '/x', source: 'tmpfs' }), 'mounts[7].type');
});

// idmapped mounts (config.md): mappings on the mount, or the container's user namespace's
const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
const withUserns = (s) => {
  s.linux.namespaces.push({ type: 'user' });
  s.linux.uidMappings = MAP;
  s.linux.gidMappings = MAP;
};

test('mounts[]: idmapped binds with their own mappings, or with the container\'s user namespace, are valid', () => {
  const s = clone(defaultSpec());
  s.mounts.push({ destination: '/a', type: 'bind', source: '/tmp', options: ['bind', 'idmap'], uidMappings: MAP, gidMappings: MAP });
  s.mounts.push({ destination: '/b', source: '/tmp', options: ['rbind', 'ridmap'], uidMappings: MAP, gidMappings: MAP });
  s.mounts.push({ destination: '/c', source: '/tmp', options: ['rbind'], uidMappings: MAP, gidMappings: MAP }); // runc: mappings alone are "idmap"
  assert.equal(semanticProblems(s, rootfs), []);
  withUserns(s);
  s.mounts.push({ destination: '/d', source: '/tmp', options: ['rbind', 'ridmap'] });
  assert.equal(semanticProblems(s, rootfs), []);
});

test('mounts[].options: idmap without mappings needs a user namespace to take them from', () => {
  for (const o of ['idmap', 'ridmap']) {
    one((s) => s.mounts.push({ destination: '/x', type: 'bind', source: '/tmp', options: ['rbind', o] }), 'mounts[7].options', new RegExp(`^mounts\\[7\\]\\.options: "${o}": no uidMappings and gidMappings on the mount, and no user namespace in linux.namespaces`));
  }
  // a joined user namespace has a mapping too
  const s = clone(defaultSpec());
  s.linux.namespaces.push({ type: 'user', path: '/proc/self/ns/user' });
  s.mounts.push({ destination: '/x', source: '/tmp', options: ['rbind', 'idmap'] });
  assert.equal(semanticProblems(s, rootfs), []);
});

test('mounts[]: uidMappings and gidMappings each with at least one valid range', () => {
  one((s) => s.mounts.push({ destination: '/x', source: '/tmp', options: ['rbind', 'idmap'], uidMappings: [], gidMappings: MAP }), 'mounts[7].uidMappings', /at least one mapping/);
  one((s) => s.mounts.push({ destination: '/x', source: '/tmp', options: ['rbind', 'idmap'], uidMappings: MAP, gidMappings: [...MAP, { containerID: 10, hostID: 0, size: 1 }] }), 'mounts[7].gidMappings[1]', /container ids overlap with mounts\[7\]\.gidMappings\[0\]/);
  one((s) => s.mounts.push({ destination: '/x', source: '/tmp', options: ['rbind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1, size: 0 }], gidMappings: MAP }), 'mounts[7].uidMappings[0].size');
  const many = Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: 100000 + i, size: 1 }));
  one((s) => s.mounts.push({ destination: '/x', source: '/tmp', options: ['rbind', 'idmap'], uidMappings: many, gidMappings: MAP }), 'mounts[7].uidMappings', /341 ranges, the kernel takes at most 340/);
});

test('mounts[]: an idmapped mount must be a bind mount (as runc)', () => {
  one((s) => s.mounts.push({ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], uidMappings: MAP, gidMappings: MAP }), 'mounts[7].options', /"idmap": idmapped mounts are only supported for bind mounts \(type "tmpfs"/);
  one((s) => s.mounts.push({ destination: '/x', type: 'tmpfs', source: 'tmpfs', uidMappings: MAP, gidMappings: MAP }), 'mounts[7].uidMappings', /only supported for bind mounts/);
});

test('mounts[]: idmapped mounts need a runtime running as root (checked as uid 65534)', () => {
  // the check reads the euid: run it in a child that drops to nobody
  const code = `const { semanticProblems } = require(${JSON.stringify(require.resolve('../../dist/bundle/semantic.js'))});
    const s = ${JSON.stringify((() => {
      const s = clone(defaultSpec());
      s.mounts.push({ destination: '/x', source: '/tmp', options: ['rbind', 'idmap'], uidMappings: MAP, gidMappings: MAP });
      return s;
    })())};
    process.stdout.write(JSON.stringify(semanticProblems(s, ${JSON.stringify(rootfs)})));`;
  const r = require('child_process').spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', code], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const problems = JSON.parse(r.stdout).filter((p) => p.startsWith('mounts[7]'));
  assert.equal(problems, ['mounts[7].options: "idmap": idmapped mounts need a runtime running as root (MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the source\'s filesystem)']);
});

test('linux.devices[].path relative', () => {
  one((s) => (s.linux.devices = [{ type: 'c', path: 'dev/null', major: 1, minor: 3 }]), 'linux.devices[0].path', /"dev\/null"/);
});

test('linux.devices[]: major/minor required except for fifos', () => {
  for (const type of ['c', 'b', 'u']) {
    one((s) => (s.linux.devices = [{ type, path: '/dev/x', major: 1 }]), 'linux.devices[0]', new RegExp(`"${type}"`));
    one((s) => (s.linux.devices = [{ type, path: '/dev/x', minor: 1 }]), 'linux.devices[0]');
  }
  const s = clone(defaultSpec());
  s.linux.devices = [{ type: 'p', path: '/dev/p' }];
  assert.equal(semanticProblems(s, rootfs), []);
});

test('several problems are all reported', () => {
  const s = clone(defaultSpec());
  s.process.cwd = 'x';
  s.process.env.push('BAD');
  s.linux.rootfsPropagation = 'nope';
  s.linux.devices = [{ type: 'c', path: 'rel', major: 1, minor: 1 }];
  const problems = semanticProblems(s, rootfs);
  assert.is(problems.length, 4, JSON.stringify(problems));
  for (const field of ['process.cwd', 'process.env[2]', 'linux.rootfsPropagation', 'linux.devices[0].path']) {
    assert.ok(problems.some((p) => p.startsWith(field + ':')), field);
  }
});

test('a minimal config without linux: every namespace the runtime\'s', () => {
  const problems = semanticProblems({ ociVersion: '1.0.2', process: { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 } }, root: { path: 'rootfs' } }, rootfs);
  assert.equal(problems, []);
});

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
