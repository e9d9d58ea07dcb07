'use strict';
// Symlink-exchange races on paths inside the rootfs (CVE-2021-30465; the same
// class: CVE-2023-28642, CVE-2025-31133, CVE-2025-52565, CVE-2025-52881).
//
// A runtime that resolves a mount destination (or a device path, or a
// read-only path) to a string and then hands the string to mount(2),
// mknod(2) or mount_setattr(2) lets the kernel walk the path a second time.
// An attacker container (A) that shares a volume V with the victim (B) swaps,
// in a tight loop, V/<name> between a directory and a symlink to an absolute
// host path S. B's runtime resolves /vol/<name>/... while it is a directory,
// and the syscall then follows the symlink: the mount lands on the host's S
// (in B's mount namespace, before pivot_root), the device node is made in
// the host's S. S is a scratch directory of the test, so an escape is
// harmless and seen.
//
// A runtime that resolves each path once, inside the rootfs, to a file
// descriptor (openat2 RESOLVE_IN_ROOT) and mounts / mknods / sets attributes
// on that descriptor never escapes: a symlink to /<S> resolves to
// <rootfs>/<S>, so B's /<S> gets the mount, or create fails. Either is fine;
// landing on the host's S is the escape.
//
// Every test creates and deletes B many times while A races, counts what
// happened, and proves the race was live (B saw the symlink, or an escape,
// or creates both failed and succeeded): a race that never happened fails
// the test rather than pass it.
const fs = require('fs');
const path = require('path');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const lib = require('./lib');
const m = require('./mounts-lib');

const MAX_ROUNDS = 100;
const TIME_LIMIT_MS = 60000;

// The entries of the shared volume A swaps, and what each one holds (its
// subdirectory, also made in S so a path through the symlink exists there).
const ENTRIES = { x: 'target', y: 'z', w: null, r: 'ro', m: 'mask' };

/**
 * The shared volume: V/<name> a directory (holding its subdirectory),
 * V/<name>.swap a symlink to S; S holds every subdirectory and nothing else.
 * `dirFd[name]` is an fd of the real directory V/<name>, wherever A has moved
 * it (read it as /proc/self/fd/<fd>/...).
 */
function sharedVolume(ctx) {
  const V = ctx.tmp('vol');
  const S = ctx.tmp('escape');
  const src = ctx.tmp('bindsrc');
  fs.mkdirSync(S);
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'marker'), 'bind source\n');
  const dirFd = {};
  for (const [name, sub] of Object.entries(ENTRIES)) {
    fs.mkdirSync(path.join(V, name, sub || ''), { recursive: true });
    if (sub) fs.mkdirSync(path.join(S, sub));
    fs.symlinkSync(S, path.join(V, `${name}.swap`));
    dirFd[name] = fs.openSync(path.join(V, name), 'r');
  }
  const initial = m.snapshotTree(S);
  return {
    V,
    S,
    src,
    dirFd,
    /** In the real directory V/<name>: /proc/self/fd/<fd>/<rel>. */
    inDir: (name, rel) => `/proc/self/fd/${dirFd[name]}/${rel}`,
    /** What the runtime wrote into the host's S (empty: nothing) or mounted there on the host. */
    hostWrites() {
      const changed = m.treeChanges(S, initial).map((c) => `${path.join(S, c.path)} (${c.now || 'removed'})`);
      return [...changed, ...h.mountsUnder(S).map((p) => `host mount ${p}`)];
    },
    close() {
      for (const fd of Object.values(dirFd)) fs.closeSync(fd);
    },
  };
}

/** The volume as a mount of a container at /vol. */
const volMount = (vol) => ({ destination: '/vol', type: 'bind', source: vol.V, options: ['rbind', 'rw'] });

/** Starts A: `swap /vol x y ...`, and waits until the host sees V/x as both a directory and a symlink. */
async function startAttacker(ctx, vol) {
  const a = ctx.makeBundle({ args: ['/swap', '/vol', ...Object.keys(ENTRIES)], extraMounts: [volMount(vol)] });
  lib.installPayload(a, lib.payload('swap'));
  const id = ctx.id('mnt-a');
  const r = ctx.rt(['run', '-d', '--bundle', a.dir, id]);
  assert.is(r.status, 0, `the attacker container: run -d: ${r.stderr}`);
  const seen = new Set();
  await lib.waitFor(() => {
    for (let i = 0; i < 1000 && seen.size < 2; i++) {
      try {
        seen.add(fs.lstatSync(path.join(vol.V, 'x')).isSymbolicLink() ? 'symlink' : 'dir');
      } catch {
        /* never: the exchange is atomic */
      }
    }
    return seen.size === 2;
  }, 'the attacker to swap V/x between a directory and a symlink');
  return id;
}

