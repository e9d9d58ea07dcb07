'use strict';
// User namespaces end to end (config-linux.md "User namespace mappings"):
// a new user namespace with mappings written by the runtime, joining one by
// path, devices bind-mounted instead of made, `spec --rootless` run by root
// and by an unprivileged user the test creates (state under
// $XDG_RUNTIME_DIR/<runtime>, no cgroup), and invalid mappings: exit 1, an
// error naming the field, nothing left.
//
// Validated against runc 1.1.5 (TSRUNC_TEST_RUNTIME=/usr/sbin/runc); the
// message texts are checked for tsrunc only.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const { copyRootfs } = require('../lib/rootfs');

const test = suite('userns');
const ctx = h.createContext('userns');
h.install(test, ctx);
// the container's root is an unprivileged host uid: it must be able to reach the bundles
fs.chmodSync(ctx.base, 0o755);

const HAS_USERNS = fs.existsSync('/proc/self/ns/user') && Number((fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8') || '0').trim()) > 0;
const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
const SH = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;

function runcKnown(reason) {
  if (!h.IS_RUNC) return false;
  console.log(`KNOWN runc 1.1.5 deviation, not checked: ${reason}`);
  return true;
}

const ok = (r, what) => assert.is(r.status, 0, `${what}: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
const norm = (s) => (s || '').trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')).join('\n');
const statusOf = (pid, key) => {
  const m = new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? m[1].trim().split(/\s+/) : [];
};
const userns = (c, maps = { uid: MAP, gid: MAP }) => {
  c.linux.namespaces.push({ type: 'user' });
  if (maps.uid) c.linux.uidMappings = maps.uid;
  if (maps.gid) c.linux.gidMappings = maps.gid;
};

/** Waits until file `p` holds exactly `content` (the container's marker, complete: `echo` creates it empty, then writes). */
async function waitFile(p, content, ms = 10000) {
  const end = Date.now() + ms;
  let text;
  for (;;) {
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch {
      text = undefined;
    }
    if (text === content) return text;
    if (Date.now() > end) throw new Error(`${p}: ${text === undefined ? 'missing' : JSON.stringify(text)}, waited for ${JSON.stringify(content)}`);
    await h.delay(50);
  }
}

// ---------------------------------------------------------------------------

test('a new user namespace: root maps to 100000, host root\'s files are nobody\'s, files made inside belong to 100000', async () => {
  if (!HAS_USERNS) return skip('no user namespaces');
  const shared = ctx.tmp('shared');
  fs.mkdirSync(shared);
  fs.chownSync(shared, 100000, 100000);
  const script = [
    'id', 'cat /proc/self/uid_map /proc/self/gid_map',
    'echo "busybox $(stat -c %u:%g /bin/busybox)"',
    'touch /shared/made-inside && echo touch-ok',
    'grep -E "^Cap(Eff|Bnd)" /proc/self/status',
    'echo done >/shared/ready; exec sleep 100',
  ].join('; ');
  const b = ctx.makeBundle({
    args: ['sh', '-c', script],
    extraMounts: [{ destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] }],
    edit: (c) => userns(c),
  });
  // the mount point: the container's root (host uid 100000) may not write to host root's rootfs
  fs.mkdirSync(path.join(b.rootfs, 'shared'));
  const id = ctx.id('uns');
  const out = ctx.tmp('out');
  ok(ctx.rt(['run', '--detach', '--bundle', b.dir, id], { stdoutPath: out }), 'run -d');
  await waitFile(path.join(shared, 'ready'), 'done\n');
  const text = fs.readFileSync(out, 'utf8');
  const { pid } = ctx.state(id);
  assert.match(text, /^uid=0\(root\) gid=0\(root\)/m, 'root inside');
  assert.match(norm(text), /^0 100000 65536\n0 100000 65536$/m, 'uid_map and gid_map');
  assert.match(text, /^busybox 65534:65534$/m, 'files of host root (unmapped) are owned by nobody:nogroup');
  assert.match(text, /^touch-ok$/m);
  const st = fs.statSync(path.join(shared, 'made-inside'));
  assert.equal([st.uid, st.gid], [100000, 100000], 'a file made by the container root belongs to host uid/gid 100000');
  // from the host: the process runs as 100000, in a user namespace of its own
  assert.equal(statusOf(pid, 'Uid'), ['100000', '100000', '100000', '100000']);
  assert.equal(statusOf(pid, 'Gid'), ['100000', '100000', '100000', '100000']);
  assert.is.not(fs.readlinkSync(`/proc/${pid}/ns/user`), fs.readlinkSync('/proc/self/ns/user'));
  assert.is(norm(fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8')), '0 100000 65536');
  // capabilities are the configured ones (in the container's user namespace)
  assert.match(text, /^CapBnd:\s+0000000020000420$/m);
  ok(ctx.rt(['delete', '--force', id]), 'delete');
  ctx.leftovers({ id, bundle: b });
});

test('several mapping ranges: a non-root process user maps through the second range', () => {
  if (!HAS_USERNS) return skip('no user namespaces');
  const maps = [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 1000, hostID: 300000, size: 1000 }];
  const b = ctx.makeBundle({
    args: ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map; exec 3</proc/self/status; grep -E "^(Uid|Gid):" <&3'],
    edit: (c) => {
      userns(c, { uid: maps, gid: maps });
      c.process.user = { uid: 1000, gid: 1001 };
    },
  });
  const id = ctx.id('ranges');
  const r = ctx.rt(['run', '--bundle', b.dir, id]);
  ok(r, 'run');
  assert.match(r.stdout, /^1000\n1001\n/);
  assert.match(norm(r.stdout), /^0 100000 1000\n1000 300000 1000$/m);
  ctx.leftovers({ id, bundle: b });
});

test('devices in a user namespace are bind-mounted from the host, not made (default and configured ones)', () => {
  if (!HAS_USERNS) return skip('no user namespaces');
  const hasFuse = fs.existsSync('/dev/fuse');
  const script = [
    'for d in /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty' + (hasFuse ? ' /dev/fuse' : '') + '; do',
    '  echo "$d $(stat -c %t:%T:%u "$d") $(grep -c " $d " /proc/self/mountinfo)"',
    'done',
    'echo x >/dev/null && echo null-write-ok',
    'echo "zero $(head -c 4 /dev/zero | wc -c)"',
  ].join('\n');
  const b = ctx.makeBundle({
    args: ['sh', '-c', script],
    edit: (c) => {
      userns(c);
      if (hasFuse) {
        c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }];
        c.linux.resources.devices.push({ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
      }
    },
  });
  const id = ctx.id('dev');
  const r = ctx.rt(['run', '--bundle', b.dir, id]);
  ok(r, 'run');
  const want = { '/dev/null': '1:3', '/dev/zero': '1:5', '/dev/full': '1:7', '/dev/random': '1:8', '/dev/urandom': '1:9', '/dev/tty': '5:0' };
  if (hasFuse) want['/dev/fuse'] = 'a:e5';
  for (const [dev, num] of Object.entries(want)) {
    const m = new RegExp(`^${dev} (\\w+:\\w+):(\\d+) (\\d+)$`, 'm').exec(r.stdout);
    assert.ok(m, `${dev} missing:\n${r.stdout}`);
    assert.is(m[1], num, `${dev} device number`);
    assert.is(m[2], '65534', `${dev}: the host's device node (owned by unmapped host root)`);
    assert.ok(Number(m[3]) >= 1, `${dev} is a bind mount (mount point in mountinfo)`);
  }
  assert.match(r.stdout, /^null-write-ok$/m);
  assert.match(r.stdout, /^zero 4$/m);
  ctx.leftovers({ id, bundle: b });
});

