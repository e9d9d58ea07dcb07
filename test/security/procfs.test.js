'use strict';
// The runtime writes into the container's /proc: process.oomScoreAdj into
// /proc/self/oom_score_adj, linux.sysctl into /proc/sys/... (and, with an LSM,
// /proc/self/attr/...). If the config or the image can put something else
// there (a bind of a host directory, a tmpfs, a symlink in the rootfs, a mount
// on a file inside /proc), those writes go to a file someone chose, and the
// kernel's own protections that /proc carries are gone (CVE-2019-16884,
// CVE-2019-19921, CVE-2023-28642). runc 1.1.5 refuses (checkProcMount and the
// proc/sysfs mount check in libcontainer/rootfs_linux.go):
//   - a mount on /proc that is not procfs: `"<rootfs>/proc" cannot be mounted
//     because it is not of type proc`;
//   - a mount inside /proc except the few files lxcfs emulates:
//     `"<dest>" cannot be mounted because it is inside /proc`;
//   - /proc or /sys in the rootfs that is not a directory (a symlink, a file):
//     `filesystem "proc" must be mounted on ordinary directory`.
// tsrunc must refuse the same bundles with runc's phrases, naming the
// destination as the config gives it (/proc, /sys, /proc/...), write nothing
// anywhere, and leave nothing behind.
const fs = require('fs');
const path = require('path');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const lib = require('./lib');
const m = require('./mounts-lib');

const OOM_SCORE_ADJ = 500; // raising needs no CAP_SYS_RESOURCE

/** Replaces the mount at `dest` in the config (or appends it). */
function replaceMount(c, dest, mount) {
  const i = c.mounts.findIndex((x) => x.destination === dest);
  if (i < 0) c.mounts.push(mount);
  else c.mounts[i] = mount;
}

/** A host directory shaped like /proc: the files the runtime writes, each holding "0\n". */
function fakeProc(ctx) {
  const dir = ctx.tmp('fakeproc');
  for (const f of ['self/oom_score_adj', 'sys/net/ipv4/ip_forward', 'sys/kernel/shmmax', 'self/attr/exec']) {
    fs.mkdirSync(path.join(dir, path.dirname(f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), '0\n');
  }
  return dir;
}

/** Asserts `dir` holds exactly what `before` (snapshotTree) recorded: the runtime wrote nothing there. */
function unchanged(dir, before, what) {
  const diff = m.treeChanges(dir, before).map((c) => `${c.path}: ${JSON.stringify(c.was)} -> ${JSON.stringify(c.now)}`);
  assert.ok(diff.length === 0, `${what}: the runtime wrote into ${dir}:\n  ${diff.join('\n  ')}`);
  assert.equal(h.mountsUnder(dir), [], `${what}: something is mounted on ${dir} on the host`);
}

/** A config that makes the runtime write into /proc: oomScoreAdj and two namespaced sysctls. */
function writesProc(c) {
  c.process.oomScoreAdj = OOM_SCORE_ADJ;
  c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '123456' };
}

// Measured with runc 1.1.5+ds1-1+deb12u1 (Debian 12): its checkProcMount is
// not called for tmpfs mounts.
const KNOWN_RUNC = {
  '/proc is a tmpfs: refused':
    'mounts the tmpfs on /proc (no checkProcMount for tmpfs); create fails only later, by accident: "error closing exec fds: open /proc/self/fd: no such file or directory"',
  'a tmpfs on /proc/sys: refused': 'mounts the tmpfs on /proc/sys (no checkProcMount for tmpfs) and creates the container',
};