/**
 * Creates and deletes B (a bundle, reused) until MAX_ROUNDS or the time limit;
 * `observe(id, createResult)` classifies each round, after create and before
 * delete, as an object of counters ({ dir, link, escapes: [...] }).
 */
async function race(ctx, vol, b, observe) {
  const stats = { rounds: 0, created: 0, failed: 0, dir: 0, link: 0, escapes: [], errors: new Map() };
  const end = Date.now() + TIME_LIMIT_MS;
  while (stats.rounds < MAX_ROUNDS && Date.now() < end) {
    stats.rounds++;
    const id = ctx.id('mnt-b');
    const r = ctx.rt(['create', '--bundle', b.dir, id]);
    if (r.status === 0) stats.created++;
    else {
      stats.failed++;
      const msg = r.stderr.trim().split('\n').pop().replace(/^.*msg="?/, '').replace(/"$/, '').replace(/mnt-b-[0-9a-f]+/g, '<id>');
      stats.errors.set(msg, (stats.errors.get(msg) || 0) + 1);
    }
    const o = observe(id, r);
    stats.dir += o.dir || 0;
    stats.link += o.link || 0;
    for (const e of [...(o.escapes || []), ...vol.hostWrites()]) stats.escapes.push(`round ${stats.rounds}: ${e}`);
    if (r.status === 0) {
      const d = ctx.rt(['delete', '--force', id]);
      assert.is(d.status, 0, `delete: ${d.stderr}`);
    }
    ctx.leftovers({ id, bundle: b });
    resetScratch(vol, b);
    await h.delay(0); // let uvu's timers and the harness's signal handlers run
  }
  return stats;
}

/** Removes what a round may have made in V, in S and in B's rootfs, so each round starts the same. */
function resetScratch(vol, b) {
  for (const p of [vol.inDir('w', 'null0'), path.join(vol.S, 'null0'), path.join(b.rootfs, vol.S, 'null0')]) fs.rmSync(p, { force: true });
}

function summary(what, stats) {
  const errors = [...stats.errors].map(([msg, n]) => `${n}x ${msg}`).join('\n    ');
  return `${what}: ${stats.rounds} rounds, ${stats.created} created, ${stats.failed} failed; ` +
    `B resolved the path as the directory ${stats.dir} time(s), as the symlink (inside its rootfs) ${stats.link} time(s); ` +
    `${stats.escapes.length} escape(s) or misplaced mount(s)${errors ? `\n  create errors:\n    ${errors}` : ''}`;
}

/** Zero escapes, and proof that the race happened. */
function assertNoEscape(what, stats) {
  const text = summary(what, stats);
  if (process.env.TSRUNC_SEC_VERBOSE) console.log(text);
  assert.ok(stats.escapes.length === 0, `${text}\n  first 10:\n    ${stats.escapes.slice(0, 10).join('\n    ')}`);
  const live = stats.link > 0 || (stats.failed > 0 && stats.created > 0);
  assert.ok(live, `${text}\n  the race never happened (B never saw the symlink, and create never both failed and succeeded): the test proves nothing`);
}

/** Mounts on one mount point, bottom first: each one's parent is the one beneath it. */
function stacked(list) {
  const ids = new Set(list.map((x) => x.id));
  const out = list.filter((x) => !ids.has(x.parent));
  for (;;) {
    const next = list.find((x) => x.parent === out[out.length - 1]?.id);
    if (!next) return out;
    out.push(next);
  }
}