// ---------------------------------------------------------------------------
// joining a user namespace by path

/** `unshare --user --map-root-user sleep 600`: a user namespace where host root is root (0 0 1). */
async function userNsHolder() {
  const child = ctx.spawnHelper('unshare', ['--user', '--map-root-user', 'sleep', '600']);
  const hostLink = fs.readlinkSync('/proc/self/ns/user');
  const end = Date.now() + 10000;
  for (;;) {
    let link;
    let map;
    try {
      link = fs.readlinkSync(`/proc/${child.pid}/ns/user`);
      map = fs.readFileSync(`/proc/${child.pid}/uid_map`, 'utf8');
    } catch {
      /* not yet */
    }
    if (link && link !== hostLink && norm(map) === '0 0 1' && fs.readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'sleep') {
      return { pid: child.pid, path: `/proc/${child.pid}/ns/user`, link };
    }
    if (Date.now() > end) throw new Error('the user namespace holder did not start');
    await h.delay(20);
  }
}

/** Only ids 0 are mapped in the holder's namespace: devpts cannot take gid=5 there. */
function noUnmappedIds(c) {
  for (const m of c.mounts) if (m.type === 'devpts') m.options = m.options.filter((o) => !o.startsWith('gid='));
}

const JOIN_SCRIPT = 'id; readlink /proc/self/ns/user; cat /proc/self/uid_map /proc/self/gid_map; readlink /proc/self/ns/pid; echo "pid $$"';

