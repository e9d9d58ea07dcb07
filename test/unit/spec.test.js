'use strict';
// defaultSpec / rootlessSpec against what `runc spec` and `runc spec --rootless`
// write (runc at /usr/sbin/runc), except ociVersion and hostname.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { defaultSpec, rootlessSpec } = require('../../dist/spec/default-spec.js');
const { SPEC_VERSION } = require('../../dist/version.js');

const RUNC = '/usr/sbin/runc';
const haveRunc = fs.existsSync(RUNC);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-spec-'));
fs.chmodSync(tmp, 0o755);

/** The config.json `runc spec [args]` writes, run as the given uid/gid (default: us). */
function runcSpec(args = [], ids) {
  const dir = fs.mkdtempSync(path.join(tmp, 'runc-'));
  let cmd = RUNC;
  let argv = ['spec', ...args];
  if (ids) {
    fs.chownSync(dir, ids.uid, ids.gid);
    cmd = 'setpriv';
    argv = [`--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', RUNC, ...argv];
  }
  const r = spawnSync(cmd, argv, { cwd: dir, encoding: 'utf8' });
  assert.is(r.status, 0, `runc spec ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
}

function withoutVersionAndHostname(spec) {
  const copy = JSON.parse(JSON.stringify(spec));
  delete copy.ociVersion;
  delete copy.hostname;
  return copy;
}

/** Paths where the key order of two JSON objects differs (`tsrunc spec` output diffs cleanly against runc's). */
function keyOrderDiffs(a, b, at = '') {
  const out = [];
  if (Array.isArray(a)) {
    a.forEach((x, i) => out.push(...keyOrderDiffs(x, b?.[i], `${at}[${i}]`)));
  } else if (a && typeof a === 'object') {
    const ka = Object.keys(a).join(',');
    const kb = Object.keys(b ?? {}).join(',');
    if (ka !== kb) out.push(`${at || '.'}: ${ka} vs ${kb}`);
    for (const k of Object.keys(a)) out.push(...keyOrderDiffs(a[k], b?.[k], `${at}.${k}`));
  }
  return out;
}

test('defaultSpec: ociVersion is ours, hostname "tsrunc"', () => {
  const s = defaultSpec();
  assert.is(s.ociVersion, SPEC_VERSION);
  assert.match(s.ociVersion, /^1\.\d+\.\d+/);
  assert.is(s.hostname, 'tsrunc');
});

test('defaultSpec equals `runc spec` except ociVersion and hostname', () => {
  if (!haveRunc) return;
  assert.equal(withoutVersionAndHostname(defaultSpec()), withoutVersionAndHostname(runcSpec()));
});

test('defaultSpec has the same key order as `runc spec`', () => {
  if (!haveRunc) return;
  assert.equal(keyOrderDiffs(defaultSpec(), runcSpec()), []);
});

test('defaultSpec returns a fresh object each time', () => {
  const a = defaultSpec();
  a.process.capabilities.bounding.push('CAP_SYS_ADMIN');
  a.mounts.pop();
  const b = defaultSpec();
  assert.is(b.process.capabilities.bounding.length, 3);
  assert.is(b.process.capabilities.effective.length, 3);
  assert.is(b.mounts.length, 7);
});

test('rootlessSpec equals `runc spec --rootless` for our own uid/gid', () => {
  if (!haveRunc) return;
  const ours = rootlessSpec(process.geteuid(), process.getegid());
  assert.equal(withoutVersionAndHostname(ours), withoutVersionAndHostname(runcSpec(['--rootless'])));
  assert.is(ours.hostname, 'tsrunc');
  assert.is(ours.ociVersion, SPEC_VERSION);
});

// (Key order of rootlessSpec is not compared: runc puts linux.uidMappings and
// gidMappings first, rootlessSpec appends them; the configs are equal as JSON.)

test('rootlessSpec equals `runc spec --rootless` run by another user (uid 1000, gid 1001)', () => {
  if (!haveRunc || process.getuid() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) return;
  const theirs = runcSpec(['--rootless'], { uid: 1000, gid: 1001 });
  assert.equal(theirs.linux.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }], 'runc ran as uid 1000');
  assert.equal(withoutVersionAndHostname(rootlessSpec(1000, 1001)), withoutVersionAndHostname(theirs));
});

test('rootlessSpec: what differs from the default', () => {
  const s = rootlessSpec(1234, 5678);
  assert.equal(s.linux.uidMappings, [{ containerID: 0, hostID: 1234, size: 1 }]);
  assert.equal(s.linux.gidMappings, [{ containerID: 0, hostID: 5678, size: 1 }]);
  assert.equal(s.linux.namespaces.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'user']);
  assert.not.ok('resources' in s.linux);
  const sys = s.mounts.find((m) => m.destination === '/sys');
  assert.equal(sys, { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  const pts = s.mounts.find((m) => m.destination === '/dev/pts');
  assert.not.ok(pts.options.some((o) => o.startsWith('gid=') || o.startsWith('uid=')));
  assert.equal(defaultSpec().mounts.find((m) => m.destination === '/dev/pts').options.slice(-1), ['gid=5'], 'default untouched');
});

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