// Measured with runc 1.1.5+ds1-1+deb12u1 (Debian 12). Its mounts go through
// WithProcfd (an O_PATH fd checked against the resolved path), but mknod and
// the read-only remount of readonlyPaths still take path strings, and
// maskedPaths bind whatever /dev/null is.
const KNOWN_RUNC = {
  // a few rounds in a hundred: one run may miss it
  'linux.devices under a shared volume are never made outside the rootfs while another container swaps the path for a symlink': {
    weakness: 'createDeviceNode resolves the path with securejoin and then calls mknod(2) and chown(2) on the string: the node is made in the host directory the swapped-in symlink points to',
    racy: true,
  },
  'readonlyPaths and maskedPaths under a shared volume stay read-only and land where they were resolved while another container swaps the path':
    'readonlyPath binds the path onto itself and remounts it read-only by path string: source, target and remount resolve differently, leaving /vol/r/ro writable and making another mount read-only',
  'maskedPaths: a /dev/null planted as a symlink in a shared /dev is never bound over a masked path':
    'maskPath bind-mounts "/dev/null" by path, following the planted symlink: /proc/keys and /proc/timer_list become the planted file',
};

lib.suites('mount-race', (test, ctx) => {
  test('mounts[] under a shared volume (a tmpfs, a bind) never land outside the rootfs while another container swaps the path for a symlink', async () => {
    const vol = sharedVolume(ctx);
    try {
      await startAttacker(ctx, vol);
      const hook = lib.payload('mountinfo-dump');
      const dump = ctx.tmp('mountinfo');
      const b = ctx.makeBundle({
        extraMounts: [
          volMount(vol),
          { destination: '/vol/x/target', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=64k'] },
          { destination: '/vol/y/z', type: 'bind', source: vol.src, options: ['rbind', 'ro'] },
        ],
        edit: (c) => {
          c.hooks = { createContainer: [{ path: hook, args: ['mountinfo-dump', dump] }] };
        },
      });
      const inRoot = (rel) => path.join(b.rootfs, rel);
      const stats = await race(ctx, vol, b, (id, r) => {
        const o = { dir: 0, link: 0, escapes: [] };
        const text = lib.readText(dump);
        fs.rmSync(dump, { force: true });
        if (r.status === 0) assert.ok(text, 'create succeeded but the createContainer hook wrote no mountinfo');
        for (const mnt of m.parseMountinfo(text)) {
          const p = mnt.mountPoint;
          if (m.isUnder(p, b.rootfs)) {
            if (/\/vol\/(x|x\.swap)\/target$|\/vol\/(y|y\.swap)\/z$/.test(p) && m.isUnder(p, inRoot('/vol'))) o.dir++;
            if (m.isUnder(p, inRoot(vol.S))) o.link++;
          } else if (m.isUnder(p, ctx.base)) {
            o.escapes.push(`${mnt.fstype} mounted on ${p} (outside the rootfs ${b.rootfs}) in B's mount namespace`);
          }
        }
        return o;
      });
      assertNoEscape('mounts[] race', stats);
    } finally {
      vol.close();
    }
  });

  test('linux.devices under a shared volume are never made outside the rootfs while another container swaps the path for a symlink', async () => {
    const vol = sharedVolume(ctx);
    try {
      await startAttacker(ctx, vol);
      const b = ctx.makeBundle({
        extraMounts: [volMount(vol)],
        edit: (c) => {
          c.linux.devices = [{ path: '/vol/w/null0', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }];
        },
      });
      const stats = await race(ctx, vol, b, () => ({
        dir: fs.existsSync(vol.inDir('w', 'null0')) ? 1 : 0,
        link: fs.existsSync(path.join(b.rootfs, vol.S, 'null0')) ? 1 : 0,
      }));
      assertNoEscape('linux.devices race', stats);
    } finally {
      vol.close();
    }
  });

  test('readonlyPaths and maskedPaths under a shared volume stay read-only and land where they were resolved while another container swaps the path', async () => {
    const vol = sharedVolume(ctx);
    try {
      await startAttacker(ctx, vol);
      // B's /<S>/ro is a mount of its own: a read-only remount that follows
      // the symlink finds a mount there to make read-only instead
      const linkRo = path.join(vol.S, 'ro');
      const b = ctx.makeBundle({
        extraMounts: [volMount(vol), { destination: linkRo, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=64k'] }],
        edit: (c) => {
          c.linux.readonlyPaths.push('/vol/r/ro');
          c.linux.maskedPaths.push('/vol/m/mask');
        },
      });
      const stats = await race(ctx, vol, b, (id, r) => {
        const o = { dir: 0, link: 0, escapes: [] };
        if (r.status !== 0) return o;
        const s = ctx.state(id);
        const mounts = m.parseMountinfo(lib.readText(`/proc/${s.pid}/mountinfo`)); // paths as B sees them
        const at = (re) => mounts.filter((x) => re.test(x.mountPoint));
        const ro = (x) => x.options.includes('ro');
        const show = (x) => `${x.fstype} ${x.root} on ${x.mountPoint} (${x.options.join(',')})`;
        const vola = at(/^\/vol$/);
        // the read-only bind of the directory: over /vol, of the same directory, read-only
        const dirRo = at(/^\/vol\/r(\.swap)?\/ro$/);
        for (const x of dirRo) {
          if (!ro(x)) o.escapes.push(`readonlyPaths /vol/r/ro is writable: ${show(x)}`);
          if (!vola.length || x.fstype !== vola[0].fstype || !/\/r(\.swap)?\/ro$/.test(x.root)) o.escapes.push(`readonlyPaths /vol/r/ro is not a bind of itself: ${show(x)}`);
        }
        // through the symlink: B's own tmpfs at /<S>/ro, read-write as configured, and maybe a read-only bind of itself on top
        const [tmpfs, ...onTop] = stacked(mounts.filter((x) => x.mountPoint === linkRo));
        if (!tmpfs || tmpfs.fstype !== 'tmpfs' || ro(tmpfs)) o.escapes.push(`B's tmpfs at ${linkRo} was changed: ${tmpfs ? show(tmpfs) : 'gone'}`);
        for (const x of onTop) {
          if (!ro(x) || x.fstype !== 'tmpfs' || x.root !== '/') o.escapes.push(`readonlyPaths /vol/r/ro (through the symlink) is not a read-only bind of ${linkRo}: ${show(x)}`);
        }
        if (dirRo.length + onTop.length === 0) o.escapes.push('readonlyPaths /vol/r/ro: no read-only bind at either resolution');
        // masks: a read-only tmpfs, wherever the path resolved
        const masks = at(/^\/vol\/m(\.swap)?\/mask$/);
        for (const x of masks) if (!ro(x) || x.fstype !== 'tmpfs') o.escapes.push(`maskedPaths /vol/m/mask is not a read-only tmpfs: ${show(x)}`);
        o.dir = dirRo.length + masks.length ? 1 : 0;
        o.link = onTop.length ? 1 : 0;
        return o;
      });
      assertNoEscape('readonlyPaths/maskedPaths race', stats);
    } finally {
      vol.close();
    }
  });

  test('maskedPaths: a /dev/null planted as a symlink in a shared /dev is never bound over a masked path', () => {
    // B's /dev is a host directory another container could write to (a
    // shared volume): its "null" is a symlink to a file of the rootfs
    const dev = ctx.tmp('shareddev');
    fs.mkdirSync(dev);
    fs.symlinkSync('/planted', path.join(dev, 'null'));
    const b = ctx.makeBundle({
      edit: (c) => {
        const i = c.mounts.findIndex((x) => x.destination === '/dev');
        c.mounts[i] = { destination: '/dev', type: 'bind', source: dev, options: ['rbind', 'rw'] };
      },
    });
    fs.writeFileSync(path.join(b.rootfs, 'planted'), 'planted\n');
    const id = ctx.id('mnt');
    const r = ctx.rt(['create', '--bundle', b.dir, id]);
    if (r.status !== 0) {
      // refusing is fine, for the right reason
      assert.is(r.status, 1, r.stderr);
      assert.ok(h.errorMessage(r.stderr).includes('/dev/null'), `create failed, but not because of /dev/null: ${r.stderr}`);
      ctx.leftovers({ id, bundle: b });
      return;
    }
    const { pid } = ctx.state(id);
    const wrong = [];
    for (const p of b.config.linux.maskedPaths) {
      let st;
      try {
        st = fs.statSync(`/proc/${pid}/root${p}`); // stat only: never read a masked file
      } catch {
        continue; // absent in this kernel's /proc
      }
      if (st.isDirectory()) continue;
      if (!st.isCharacterDevice() || st.rdev !== 259 /* makedev(1, 3) */) wrong.push(`${p}: mode ${st.mode.toString(8)} rdev ${st.rdev}, size ${st.size}`);
    }
    assert.ok(wrong.length === 0, `masked files are not /dev/null (the planted /dev/null -> /planted was followed):\n  ${wrong.join('\n  ')}`);
  });
}, { knownRunc: KNOWN_RUNC });