test('joining a user namespace by path (with the mappings repeated in the config)', async () => {
  if (!HAS_USERNS) return skip('no user namespaces');
  const holder = await userNsHolder();
  const b = ctx.makeBundle({
    args: ['sh', '-c', JOIN_SCRIPT],
    edit: (c) => {
      c.linux.namespaces.push({ type: 'user', path: holder.path });
      noUnmappedIds(c);
      c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    },
  });
  const id = ctx.id('join');
  const r = ctx.rt(['run', '--bundle', b.dir, id]);
  ok(r, 'run');
  assert.match(r.stdout, /^uid=0\(root\) gid=0\(root\)/m);
  assert.ok(r.stdout.split('\n').includes(holder.link), `the container is in the holder's user namespace ${holder.link}:\n${r.stdout}`);
  assert.match(norm(r.stdout), /^0 0 1\n0 0 1$/m, 'the holder\'s mappings');
  assert.match(r.stdout, /^pid 1$/m, 'a new pid namespace (owned by the joined user namespace)');
  // the holder's namespace is left as it was
  assert.is(norm(fs.readFileSync(`/proc/${holder.pid}/uid_map`, 'utf8')), '0 0 1');
  ctx.leftovers({ id, bundle: b });
});

test('joining a user namespace by path without mappings in the config (they are OPTIONAL then)', async () => {
  if (!HAS_USERNS) return skip('no user namespaces');
  if (runcKnown('runc 1.1 requires uidMappings/gidMappings even when joining a user namespace by path')) return;
  const holder = await userNsHolder();
  const b = ctx.makeBundle({
    args: ['sh', '-c', JOIN_SCRIPT],
    edit: (c) => {
      c.linux.namespaces.push({ type: 'user', path: holder.path });
      noUnmappedIds(c);
    },
  });
  const id = ctx.id('joinnomap');
  const r = ctx.rt(['run', '--bundle', b.dir, id]);
  ok(r, 'run');
  assert.ok(r.stdout.split('\n').includes(holder.link), `the container is in the holder's user namespace:\n${r.stdout}`);
  assert.match(norm(r.stdout), /^0 0 1\n0 0 1$/m);
  ctx.leftovers({ id, bundle: b });
});

test('joining a user namespace path that is not a user namespace is an error naming the field', async () => {
  if (!HAS_USERNS) return skip('no user namespaces');
  const b = ctx.makeBundle({
    edit: (c) => {
      c.linux.namespaces.push({ type: 'user', path: '/proc/self/ns/net' });
      c.linux.uidMappings = MAP;
      c.linux.gidMappings = MAP;
    },
  });
  const id = ctx.id('joinbad');
  const r = ctx.rt(['create', '--bundle', b.dir, id]);
  assert.is(r.status, 1, r.stderr);
  if (h.IS_TSRUNC) assert.match(h.errorMessage(r.stderr), /user/);
  ctx.leftovers({ id, bundle: b });
});

// ---------------------------------------------------------------------------
// spec --rootless

