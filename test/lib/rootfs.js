'use strict';
// Builds a busybox root filesystem from Debian's busybox-static (/bin/busybox),
// once per test run, and copies it into bundles. Tests never share a rootfs
// copy, so a container writing into its rootfs cannot affect another test.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const PROJECT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(PROJECT, '.tmp', 'busybox-rootfs');
const BUSYBOX = '/bin/busybox';

function isStaticBusybox() {
  try {
    const out = execFileSync('dpkg', ['-S', BUSYBOX], { encoding: 'utf8' });
    return out.startsWith('busybox-static:');
  } catch {
    return false;
  }
}

/** Returns the path of a pristine busybox rootfs, building it if needed. */
function busyboxRootfs() {
  if (fs.existsSync(path.join(CACHE, '.complete'))) return CACHE;
  if (!isStaticBusybox()) {
    throw new Error(`${BUSYBOX} is not from Debian's busybox-static: run "apt-get install busybox-static"`);
  }
  fs.rmSync(CACHE, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run', 'var']) {
    fs.mkdirSync(path.join(CACHE, d), { recursive: true });
  }
  fs.chmodSync(path.join(CACHE, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(CACHE, 'bin/busybox'));
  fs.chmodSync(path.join(CACHE, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    const dest = path.join(CACHE, applet);
    if (applet === 'bin/busybox' || fs.existsSync(dest)) continue;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.symlinkSync('/bin/busybox', dest);
  }
  fs.writeFileSync(path.join(CACHE, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(CACHE, 'etc/group'),
    'root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n');
  fs.writeFileSync(path.join(CACHE, '.complete'), '');
  return CACHE;
}

/** Copies the busybox rootfs to `dest` (which must not exist). */
function copyRootfs(dest) {
  const src = busyboxRootfs();
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  // bounded: a copy stalled on its source (the vm guests read it over 9p) fails the test instead of hanging it
  execFileSync('cp', ['-a', src, dest], { timeout: 120000, killSignal: 'SIGKILL' });
  fs.rmSync(path.join(dest, '.complete'), { force: true });
  return dest;
}

module.exports = { busyboxRootfs, copyRootfs, PROJECT };