lib.suites('procfs', (test, ctx) => {
  test('/proc bind-mounted from a host directory: refused, nothing written into the directory', () => {
    const P = fakeProc(ctx);
    const before = m.snapshotTree(P);
    const b = ctx.makeBundle({
      edit: (c) => {
        replaceMount(c, '/proc', { destination: '/proc', type: 'bind', source: P, options: ['rbind', 'rw'] });
        writesProc(c);
      },
    });
    m.refused(ctx, b, ['/proc', 'cannot be mounted because it is not of type proc'], () => unchanged(P, before, 'bind of a host dir on /proc'));
  });

  test('/proc is a tmpfs: refused', () => {
    const b = ctx.makeBundle({
      edit: (c) => replaceMount(c, '/proc', { destination: '/proc', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] }),
    });
    m.refused(ctx, b, ['/proc', 'cannot be mounted because it is not of type proc']);
  });

  /**
   * The rootfs's /proc or /sys made into `kind` by `plant(p)`: create must
   * be refused, and nothing may reach the host directory `hostDir`, not even
   * in the container's mount namespace before pivot_root (where a
   * createContainer hook looks, if the runtime gets that far).
   */
  function notADirectory(kind, plant) {
    const hook = lib.payload('mountinfo-dump');
    for (const [dest, fstype] of [['/proc', 'proc'], ['/sys', 'sysfs']]) {
      const hostDir = ctx.tmp('hostdir');
      fs.mkdirSync(hostDir);
      fs.writeFileSync(path.join(hostDir, 'marker'), 'host\n');
      const before = m.snapshotTree(hostDir);
      const dump = ctx.tmp('mountinfo');
      const b = ctx.makeBundle({
        edit: (c) => {
          writesProc(c);
          c.hooks = { createContainer: [{ path: hook, args: ['mountinfo-dump', dump] }] };
        },
      });
      const p = path.join(b.rootfs, dest);
      fs.rmSync(p, { recursive: true, force: true });
      plant(p, hostDir, b);
      m.refused(ctx, b, [dest, `filesystem "${fstype}" must be mounted on ordinary directory`], () => {
        const onHostDir = m.parseMountinfo(lib.readText(dump)).filter((x) => m.isUnder(x.mountPoint, hostDir));
        assert.ok(onHostDir.length === 0, `${dest} is ${kind}: ${onHostDir.map((x) => x.fstype).join(', ')} mounted on ${hostDir} in the container's mount namespace`);
        unchanged(hostDir, before, `${dest} is ${kind}`);
      });
    }
  }

  test('/proc or /sys in the rootfs is a symlink to an absolute host path: refused, nothing reaches that path', () => {
    notADirectory('a symlink to a host directory', (p, hostDir) => fs.symlinkSync(hostDir, p));
  });

  test('/proc or /sys in the rootfs is a symlink to a directory in the rootfs: refused', () => {
    notADirectory('a symlink to a directory in the rootfs', (p, hostDir, b) => {
      fs.mkdirSync(path.join(b.rootfs, `fake${path.basename(p)}`));
      fs.symlinkSync(`fake${path.basename(p)}`, p);
    });
  });

  test('/proc or /sys in the rootfs is a regular file: refused', () => {
    notADirectory('a regular file', (p) => fs.writeFileSync(p, 'not a directory\n'));
  });

  test('a bind mount onto /proc/self/oom_score_adj: refused, oomScoreAdj is not written into its source', () => {
    const file = ctx.tmp('oom_score_adj');
    fs.writeFileSync(file, '0\n');
    const b = ctx.makeBundle({
      edit: (c) => {
        c.process.oomScoreAdj = OOM_SCORE_ADJ;
        c.mounts.push({ destination: '/proc/self/oom_score_adj', type: 'bind', source: file, options: ['bind', 'rw'] });
      },
    });
    m.refused(ctx, b, ['/proc/self/oom_score_adj', 'cannot be mounted because it is inside /proc'], () => {
      assert.is(fs.readFileSync(file, 'utf8'), '0\n', `the runtime wrote oomScoreAdj into ${file}, bind-mounted on /proc/self/oom_score_adj`);
    });
  });

  test('a bind mount onto /proc/sys/kernel: refused, sysctls are not written into its source', () => {
    const dir = ctx.tmp('kernel');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'shmmax'), '0\n');
    const before = m.snapshotTree(dir);
    const b = ctx.makeBundle({
      edit: (c) => {
        c.linux.sysctl = { 'kernel.shmmax': '123456' };
        c.mounts.push({ destination: '/proc/sys/kernel', type: 'bind', source: dir, options: ['rbind', 'rw'] });
      },
    });
    m.refused(ctx, b, ['/proc/sys/kernel', 'cannot be mounted because it is inside /proc'], () => unchanged(dir, before, 'bind on /proc/sys/kernel'));
  });

  test('a tmpfs on /proc/sys: refused', () => {
    const b = ctx.makeBundle({
      edit: (c) => {
        c.mounts.push({ destination: '/proc/sys', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
      },
    });
    m.refused(ctx, b, ['/proc/sys', 'cannot be mounted because it is inside /proc']);
  });

  test('lxcfs-style bind mounts onto /proc/cpuinfo, /proc/meminfo, /proc/uptime and /proc/stat still work', () => {
    const files = { cpuinfo: 'processor\t: 0\nfake cpu\n', meminfo: 'MemTotal: 1 kB\n', uptime: '1.00 2.00\n', stat: 'cpu  1 2 3 4\n' };
    const mounts = Object.entries(files).map(([name, text]) => {
      const src = ctx.tmp(name);
      fs.writeFileSync(src, text);
      return { destination: `/proc/${name}`, type: 'bind', source: src, options: ['bind', 'ro'] };
    });
    const b = ctx.shBundle(Object.keys(files).map((n) => `cat /proc/${n}`).join('; '), (c) => c.mounts.push(...mounts));
    const id = ctx.id('mnt');
    const r = ctx.rt(['run', '--bundle', b.dir, id]);
    assert.is(r.status, 0, `run: exit ${r.status}\nstderr: ${r.stderr}`);
    assert.is(r.stdout, Object.values(files).join(''));
    ctx.rt(['delete', '--force', id]);
    ctx.leftovers({ id, bundle: b });
  });
}, { knownRunc: KNOWN_RUNC });