function rootlessConfig(dir, script) {
  const configPath = path.join(dir, 'config.json');
  const c = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  c.process.terminal = false;
  c.process.args = ['sh', '-c', script];
  fs.writeFileSync(configPath, JSON.stringify(c, null, '\t'));
  return c;
}

test('spec --rootless: a user namespace mapping the caller\'s own ids; root can run it', () => {
  if (!HAS_USERNS) return skip('no user namespaces');
  const dir = ctx.tmp('rootless-root');
  fs.mkdirSync(dir);
  ok(ctx.rt(['spec', '--rootless'], { cwd: dir }), 'spec --rootless');
  const c = rootlessConfig(dir, 'id; cat /proc/self/uid_map /proc/self/gid_map; readlink /proc/self/ns/user');
  assert.ok(c.linux.namespaces.some((n) => n.type === 'user' && !n.path), 'a new user namespace');
  assert.not.ok(c.linux.namespaces.some((n) => n.type === 'network'), 'no network namespace (rootless has no way to connect one)');
  assert.equal(c.linux.uidMappings, [{ containerID: 0, hostID: 0, size: 1 }]);
  assert.equal(c.linux.gidMappings, [{ containerID: 0, hostID: 0, size: 1 }]);
  copyRootfs(path.join(dir, 'rootfs'));
  ctx._bundles.add(dir); // cleanup: processes and mounts tied to this bundle
  const id = ctx.id('rlroot');
  const r = ctx.rt(['run', '--bundle', dir, id]);
  ok(r, 'run');
  assert.match(r.stdout, /^uid=0\(root\) gid=0\(root\)/m);
  assert.match(norm(r.stdout), /^0 0 1\n0 0 1$/m);
  assert.ok(!r.stdout.includes(fs.readlinkSync('/proc/self/ns/user')), 'a user namespace of its own');
  ctx.leftovers({ id, bundle: dir });
});

// ---------------------------------------------------------------------------
// an unprivileged user

const tempUsers = new Set();
function removeUser(name) {
  const uid = Number((spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout || '').trim());
  if (uid > 0) {
    // the processes this test made as that user, by pid (zombies too: userdel refuses while any is listed)
    const ofUser = (p) => {
      try {
        return fs.statSync(`/proc/${p}`).uid === uid;
      } catch {
        return false;
      }
    };
    for (let round = 0; round < 3; round++) {
      const mine = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter(ofUser);
      if (!mine.length) break;
      for (const p of mine) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      // until they are reaped; a round that times out kills what is left again, then userdel reports
      const end = Date.now() + 5000;
      while (mine.some(ofUser) && Date.now() < end) h.sleepMs(20);
    }
  }
  spawnSync('userdel', [name], { stdio: 'ignore' });
  tempUsers.delete(name);
}
process.on('exit', () => {
  for (const u of [...tempUsers]) removeUser(u);
});

function su(user, cmd, opts = {}) {
  const io = {};
  const outPath = opts.stdoutPath || ctx.tmp('su-out');
  const errPath = ctx.tmp('su-err');
  io.out = fs.openSync(outPath, 'a+');
  io.err = fs.openSync(errPath, 'w+');
  try {
    const r = spawnSync('su', [user, '-s', '/bin/sh', '-c', cmd], { stdio: ['ignore', io.out, io.err], timeout: 30000, killSignal: 'SIGKILL', cwd: '/' });
    return { status: r.status, signal: r.signal, stdout: fs.readFileSync(outPath, 'utf8'), stderr: fs.readFileSync(errPath, 'utf8') };
  } finally {
    fs.closeSync(io.out);
    fs.closeSync(io.err);
    if (!opts.stdoutPath) fs.rmSync(outPath, { force: true });
    fs.rmSync(errPath, { force: true });
  }
}

