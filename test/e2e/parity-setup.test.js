'use strict';
// Container set-up where tsrunc must do exactly what runc 1.1.5 does: the
// device cgroup, mount propagation, a read-only /dev, the console's owner,
// bind sources under a user namespace, cgroup v1 cpuset parents, seccomp's
// unknown syscalls, --no-pivot, the working directory. Runs against runc too
// (TSRUNC_TEST_RUNTIME=/usr/sbin/runc); what is tsrunc's own is keyed off
// h.IS_TSRUNC.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');

const test = suite('parity-setup');
const ctx = h.createContext('parity-setup');
h.install(test, ctx);

const V2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');

/** Runs `sh -c script` in a fresh container (foreground); returns rt()'s result. */
function runSh(script, edit, opts = {}) {
  const b = ctx.shBundle(script, edit);
  return ctx.rt(['run', ...(opts.flags || []), '--bundle', b.dir, ctx.id('pset')], opts);
}

function ok(r, what) {
  assert.is(r.status, 0, `${what}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** The last error message of a failed command (runc may log warnings first). */
function errorOf(r) {
  const errs = h.parseTextLog(r.stderr).filter((e) => e.level === 'error');
  assert.ok(errs.length, `no error line in:\n${r.stderr}`);
  return errs[errs.length - 1].msg;
}

/** A created container's host pid and the v1 devices cgroup dir of it. */
function devicesList(pid) {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const rel = lines.find((l) => l.split(':')[1] === 'devices').split(':')[2];
  const mnt = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' '))
    .find((f) => f.includes('cgroup') && /(^|,)devices(,|$)/.test(f[f.length - 1]));
  return fs.readFileSync(path.join(mnt[4], rel, 'devices.list'), 'utf8').trim().split('\n').sort();
}

// ---- 1. the device cgroup ----

const OPEN_FUSE = 'dd if=/dev/fuse of=/dev/null bs=1 count=0 2>&1; echo rc=$?';
const FUSE = { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600 };

test('devices: a linux.devices node the rules do not allow is denied by the device cgroup', () => {
  const out = ok(runSh(OPEN_FUSE, (c) => { c.linux.devices = [FUSE]; }), 'run');
  assert.match(out, /Operation not permitted/, out);
  assert.match(out, /rc=1/);
  // allowed by a rule: it opens (ENODEV at worst where fuse is not loaded, never EPERM)
  const out2 = ok(runSh(OPEN_FUSE, (c) => {
    c.linux.devices = [FUSE];
    c.linux.resources.devices.push({ allow: true, type: 'c', major: 10, minor: 229, access: 'rw' });
  }), 'run');
  assert.not.match(out2, /Operation not permitted/, out2);
});

test('devices: the device cgroup holds runc 1.1.5\'s defaults; a listed node replaces the default of its path', () => {
  if (V2) return skip('devices.list is cgroup v1\'s');
  for (const [devices, want] of [
    [[], ['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 10:200 rwm', 'c 136:* rwm', 'c 5:0 rwm', 'c 5:2 rwm']],
    [[{ path: '/dev/full', type: 'c', major: 1, minor: 7 }], ['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 10:200 rwm', 'c 136:* rwm', 'c 5:0 rwm', 'c 5:2 rwm']],
  ]) {
    const b = ctx.shBundle('true', (c) => { c.linux.devices = devices; });
    const id = ctx.id('pset');
    ok(ctx.rt(['create', '--bundle', b.dir, id]), 'create');
    assert.equal(devicesList(ctx.state(id).pid), want.sort(), JSON.stringify(devices));
  }
});

test('devices: every access string runc accepts is accepted; an empty one is refused with runc\'s message', () => {
  for (const access of ['rwq', 'wr', 'rrw', 'mr', 'r', 'rwm']) {
    const out = ok(runSh(OPEN_FUSE, (c) => {
      c.linux.devices = [FUSE];
      c.linux.resources.devices.push({ allow: true, type: 'c', major: 10, minor: 229, access });
    }), `access ${access}`);
    assert.not.match(out, /Operation not permitted/, `${access}: ${out}`);
  }
  for (const access of ['', undefined]) {
    const r = runSh('true', (c) => { c.linux.resources.devices.push({ allow: true, type: 'c', major: 10, minor: 229, access }); });
    assert.is(r.status, 1, r.stderr);
    assert.match(errorOf(r), 'device access at 1 field cannot be empty');
  }
});

// ---- 2. mount propagation ----

/** The optional fields (shared:N, master:N) of the mountinfo line whose mount point is `mp`. */
function propagationOf(mountinfo, mp) {
  const line = mountinfo.split('\n').find((l) => l.split(' ')[4] === mp);
  if (!line) return undefined;
  const f = line.split(' ');
  return f.slice(6, f.indexOf('-')).join(' ');
}

test('propagation: an rshared volume under rootfsPropagation rshared stays the host mount\'s peer (Bidirectional)', () => {
  const vol = ctx.tmp('vol');
  fs.mkdirSync(vol);
  execFileSync('mount', ['--bind', vol, vol]);
  execFileSync('mount', ['--make-shared', vol]);
  const hostProp = propagationOf(fs.readFileSync('/proc/self/mountinfo', 'utf8'), vol);
  assert.match(hostProp, /^shared:\d+$/);
  const out = ok(runSh('mkdir -p /vol/sub && mount -t tmpfs pset-bidi /vol/sub && cat /proc/self/mountinfo', (c) => {
    c.linux.rootfsPropagation = 'rshared';
    c.mounts.push({ destination: '/vol', type: 'bind', source: vol, options: ['rbind', 'rshared'] });
    for (const k of ['bounding', 'effective', 'permitted']) c.process.capabilities[k].push('CAP_SYS_ADMIN');
  }), 'run');
  assert.is(propagationOf(out, '/vol'), hostProp, 'the volume is in the host mount\'s peer group, not its slave');
  const host = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  assert.ok(host.split('\n').some((l) => l.split(' ')[4] === path.join(vol, 'sub')), 'the container\'s mount reached the host');
});

// ---- 3. a read-only /dev ----

test('read-only /dev: /dev/pts, /dev/shm, /dev/mqueue, the default devices and symlinks are made before it turns read-only', () => {
  const out = ok(runSh('ls /dev /dev/pts | tr "\\n" " "; echo; grep -E " /dev(/[a-z]+)? " /proc/self/mountinfo | cut -d" " -f5,6; touch /dev/x 2>&1; mkdir -p /run/a/b && echo made-under-ro-run', (c) => {
    c.mounts.find((m) => m.destination === '/dev').options.push('ro');
    // a read-only tmpfs with a mount below it: made writable first, as runc does
    c.mounts.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'mode=755'] });
    c.mounts.push({ destination: '/run/a', type: 'tmpfs', source: 'tmpfs', options: ['mode=700'] });
  }), 'run');
  for (const name of ['full', 'null', 'random', 'tty', 'urandom', 'zero', 'ptmx', 'fd', 'stdin', 'stdout', 'stderr', 'pts', 'shm', 'mqueue']) {
    assert.match(out, new RegExp(`(^| )${name} `), `${name} in /dev: ${out}`);
  }
  assert.match(out, /^\/dev ro,/m, 'the /dev mount is read-only');
  for (const sub of ['pts', 'shm', 'mqueue']) assert.match(out, new RegExp(`^/dev/${sub} `, 'm'), `/dev/${sub} mounted`);
  assert.match(out, /Read-only file system/, 'nothing can be made in /dev afterwards');
  assert.match(out, /made-under-ro-run/, 'the tmpfs mounted below a read-only tmpfs is writable');
});

// ---- 4. the console's owner ----

test('console: the pty slave belongs to the process\'s uid and to group tty (gid 5), for run and exec', async () => {
  const recv = ctx.consoleReceiver();
  await recv.listening();
  const b = ctx.shBundle('stat -L -c "init %u %g %a" /proc/self/fd/0; sleep 100', (c) => {
    c.process.terminal = true;
    c.process.user = { uid: 1000, gid: 1000 };
  });
  const id = ctx.id('pset');
  ok(ctx.rt(['run', '-d', '--console-socket', recv.socket, '--bundle', b.dir, id]), 'run -d -t');
  await recv.ready();
  const end = Date.now() + 10000;
  while (!/init \d+/.test(recv.output()) && Date.now() < end) await h.delay(50);
  assert.match(recv.output(), /init 1000 5 620/, recv.output());
  // exec with a terminal, as another user
  const recv2 = ctx.consoleReceiver();
  await recv2.listening();
  ok(ctx.rt(['exec', '-d', '-t', '--console-socket', recv2.socket, '--user', '1234:4321', id, 'sh', '-c', 'stat -L -c "exec %u %g %a" /proc/self/fd/0']), 'exec -t');
  await recv2.ready();
  await recv2.done(15000);
  assert.match(recv2.output(), /exec 1234 5 620/, recv2.output());
});

// ---- 5. bind sources under a user namespace ----

const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

test('user namespace: a bind source only the host\'s root can reach is opened before the new user namespace', () => {
  fs.chmodSync(ctx.base, 0o755); // the rootfs must be reachable by the container's root (uid 100000)
  const secret = ctx.tmp('rootonly');
  fs.mkdirSync(path.join(secret, 'data'), { recursive: true, mode: 0o700 });
  fs.chmodSync(secret, 0o700); // only the host's root passes; the container's root is uid 100000
  fs.chmodSync(path.join(secret, 'data'), 0o755);
  fs.writeFileSync(path.join(secret, 'data', 'f'), 'reached\n', { mode: 0o644 });
  const b = ctx.shBundle('cat /data/f', (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = MAP;
    c.linux.gidMappings = MAP;
    c.mounts.push({ destination: '/data', type: 'bind', source: path.join(secret, 'data'), options: ['rbind', 'ro'] });
    c.mounts = c.mounts.filter((m) => m.type !== 'cgroup' && m.destination !== '/sys'); // sysfs needs the net ns's owner
  });
  fs.mkdirSync(path.join(b.rootfs, 'data')); // the image's root (host root) owns the rootfs
  const out = ok(ctx.rt(['run', '--bundle', b.dir, ctx.id('pset')]), 'run');
  assert.match(out, /reached/);
});

// ---- 6. an SELinux mount label where SELinux is disabled ----

test('mountLabel: ignored where SELinux is disabled, as runc and crun do', () => {
  if (fs.existsSync('/sys/fs/selinux/enforce')) return skip('SELinux is enabled on this host');
  // runc 1.1.5 adds context="..." to the mounts' data anyway: EINVAL mounting /dev
  if (!h.IS_TSRUNC) return skip(`runc 1.1.5 fails on the label without SELinux; tsrunc follows crun (${h.RUNTIME_NAME})`);
  const out = ok(runSh('echo labelled-ok', (c) => { c.linux.mountLabel = 'system_u:object_r:container_file_t:s0'; }), 'run');
  assert.match(out, /labelled-ok/);
});

// ---- 7. cgroup v1 cpuset parents ----

test('cpuset: parents made on the way to an absolute cgroupsPath get their parent\'s cpus and mems', () => {
  if (V2) return skip('cpuset parents are cgroup v1\'s');
  const top = ctx.id('psm');
  const cgroupsPath = `/${top}/psm-b/psm-c`;
  const b = ctx.shBundle('cat /proc/self/cgroup', (c) => {
    c.linux.cgroupsPath = cgroupsPath;
    c.linux.resources.cpu = { cpus: '0', mems: '0' };
  });
  const out = ok(ctx.rt(['run', '--bundle', b.dir, ctx.id('psm')]), 'run');
  assert.match(out, new RegExp(`cpuset:${cgroupsPath}$`, 'm'), out);
  const root = '/sys/fs/cgroup/cpuset';
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const want = fs.readFileSync(path.join(root, f), 'utf8').trim();
    for (const rel of [`/${top}`, `/${top}/psm-b`]) {
      assert.is(fs.readFileSync(path.join(root, rel, f), 'utf8').trim(), want, `${rel} ${f}`);
    }
  }
});

// ---- 8. the working directory and the uid change ----

test('cwd: a directory only root can reach is entered before the uid change', () => {
  const b = ctx.shBundle('pwd; id -u; ls . 2>&1 | head -1', (c) => {
    c.process.cwd = '/rootonly/work';
    c.process.user = { uid: 1000, gid: 1000 };
  });
  fs.mkdirSync(path.join(b.rootfs, 'rootonly', 'work'), { recursive: true });
  fs.writeFileSync(path.join(b.rootfs, 'rootonly', 'work', 'f'), '');
  fs.chmodSync(path.join(b.rootfs, 'rootonly'), 0o700);
  fs.chmodSync(path.join(b.rootfs, 'rootonly', 'work'), 0o700);
  const out = ok(ctx.rt(['run', '--bundle', b.dir, ctx.id('psm')]), 'run');
  // the process stands in the directory, though uid 1000 cannot list it
  assert.match(out, /^\/rootonly\/work\n1000\n.*Permission denied/m, out);
});

// ---- 9. no mount namespace ----

test('no mount namespace: masked or read-only paths are refused in runc\'s words', () => {
  for (const keep of ['maskedPaths', 'readonlyPaths']) {
    const r = runSh('true', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'mount');
      for (const f of ['maskedPaths', 'readonlyPaths']) if (f !== keep) delete c.linux[f];
      c.linux[keep] = ['/proc/kcore'];
    });
    assert.is(r.status, 1, r.stderr);
    assert.match(errorOf(r), 'unable to restrict sys entries without a private MNT namespace', keep);
  }
});

/** The optional fields (shared:N, master:N) of the mount on "/" in this process's mountinfo. */
function rootPropagation() {
  const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse().find((l) => l.split(' ')[4] === '/');
  const f = line.split(' ');
  return f.slice(6, f.indexOf('-')).join(' ');
}

test('no mount namespace, no masked or read-only paths: the runtime\'s mount namespace, chrooted into a private bind of the rootfs; exec lands there too; delete unmounts it all', () => {
  // runc 1.1.5 makes the host's "/" rslave (prepareRoot in the runtime's namespace), runs exec
  // in the host's root and leaves every mount on the host after delete: not run against it here
  if (!h.IS_TSRUNC) return skip(`runc 1.1.5 would change this host's "/" propagation (${h.RUNTIME_NAME})`);
  const b = ctx.makeBundle({ args: ['sleep', '100'], edit: (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'mount');
    delete c.linux.maskedPaths;
    delete c.linux.readonlyPaths;
  } });
  fs.writeFileSync(path.join(b.rootfs, 'only-in-rootfs'), '');
  const before = rootPropagation();
  const id = ctx.id('pset');
  ok(ctx.rt(['run', '-d', '--bundle', b.dir, id]), 'run -d');
  const pid = ctx.state(id).pid;
  // runtime-tools linux_ns_itype: the namespace of a type left out is the runtime's
  assert.is(fs.readlinkSync(`/proc/${pid}/ns/mnt`), fs.readlinkSync('/proc/self/ns/mnt'));
  assert.is(fs.readlinkSync(`/proc/${pid}/root`), b.rootfs, 'the init is chrooted into the rootfs');
  // the mounts are in the runtime's namespace, in the bind of the rootfs: private, its root read-only
  const mine = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f[4] === b.rootfs || f[4]?.startsWith(`${b.rootfs}/`));
  assert.ok(mine.some((f) => f[4] === `${b.rootfs}/proc`), 'its /proc is mounted in the runtime\'s namespace');
  for (const f of mine) assert.not.match(f.slice(6, f.indexOf('-')).join(' '), /shared:/, `${f[4]} propagates`);
  assert.match(mine.find((f) => f[4] === b.rootfs)[5], /^ro\b/, 'root.readonly: the bind');
  assert.is(rootPropagation(), before, 'the runtime\'s "/" keeps its propagation');
  const e = ok(ctx.rt(['exec', id, 'sh', '-c', 'test -e /only-in-rootfs && echo in-rootfs; readlink /proc/self/ns/mnt']), 'exec');
  assert.is(e, `in-rootfs\n${fs.readlinkSync('/proc/self/ns/mnt')}\n`);
  ok(ctx.rt(['delete', '--force', id]), 'delete');
  ctx.leftovers({ id, bundle: b });
});

test('no mount namespace with a user namespace: refused, it could not mount the rootfs', () => {
  const r = runSh('true', (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'mount');
    delete c.linux.maskedPaths;
    delete c.linux.readonlyPaths;
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  assert.is(r.status, 1, r.stderr);
  if (h.IS_TSRUNC) assert.match(errorOf(r), 'linux.namespaces: a user namespace needs a mount namespace of its own');
  assert.equal(h.mountsUnder(ctx.base), []);
});

test.run();
