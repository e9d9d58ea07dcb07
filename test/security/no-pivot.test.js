'use strict';
// --no-pivot: the rootfs is moved over "/" and chrooted into instead of
// pivot_root, so the host's mounts stay in the container's mount namespace,
// out of reach by path. The kernel still counts them: a process that makes a
// user namespace may mount a fresh proc (no masked paths, /proc/sysrq-trigger
// and /proc/sys writable) or a read-write sysfs wherever one full mount of it
// is in its mount namespace (mount_too_revealing). runc's msMoveRoot unmounts
// the host's full proc and sysfs mounts first (covers them with a tmpfs where
// a user namespace locked them); its tests/integration/no_pivot.bats makes the
// container run `unshare -mrpf` and `mount -t proc` and expects "mount:
// permission denied". The same here, for sysfs too, with and without a user
// namespace in the config, and pivot_root as the control; and the old root
// must not be reachable by the classic chroot escape (chroot into a
// subdirectory, climb "..", chroot(".")), whose payload looks for a marker
// file that exists only on the host.
//
// The probes need user namespaces inside the container. On a host whose "/"
// is stacked (the notes on the test machines) none can be made from the
// host's mount namespace; run this file as CI does (.ci/single-root.sh).
// Where the control (a tmpfs mounted from such a user namespace) fails, the
// test is skipped with the reason.
const fs = require('fs');
const path = require('path');
const assert = require('uvu/assert');
const lib = require('./lib');
const { skip } = require('../lib/skip');

const USERNS_MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

/** Adds capabilities to the process's bounding, effective and permitted sets. */
function addCaps(c, caps) {
  for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set] = [...new Set([...c.process.capabilities[set], ...caps])];
}

// Each probe runs in a new user, mount and pid namespace made inside the
// container (unshare -r maps the container's root to root: CAP_SETFCAP);
// sysfs needs a network namespace of that user namespace too.
const PROBES = [
  "unshare -mrpf sh -c 'mkdir -p /probe-tmp && mount -t tmpfs none /probe-tmp && echo control=mounted' 2>&1",
  "unshare -mrpf sh -c 'mount -t proc none /proc && echo proc=mounted' 2>&1",
  "unshare -mrpfn sh -c 'mount -t sysfs none /sys && echo sysfs=mounted' 2>&1",
  'echo probes=done',
].join('; ');

// Measured with runc 1.1.5+ds1-1+deb12u1: msMoveRoot makes each proc and
// sysfs mount a slave before unmounting it, but not its parent, which
// rootfsPropagation "rshared" left a peer of the host's.
const KNOWN_RUNC = {
  '--no-pivot under rootfsPropagation rshared: the host keeps its proc and sysfs':
    'unmounts the host\'s /proc (and any proc with no mounts below it): the unmount propagates through the shared parent',
};