test('a non-root user runs a `spec --rootless` bundle: state under $XDG_RUNTIME_DIR, no cgroup, root inside maps to the user', async () => {
  if (!HAS_USERNS) return skip('no user namespaces');
  const name = `tsre2e${h.rand(3)}`;
  const home = ctx.tmp('rootless-user');
  fs.mkdirSync(home, { mode: 0o755 });
  let r = spawnSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', name], { encoding: 'utf8' });
  assert.is(r.status, 0, `useradd: ${r.stderr}`);
  tempUsers.add(name);
  const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
  const xdg = path.join(home, 'xdg');
  const bundle = path.join(home, 'bundle');
  const id = ctx.id('rl');
  const rt = (args, opts) => su(name, `cd ${SH(bundle)} && XDG_RUNTIME_DIR=${SH(xdg)} exec ${SH(h.RUNTIME)} ${args.map(SH).join(' ')}`, opts);
  try {
    fs.mkdirSync(xdg, { mode: 0o700 });
    fs.mkdirSync(bundle, { mode: 0o755 });
    copyRootfs(path.join(bundle, 'rootfs'));
    spawnSync('chown', ['-R', `${uid}:${gid}`, home]);
    ctx._bundles.add(bundle);

    r = rt(['spec', '--rootless']);
    ok(r, 'spec --rootless as the user');
    const c = rootlessConfig(bundle, 'id; cat /proc/self/uid_map /proc/self/gid_map; touch /tmp/x && echo write-ok; echo started >/tmp/started; exec sleep 100');
    fs.chownSync(path.join(bundle, 'config.json'), uid, gid);
    assert.equal(c.linux.uidMappings, [{ containerID: 0, hostID: uid, size: 1 }], 'spec --rootless maps root to the caller\'s uid');
    assert.equal(c.linux.gidMappings, [{ containerID: 0, hostID: gid, size: 1 }], 'spec --rootless maps root to the caller\'s gid');
    c.root.readonly = false; // the process writes /tmp/started
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(c, null, '\t'));

    const out = ctx.tmp('rl-out');
    r = rt(['create', id], { stdoutPath: out });
    ok(r, 'create as the user');
    const stateDir = path.join(xdg, h.RUNTIME_NAME, id);
    assert.ok(fs.existsSync(stateDir), `the state is under $XDG_RUNTIME_DIR: ${stateDir}`);
    assert.is(fs.statSync(stateDir).uid, uid, 'the state directory belongs to the user');
    r = rt(['state', id]);
    ok(r, 'state as the user');
    const st = JSON.parse(r.stdout);
    assert.is(st.status, 'created');
    assert.is(ctx.rt(['state', id]).status, 1, 'nothing under the default root of root');
    ok(rt(['start', id]), 'start as the user');
    await waitFile(path.join(bundle, 'rootfs/tmp/started'), 'started\n');
    const text = fs.readFileSync(out, 'utf8');
    assert.match(text, /^uid=0\(root\) gid=0\(root\)/m, 'root inside');
    assert.is(norm(text).split('\n').slice(1, 3).join('\n'), `0 ${uid} 1\n0 ${gid} 1`, 'root inside is the user outside');
    assert.match(text, /^write-ok$/m, 'the container root may write its own rootfs');
    // from the host: the process belongs to the user, and stays in the caller's cgroups
    assert.equal(statusOf(st.pid, 'Uid'), [String(uid), String(uid), String(uid), String(uid)]);
    const cg = (p) => fs.readFileSync(`/proc/${p}/cgroup`, 'utf8');
    assert.is(cg(st.pid), cg(process.pid), 'no cgroup of its own (cgroups are not delegated to the user)');
    assert.equal(h.cgroupDirsNamed(id), [], 'no cgroup directory named after the container');

    ok(rt(['kill', id, 'KILL']), 'kill as the user');
    const end = Date.now() + 10000;
    while (h.pidAlive(st.pid) && Date.now() < end) await h.delay(50);
    assert.not.ok(h.pidAlive(st.pid), `the container process ${st.pid} is still alive 10 s after kill KILL`);
    ok(rt(['delete', id]), 'delete as the user');
    assert.not.ok(fs.existsSync(stateDir), 'delete removes the state directory');
    assert.equal(h.processesOf({ bundles: [bundle] }), []);
    assert.equal(h.mountsUnder(bundle), []);

    // and run in the foreground
    const c2 = rootlessConfig(bundle, 'id -u; cat /proc/self/uid_map');
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ ...c2, root: { ...c2.root, readonly: true } }, null, '\t'));
    const id2 = ctx.id('rl2');
    r = rt(['run', id2]);
    ok(r, 'run as the user');
    assert.match(norm(r.stdout), new RegExp(`^0\\n0 ${uid} 1$`));
    assert.not.ok(fs.existsSync(path.join(xdg, h.RUNTIME_NAME, id2)), 'run removes its state');
  } finally {
    rt(['delete', '--force', id]);
    removeUser(name);
  }
  assert.not.ok(tempUsers.has(name));
  assert.is(spawnSync('id', [name]).status, 1, 'the temporary user is gone');
});

