'use strict';
// Idmapped mounts end to end (config.md: the idmap and ridmap options, a
// mount's uidMappings and gidMappings): files owned by host (on-disk) ids are
// seen through the mount as the ids the mapping gives, with a mount's own
// mapping, with the container's user namespace (new or joined), through a
// bind and through an rbind tree (ridmap maps the mounts below, idmap only
// the top one); ids outside the mapping are nobody's and cannot be written;
// a mapping without a user namespace works even where user namespaces cannot
// be made from the host's mount namespace; and the errors: exit 1, a message
// naming the field or the filesystem, nothing left behind.
//
// The cases follow runc 1.2's tests/integration/idmap.bats. runc 1.1.5 (the
// reference runtime installed here) has no idmapped mounts: against it the
// file is skipped.
const fs = require('fs');
const path = require('path');
const os = require('os');
const { spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const { parseMountinfo } = require('../../conformance/lib/facts');

const test = suite('idmap');
const ctx = h.createContext('idmap');
h.install(test, ctx);
fs.chmodSync(ctx.base, 0o755); // a user-namespace root must reach the bundles

const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
const NOBODY = Number(fs.readFileSync('/proc/sys/kernel/overflowuid', 'utf8'));
const NOGROUP = Number(fs.readFileSync('/proc/sys/kernel/overflowgid', 'utf8'));

/** Why idmapped mounts cannot be tested here, or undefined. */
function whyNoIdmap() {
  if (h.IS_RUNC) return 'runc 1.1.5 has no idmapped mounts';
  const [major, minor] = os.release().split('.').map(Number);
  if (major < 5 || (major === 5 && minor < 12)) return `kernel ${os.release()} has no mount_setattr (5.12)`;
  // the filesystems the kernel lets idmap that the test's temp dir may be on
  const fsType = spawnSync('stat', ['-f', '-c', '%T', ctx.base], { encoding: 'utf8' }).stdout.trim();
  if (!/^(ext2\/ext3|xfs|btrfs|tmpfs|f2fs)$/.test(fsType)) return `${ctx.base} is on ${fsType}, which may not support idmapped mounts`;
  return undefined;
}
const NO_IDMAP = whyNoIdmap();

/** Why a user namespace cannot be made here (a stacked root: .ci/single-root.sh), or undefined. */
function whyNoUserns() {
  const r = spawnSync('unshare', ['-U', 'true'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `user namespaces cannot be created here (${(r.stderr || '').trim()}; on a stacked root run the suite in .ci/single-root.sh)`;
}
const NO_USERNS = whyNoUserns();

// On a stacked root (test-machines.md) a mount this process makes is on the lower copy of "/",
// while the source helper, once in the container's mount namespace, resolves on the top one (so
// does runc's): tests that mount below their sources need the single root .ci/single-root.sh gives.
const STACKED = spawnSync('sh', ['-c', 'awk \'$5 == "/"\' /proc/self/mountinfo | wc -l'], { encoding: 'utf8' }).stdout.trim() !== '1'
  ? '"/" is stacked here: a mount the test makes is not where the container\'s mount namespace resolves sources (run in .ci/single-root.sh)' : undefined;

const ok = (r, what) => assert.is(r.status, 0, `${what}: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
const userns = (c, maps = MAP) => {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = maps;
  c.linux.gidMappings = maps;
};

/** A source directory with files of several on-disk owners: name -> [uid, gid]. */
function sourceDir(owners = { 'root.txt': [0, 0], 'a.txt': [3, 4], 'b.txt': [1000, 1000], 'far.txt': [70000, 70000] }) {
  const dir = ctx.tmp('src');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o755);
  for (const [name, [uid, gid]] of Object.entries(owners)) {
    fs.writeFileSync(path.join(dir, name), `${name}\n`);
    fs.chownSync(path.join(dir, name), uid, gid);
  }
  return dir;
}

/** A host bind mount of `src` onto `dest` (a mount below ctx.base: the harness unmounts it). */
function hostBind(src, dest) {
  fs.mkdirSync(dest, { recursive: true });
  const r = spawnSync('mount', ['--bind', src, dest], { encoding: 'utf8' });
  assert.is(r.status, 0, `mount --bind ${src} ${dest}: ${r.stderr}`);
}

/**
 * Runs `script` (its stdout) in a container with `mounts` appended and
 * `edit` applied; the mount points exist in the rootfs beforehand (a user
 * namespace's root cannot make them in a rootfs the host's root owns).
 */
function run(script, mounts, edit, opts = {}) {
  const b = ctx.makeBundle({ args: ['sh', '-c', script], extraMounts: mounts, edit });
  for (const m of mounts) fs.mkdirSync(path.join(b.rootfs, m.destination), { recursive: true });
  const id = ctx.id('idm');
  const r = ctx.rt(['run', '--bundle', b.dir, id], opts);
  ctx.leftovers({ id, bundle: b });
  return r;
}

/** "=path:uid:gid=" lines from `stat -c` as { path: [uid, gid] }. */
const STAT = 'stat -c "=%n:%u:%g="';
function owners(out) {
  const o = {};
  for (const m of out.matchAll(/^=(.+):(\d+):(\d+)=$/gm)) o[m[1]] = [Number(m[2]), Number(m[3])];
  return o;
}

/** The mountinfo lines (after a "--mountinfo--" marker) at `mountPoint`. */
function mountAt(out, mountPoint) {
  const text = out.slice(out.indexOf('--mountinfo--\n') + 14);
  return parseMountinfo(text).filter((m) => m.mountPoint === mountPoint).pop();
}
const idmapped = (m) => Boolean(m && m.mountOptions.includes('idmapped'));
const MOUNTINFO = 'echo --mountinfo--; cat /proc/self/mountinfo';

function itSkips(name, why, fn) {
  test(name, (...a) => (why() ? skip(why()) : fn(...a)));
}
const needIdmap = () => NO_IDMAP;
const needUserns = () => NO_IDMAP || NO_USERNS;
const needHostMounts = () => NO_IDMAP || STACKED;

// ---------------------------------------------------------------------------
// a mount's own mapping, no user namespace

itSkips('a mount\'s own mapping without a user namespace: on-disk ids seen as the mapping\'s host ids, others nobody\'s; a plain bind unchanged', needIdmap, () => {
  const src = sourceDir();
  const map = {
    uidMappings: [{ containerID: 0, hostID: 5000, size: 10 }, { containerID: 1000, hostID: 7000, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: 6000, size: 10 }, { containerID: 1000, hostID: 8000, size: 1 }],
  };
  const r = run(
    `${STAT} /mnt/idm/* /mnt/plain/*; touch /mnt/idm/new 2>&1; echo "touch=$?"; ${MOUNTINFO}`,
    [{ destination: '/mnt/idm', type: 'bind', source: src, options: ['bind', 'idmap'], ...map },
      { destination: '/mnt/plain', type: 'bind', source: src, options: ['bind'] }],
    undefined,
  );
  ok(r, 'run');
  const o = owners(r.stdout);
  assert.equal(o['/mnt/idm/root.txt'], [5000, 6000]);
  assert.equal(o['/mnt/idm/a.txt'], [5003, 6004]);
  assert.equal(o['/mnt/idm/b.txt'], [7000, 8000]);
  assert.equal(o['/mnt/idm/far.txt'], [NOBODY, NOGROUP], 'an id outside the mapping is nobody\'s');
  assert.equal(o['/mnt/plain/root.txt'], [0, 0]);
  assert.equal(o['/mnt/plain/a.txt'], [3, 4]);
  assert.equal(o['/mnt/plain/far.txt'], [70000, 70000]);
  // the container's root (host uid 0) is not in the mapping: it cannot make a file there
  assert.match(r.stdout, /Value too large for defined data type\ntouch=1/);
  assert.not.ok(fs.existsSync(path.join(src, 'new')));
  assert.ok(idmapped(mountAt(r.stdout, '/mnt/idm')), 'mountinfo shows /mnt/idm idmapped');
  assert.not.ok(idmapped(mountAt(r.stdout, '/mnt/plain')), 'the plain bind is not idmapped');
});

itSkips('mappings without an idmap option are "idmap" (as runc), with read-only and propagation options kept', needIdmap, () => {
  const src = sourceDir({ 'root.txt': [0, 0] });
  const r = run(
    `${STAT} /mnt/idm/root.txt; ${MOUNTINFO}`,
    [{ destination: '/mnt/idm', type: 'bind', source: src, options: ['rbind', 'ro', 'nosuid', 'rprivate'], uidMappings: [{ containerID: 0, hostID: 4000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 4001, size: 1 }] }],
  );
  ok(r, 'run');
  assert.equal(owners(r.stdout)['/mnt/idm/root.txt'], [4000, 4001]);
  const m = mountAt(r.stdout, '/mnt/idm');
  assert.ok(idmapped(m), m && m.line);
  assert.ok(m.mountOptions.includes('ro') && m.mountOptions.includes('nosuid'), m.line);
});

// ---------------------------------------------------------------------------
// with the container's user namespace

itSkips('idmap with the container\'s user namespace: files seen as their on-disk owners, root\'s writes owned by on-disk 0, ids outside it refused', needUserns, () => {
  const src = sourceDir();
  const r = run(
    [`${STAT} /mnt/idm/* /mnt/plain/*`, 'id -u',
      'touch /mnt/idm/new && chown 1000:1000 /mnt/idm/new && echo chown-ok',
      'touch /mnt/idm/new2 && chown 70000 /mnt/idm/new2 2>&1; echo "chown-far=$?"',
      'echo x >>/mnt/idm/far.txt 2>&1; echo "write-far=$?"'].join('; '),
    [{ destination: '/mnt/idm', type: 'bind', source: src, options: ['rbind', 'idmap'] },
      { destination: '/mnt/plain', type: 'bind', source: src, options: ['rbind'] }],
    (c) => {
      userns(c);
      c.process.capabilities.effective.push('CAP_CHOWN');
      c.process.capabilities.permitted.push('CAP_CHOWN');
      c.process.capabilities.bounding.push('CAP_CHOWN');
    },
  );
  ok(r, 'run');
  const o = owners(r.stdout);
  assert.equal(o['/mnt/idm/root.txt'], [0, 0], 'on-disk root is the container\'s root');
  assert.equal(o['/mnt/idm/a.txt'], [3, 4]);
  assert.equal(o['/mnt/idm/b.txt'], [1000, 1000]);
  assert.equal(o['/mnt/idm/far.txt'], [NOBODY, NOGROUP], 'on-disk 70000 is outside the container\'s mapping');
  for (const f of ['root.txt', 'a.txt', 'b.txt']) assert.equal(o[`/mnt/plain/${f}`], [NOBODY, NOGROUP], `without the idmap ${f} is nobody's`);
  assert.match(r.stdout, /^chown-ok$/m);
  const st = fs.statSync(path.join(src, 'new'));
  assert.equal([st.uid, st.gid], [1000, 1000], 'what the container chowns to 1000 is on-disk 1000');
  assert.equal([fs.statSync(path.join(src, 'new2')).uid], [0], 'what the container\'s root makes is on-disk 0');
  assert.match(r.stdout, /chown-far=1/, 'a uid the container does not have cannot be given');
  assert.match(r.stdout, /write-far=1/, 'a file of an id outside the mapping is not the container\'s');
  assert.is(fs.readFileSync(path.join(src, 'far.txt'), 'utf8'), 'far.txt\n');
});

itSkips('a mount\'s own mapping, different from the container\'s: on-disk 1000 is the container\'s root, on-disk 0 is nobody, ids outside it cannot be written', needUserns, () => {
  const src = sourceDir();
  fs.chownSync(src, 1000, 1000); // the container's root owns the directory through this mapping only
  const own = [{ containerID: 1000, hostID: 100000, size: 1 }];
  const r = run(
    [`${STAT} /mnt/idm/* /mnt/same/root.txt`,
      'touch /mnt/idm/new && echo touch-ok',
      'chown 5 /mnt/idm/new 2>&1; echo "chown=$?"'].join('; '),
    [{ destination: '/mnt/idm', type: 'bind', source: src, options: ['bind', 'idmap'], uidMappings: own, gidMappings: own },
      // the container's own mapping given explicitly: the same view as "idmap" alone
      { destination: '/mnt/same', type: 'bind', source: src, options: ['bind', 'idmap'], uidMappings: MAP, gidMappings: MAP }],
    (c) => {
      userns(c);
      for (const set of ['effective', 'permitted', 'bounding']) c.process.capabilities[set].push('CAP_CHOWN');
    },
  );
  ok(r, 'run');
  const o = owners(r.stdout);
  assert.equal(o['/mnt/idm/b.txt'], [0, 0], 'on-disk 1000 is the container\'s root');
  assert.equal(o['/mnt/idm/root.txt'], [NOBODY, NOGROUP]);
  assert.equal(o['/mnt/idm/a.txt'], [NOBODY, NOGROUP]);
  assert.equal(o['/mnt/same/root.txt'], [0, 0]);
  assert.match(r.stdout, /^touch-ok$/m);
  const st = fs.statSync(path.join(src, 'new'));
  assert.equal([st.uid, st.gid], [1000, 1000], 'the container\'s root writes as on-disk 1000');
  // container uid 5 is host 100005, which this mount's mapping does not have
  assert.match(r.stdout, /Value too large for defined data type\nchown=1/);
  assert.is(fs.statSync(path.join(src, 'new')).uid, 1000);
});

itSkips('idmap with a joined user namespace takes that namespace\'s mapping', needUserns, async () => {
  const src = sourceDir();
  const other = [{ containerID: 0, hostID: 200000, size: 65536 }];
  const a = ctx.makeBundle({ args: ['sleep', '100'], edit: (c) => userns(c, other) });
  const idA = ctx.id('owner');
  ok(ctx.rt(['run', '--detach', '--bundle', a.dir, idA]), 'run -d the namespace\'s owner');
  const { pid } = ctx.state(idA);
  const r = run(
    `${STAT} /mnt/idm/root.txt /mnt/idm/a.txt; cat /proc/self/uid_map`,
    [{ destination: '/mnt/idm', type: 'bind', source: src, options: ['bind', 'idmap'] }],
    (c) => {
      c.linux.namespaces.push({ type: 'user', path: `/proc/${pid}/ns/user` });
    },
  );
  ok(r, 'run in the joined namespace');
  assert.match(r.stdout, /^\s*0\s+200000\s+65536$/m, 'the joined namespace\'s map');
  const o = owners(r.stdout);
  assert.equal(o['/mnt/idm/root.txt'], [0, 0]);
  assert.equal(o['/mnt/idm/a.txt'], [3, 4]);
  ok(ctx.rt(['delete', '--force', idA]), 'delete');
  ctx.leftovers({ id: idA, bundle: a });
});

// ---------------------------------------------------------------------------
// rbind trees: ridmap maps every mount of the tree, idmap only its top one

/** A tree whose sub/ is a host bind mount of another directory (a submount an rbind takes along). */
function treeWithSubmount() {
  const tree = sourceDir({ 'top.txt': [0, 0] });
  const sub = sourceDir({ 'sub.txt': [1000, 1001] });
  hostBind(sub, path.join(tree, 'sub'));
  return tree;
}

// (a bind, not rbind, of such a tree fails in a user namespace, idmapped or not, as in runc:
// the kernel locks the submounts of a mount namespace made for a less privileged user namespace)
itSkips('rbind trees with the container\'s user namespace: ridmap maps the submounts, idmap only the top', () => needUserns() || STACKED, () => {
  const tree = treeWithSubmount();
  const r = run(
    `${STAT} /mnt/r/top.txt /mnt/r/sub/sub.txt /mnt/i/top.txt /mnt/i/sub/sub.txt; ${MOUNTINFO}`,
    [{ destination: '/mnt/r', type: 'bind', source: tree, options: ['rbind', 'ridmap'] },
      { destination: '/mnt/i', type: 'bind', source: tree, options: ['rbind', 'idmap'] }],
    (c) => userns(c),
  );
  ok(r, 'run');
  const o = owners(r.stdout);
  assert.equal(o['/mnt/r/top.txt'], [0, 0]);
  assert.equal(o['/mnt/r/sub/sub.txt'], [1000, 1001], 'ridmap: the submount is mapped too');
  assert.equal(o['/mnt/i/top.txt'], [0, 0]);
  assert.equal(o['/mnt/i/sub/sub.txt'], [NOBODY, NOGROUP], 'idmap: the submount is not mapped');
  assert.ok(idmapped(mountAt(r.stdout, '/mnt/r')) && idmapped(mountAt(r.stdout, '/mnt/r/sub')), 'ridmap: both mounts idmapped');
  assert.ok(idmapped(mountAt(r.stdout, '/mnt/i')), 'idmap: the top mount idmapped');
  assert.ok(mountAt(r.stdout, '/mnt/i/sub') && !idmapped(mountAt(r.stdout, '/mnt/i/sub')), 'idmap: the submount there, not idmapped');
});

itSkips('rbind trees with a mount\'s own mapping and no user namespace: ridmap maps the submounts, idmap does not, a bind has none', needHostMounts, () => {
  const tree = treeWithSubmount();
  const map = { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 300000, size: 65536 }] };
  const r = run(
    `${STAT} /mnt/r/top.txt /mnt/r/sub/sub.txt /mnt/i/top.txt /mnt/i/sub/sub.txt /mnt/b/top.txt; ls -A /mnt/b/sub | wc -l`,
    [{ destination: '/mnt/r', type: 'bind', source: tree, options: ['rbind', 'ridmap'], ...map },
      { destination: '/mnt/i', type: 'bind', source: tree, options: ['rbind', 'idmap'], ...map },
      { destination: '/mnt/b', type: 'bind', source: tree, options: ['bind', 'ridmap'], ...map }],
  );
  ok(r, 'run');
  const o = owners(r.stdout);
  assert.equal(o['/mnt/b/top.txt'], [100000, 300000]);
  assert.match(r.stdout, /^0$/m, 'a bind (not rbind) takes no submount along');
  assert.equal(o['/mnt/r/top.txt'], [100000, 300000]);
  assert.equal(o['/mnt/r/sub/sub.txt'], [101000, 301001]);
  assert.equal(o['/mnt/i/top.txt'], [100000, 300000]);
  assert.equal(o['/mnt/i/sub/sub.txt'], [1000, 1001], 'idmap: the submount keeps the on-disk ids');
});

itSkips('a mount\'s own mapping works where user namespaces cannot be made from the host\'s mount namespace (a stacked root)', needIdmap, () => {
  const src = sourceDir({ 'root.txt': [0, 0] });
  const b = ctx.makeBundle({
    args: ['sh', '-c', `${STAT} /mnt/idm/root.txt`],
    extraMounts: [{ destination: '/mnt/idm', type: 'bind', source: src, options: ['bind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 4242, size: 1 }], gidMappings: [{ containerID: 0, hostID: 4243, size: 1 }] }],
  });
  const id = ctx.id('stk');
  // the runtime runs below a copy of "/" stacked on "/" (test-machines.md); the condition is checked there first
  const sh = 'exec unshare -m --propagation private -- sh -c \'mount --rbind / / && if unshare -U true 2>/dev/null; then echo userns-works; fi; exec "$@"\' sh "$@"';
  const r = ctx.rt(['run', '--bundle', b.dir, id], { sh });
  ctx.leftovers({ id, bundle: b });
  assert.not.match(r.stdout, /userns-works/, 'the condition: no user namespace from the runtime\'s mount namespace');
  ok(r, 'run on a stacked root');
  assert.equal(owners(r.stdout)['/mnt/idm/root.txt'], [4242, 4243]);
});

// ---------------------------------------------------------------------------
// errors: exit 1, what was wrong, nothing left

/** `create` that must fail: returns the error message (leftovers checked). */
function refused(mounts, edit) {
  const b = ctx.makeBundle({ args: ['true'], extraMounts: mounts, edit });
  for (const m of mounts) fs.mkdirSync(path.join(b.rootfs, m.destination), { recursive: true });
  const id = ctx.id('bad');
  const r = ctx.rt(['create', '--bundle', b.dir, id]);
  assert.is(r.status, 1, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  ctx.leftovers({ id, bundle: b });
  assert.not.ok(fs.existsSync(path.join(ctx.root, id)), 'no state left');
  return h.errorMessage(r.stderr);
}

itSkips('errors in the config name the field: no mapping and no user namespace, uid without gid mappings, not a bind', () => (h.IS_RUNC ? 'runc 1.1.5 has no idmapped mounts' : undefined), () => {
  const src = sourceDir({});
  const n = h.defaultConfig().mounts.length;
  assert.match(refused([{ destination: '/mnt/x', type: 'bind', source: src, options: ['rbind', 'ridmap'] }]),
    `config.json: mounts[${n}].options: "ridmap": no uidMappings and gidMappings on the mount, and no user namespace in linux.namespaces to take the mapping from`);
  assert.match(refused([{ destination: '/mnt/x', type: 'bind', source: src, options: ['bind', 'idmap'], uidMappings: MAP }]),
    `config.json: mounts[${n}]: "uidMappings" requires "gidMappings" to be set as well`);
  assert.match(refused([{ destination: '/mnt/x', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], uidMappings: MAP, gidMappings: MAP }]),
    `mounts[${n}].options: "idmap": idmapped mounts are only supported for bind mounts (type "tmpfs" without "bind" or "rbind")`);
  assert.match(refused([{ destination: '/mnt/x', type: 'bind', source: src, options: ['bind', 'idmap'], uidMappings: [], gidMappings: MAP }]),
    `mounts[${n}].uidMappings: must list at least one mapping`);
});

/** A ramfs (no idmapped mounts in any kernel) mounted at a new dir under ctx.base. */
function ramfs() {
  const dir = ctx.tmp('ramfs');
  fs.mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'ramfs', 'idmap-test', dir], { encoding: 'utf8' });
  assert.is(r.status, 0, `mount ramfs: ${r.stderr}`);
  return dir;
}

itSkips('a source on a filesystem without idmapped mounts: the error names the filesystem; with ridmap one mounted below the source', needHostMounts, () => {
  const map = { uidMappings: [{ containerID: 0, hostID: 5000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 5000, size: 1 }] };
  const ram = ramfs();
  let msg = refused([{ destination: '/mnt/x', type: 'bind', source: ram, options: ['bind', 'idmap'], ...map }]);
  assert.match(msg, `mounting ${ram} to /mnt/x: idmapped mount of ${ram}: mount_setattr(`);
  assert.match(msg, /Invalid argument: its filesystem \(ramfs\) does not support idmapped mounts on this kernel$/);
  // ridmap over a tree with a ramfs below: the tree's filesystems are named
  const tree = sourceDir({ 'top.txt': [0, 0] });
  const sub = path.join(tree, 'sub');
  fs.mkdirSync(sub);
  const r = spawnSync('mount', ['-t', 'ramfs', 'idmap-test', sub], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  msg = refused([{ destination: '/mnt/x', type: 'bind', source: tree, options: ['rbind', 'ridmap'], ...map }]);
  assert.match(msg, /Invalid argument: one of its filesystems \((ext4|xfs|btrfs|tmpfs|f2fs), ramfs\) does not support idmapped mounts on this kernel$/);
  // idmap maps only the top of that tree: it works
  const ok2 = run(`${STAT} /mnt/x/top.txt`, [{ destination: '/mnt/x', type: 'bind', source: tree, options: ['rbind', 'idmap'], ...map }]);
  ok(ok2, 'idmap of the same tree');
  assert.equal(owners(ok2.stdout)['/mnt/x/top.txt'], [5000, 5000]);
});

itSkips('a source that does not exist: the error names it', needIdmap, () => {
  const missing = path.join(ctx.base, 'no-such-dir');
  const msg = refused([{ destination: '/mnt/x', type: 'bind', source: missing, options: ['bind', 'idmap'], uidMappings: MAP, gidMappings: MAP }]);
  assert.match(msg, `mounting ${missing} to /mnt/x: idmapped mount of ${missing}: open("${missing}"`);
  assert.match(msg, /No such file or directory$/);
});

test.run();