lib.suites('no-pivot', (test, ctx, runtime) => {
  /**
   * The runtime run where "/" is stacked `binds + 1` times (mount --rbind / /
   * in a private mount namespace, as stacked-root.test.js builds it): the
   * copies over "/" hold a proc and a sysfs each, which no path reaches.
   */
  function stackedRuntime(binds) {
    const file = path.join(ctx.base, `stacked-${binds}`, path.basename(ctx.runtime));
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    const mounts = Array(binds).fill('mount --rbind / /').join(' && ');
    fs.writeFileSync(file, `#!/bin/sh\nexec unshare -m --propagation private -- sh -c '${mounts} && exec "$0" "$@"' '${ctx.runtime}' "$@"\n`, { mode: 0o755 });
    return file;
  }

  /** Runs the probes in a fresh container; returns its output, or undefined (skipped) where the control cannot run. */
  function probe({ noPivot, userns, runtimeFile }) {
    const b = ctx.shBundle(PROBES, (c) => {
      addCaps(c, ['CAP_SETFCAP']);
      if (userns) {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = USERNS_MAP;
        c.linux.gidMappings = USERNS_MAP;
      }
    });
    // the container's root (a mapped uid under userns) makes /probe-tmp
    if (userns) fs.chownSync(b.rootfs, USERNS_MAP[0].hostID, USERNS_MAP[0].hostID);
    const id = ctx.id('npv');
    const real = ctx.runtime;
    if (runtimeFile) ctx.runtime = runtimeFile;
    let r;
    try {
      r = ctx.rt(['run', ...(noPivot ? ['--no-pivot'] : []), '--bundle', b.dir, id]);
    } finally {
      ctx.runtime = real;
    }
    if (runtime === 'runc' && noPivot && r.status !== 0 && /error jailing process inside rootfs/.test(r.stderr)) {
      skip(`runc 1.1.5 --no-pivot cannot start a container where "/" is stacked: ${r.stderr.trim()}`);
      return undefined;
    }
    assert.is(r.status, 0, `run: exit ${r.status}\n${r.stdout}${r.stderr}`);
    ctx.leftovers({ id, bundle: b });
    if (!/^control=mounted$/m.test(r.stdout)) {
      skip(`a user namespace made in the container cannot mount a tmpfs here (is "/" stacked? run as .ci/single-root.sh does): ${r.stdout.trim()}`);
      return undefined;
    }
    return r.stdout;
  }

  for (const userns of [false, true]) {
    for (const noPivot of [true, false]) {
      const how = `${noPivot ? '--no-pivot' : 'pivot_root (control)'}${userns ? ', user namespace' : ''}`;
      test(`${how}: a user namespace made inside cannot mount a fresh proc or a read-write sysfs`, () => {
        const out = probe({ noPivot, userns });
        if (out === undefined) return;
        assert.not.match(out, /^proc=mounted$/m, `a fresh proc was mounted:\n${out}`);
        assert.not.match(out, /^sysfs=mounted$/m, `a read-write sysfs was mounted:\n${out}`);
        // busybox: "mount: permission denied (are you root?)", as runc's no_pivot.bats expects
        assert.is(out.match(/mount: permission denied/g)?.length, 2, out);
      });
    }
  }

  // the copies stacked over "/" go first: their proc and sysfs are counted too
  for (const binds of [1, 2]) {
    test(`--no-pivot where "/" is stacked ${binds + 1} times: a user namespace made inside cannot mount a fresh proc or a read-write sysfs`, () => {
      const out = probe({ noPivot: true, userns: false, runtimeFile: stackedRuntime(binds) });
      if (out === undefined) return;
      assert.not.match(out, /^(proc|sysfs)=mounted$/m, out);
      assert.is(out.match(/mount: permission denied/g)?.length, 2, out);
    });
  }

  // rootfsPropagation "rshared" leaves the host's mounts peers of the
  // container's copies: an unmount there would reach the host. The "host" is
  // a private mount namespace made shared, with a proc of its own that has no
  // mounts below it (the kind an unmount propagates to) and the bundle on a
  // mount of its own, so that "/" stays shared.
  test('--no-pivot under rootfsPropagation rshared: the host keeps its proc and sysfs', () => {
    const b = ctx.shBundle('echo ran', (c) => {
      c.linux.rootfsPropagation = 'rshared';
    });
    const hostProc = path.join(ctx.base, 'host-proc');
    fs.mkdirSync(hostProc);
    const file = path.join(ctx.base, 'shared-host', path.basename(ctx.runtime));
    fs.mkdirSync(path.dirname(file), { mode: 0o755 });
    const check = 'for m in "$P" /proc /sys; do mountpoint -q "$m" && echo "kept $m" >&2 || echo "lost $m" >&2; done';
    fs.writeFileSync(file, `#!/bin/sh
export P='${hostProc}' B='${b.dir}'
exec unshare -m --propagation private -- sh -c 'mount --make-rshared / && mount -t proc proc "$P" && mount --bind "$B" "$B" &&
  "$0" "$@"; rc=$?; ${check}; exit $rc' '${ctx.runtime}' "$@"
`, { mode: 0o755 });
    const id = ctx.id('npv');
    const real = ctx.runtime;
    ctx.runtime = file;
    let r;
    try {
      r = ctx.rt(['run', '--no-pivot', '--bundle', b.dir, id]);
    } finally {
      ctx.runtime = real;
    }
    assert.is(r.status, 0, `run: exit ${r.status}\n${r.stdout}${r.stderr}`);
    assert.is(r.stdout, 'ran\n');
    for (const m of [hostProc, '/proc', '/sys']) assert.ok(r.stderr.includes(`kept ${m}\n`), `the host lost ${m}:\n${r.stderr}`);
    ctx.leftovers({ id, bundle: b });
  });

  test('--no-pivot: the classic chroot escape ends in the rootfs, not in the old root', () => {
    const marker = path.join(ctx.base, `host-only-marker-${process.pid}`);
    fs.writeFileSync(marker, '');
    const b = ctx.shBundle(`/chroot-escape ${marker}; echo "ls=$(ls -a / | tr '\\n' ' ')"; echo "dotdot=$(ls -a /.. | tr '\\n' ' ')"`, (c) => {
      addCaps(c, ['CAP_SYS_CHROOT']);
    });
    lib.installPayload(b, lib.payload('chroot-escape'));
    const id = ctx.id('npv');
    const r = ctx.rt(['run', '--no-pivot', '--bundle', b.dir, id]);
    if (runtime === 'runc' && r.status !== 0 && /error jailing process inside rootfs/.test(r.stderr)) {
      skip(`runc 1.1.5 --no-pivot cannot start a container where "/" is stacked: ${r.stderr.trim()}`);
      return;
    }
    assert.is(r.status, 0, `run: exit ${r.status}\n${r.stdout}${r.stderr}`);
    const get = (k) => (new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout) || [])[1];
    assert.is(get('marker'), 'none', `the host's marker file is reachable after the escape:\n${r.stdout}`);
    const names = (s) => (s || '').trim().split(/\s+/).filter((n) => n !== '.' && n !== '..').sort();
    const inRootfs = names(get('ls'));
    assert.ok(inRootfs.includes('chroot-escape'), r.stdout);
    assert.equal(names(get('root')), inRootfs, `the escape ended outside the rootfs:\n${r.stdout}`);
    assert.equal(names(get('dotdot')), inRootfs, `"/.." is not "/":\n${r.stdout}`);
    ctx.leftovers({ id, bundle: b });
  });
}, { knownRunc: KNOWN_RUNC });