// ---------------------------------------------------------------------------
// invalid mappings

function rejected(edit, { mentions = [], runcRejects = true, runcNote = '' } = {}) {
  const b = ctx.makeBundle({ args: ['true'], edit: (c) => { edit(c); return c; } });
  const id = ctx.id('bad');
  const r = ctx.rt(['run', '--bundle', b.dir, id]);
  let msg = '';
  if (h.IS_TSRUNC) {
    assert.is(r.status, 1, `run should fail: exit ${r.status}\nstderr: ${r.stderr}`);
    msg = h.errorMessage(r.stderr);
    for (const m of mentions) assert.ok(m instanceof RegExp ? m.test(msg) : msg.includes(m), `message "${msg}" should mention ${m}`);
  } else if (runcRejects) {
    assert.is(r.status, 1, `run should fail: exit ${r.status}\nstderr: ${r.stderr}`);
  } else {
    console.log(`NOTE ${h.RUNTIME_NAME} accepts this config (${runcNote}): exit ${r.status}`);
  }
  ctx.leftovers({ id, bundle: b });
  return msg;
}

const OVERLAP_CONTAINER = [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 500, hostID: 300000, size: 1000 }];
const OVERLAP_HOST = [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 2000, hostID: 100500, size: 1000 }];

test('invalid mappings: overlapping ranges, size 0, mappings without a user namespace, a user namespace without mappings', () => {
  if (!HAS_USERNS) return skip('no user namespaces');
  rejected((c) => userns(c, { uid: OVERLAP_CONTAINER, gid: MAP }), { mentions: ['linux.uidMappings'] });
  rejected((c) => userns(c, { uid: MAP, gid: OVERLAP_CONTAINER }), { mentions: ['linux.gidMappings'] });
  rejected((c) => userns(c, { uid: OVERLAP_HOST, gid: MAP }), { mentions: ['linux.uidMappings'] });
  rejected((c) => userns(c, { uid: [{ containerID: 0, hostID: 100000, size: 0 }], gid: MAP }), { mentions: ['linux.uidMappings'] });
  rejected((c) => userns(c, { uid: MAP, gid: [{ containerID: 0, hostID: 100000, size: 0 }] }), { mentions: ['linux.gidMappings'] });
  rejected((c) => {
    c.linux.uidMappings = MAP;
    c.linux.gidMappings = MAP;
  }, { mentions: ['linux.uidMappings', 'user'], runcRejects: false, runcNote: 'runc 1.1.5 ignores mappings without a user namespace' });
  rejected((c) => userns(c, {}), { mentions: [/linux\.(uid|gid)Mappings/] });
});

test('invalid mappings: the message says what is wrong (overlap, size)', () => {
  if (!HAS_USERNS) return skip('no user namespaces');
  if (!h.IS_TSRUNC) return skip(`${h.RUNTIME_NAME}'s texts are its own`);
  const overlap = rejected((c) => userns(c, { uid: OVERLAP_CONTAINER, gid: MAP }), { mentions: ['linux.uidMappings'] });
  assert.match(overlap, /overlap/i, `the message should say the ranges overlap: ${overlap}`);
  const size = rejected((c) => userns(c, { uid: [{ containerID: 0, hostID: 100000, size: 0 }], gid: MAP }), { mentions: ['linux.uidMappings'] });
  assert.match(size, /size/i, `the message should say the size is wrong: ${size}`);
});

test.run();
