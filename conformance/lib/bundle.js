'use strict';
// Bundles for conformance cases: a busybox rootfs copy with the checker
// script in it, and a config.json. Also the harness's own baseline config.
const fs = require('fs');
const path = require('path');
const { copyRootfs } = require('../../test/lib/rootfs');

const CHECKER_SOURCE = path.join(__dirname, '..', 'checker.sh');
/** Where the checker lives inside every container. */
const CHECKER = '/conformance-checker';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/**
 * The harness's baseline: a typical unprivileged container with new pid,
 * network, ipc, uts and mount namespaces and the usual kernel filesystems.
 * Cases change what they test on a copy of it.
 */
function baseConfig({ cgroupsPath } = {}) {
  const config = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [CHECKER],
      env: [DEFAULT_PATH, 'TERM=dumb'],
      cwd: '/',
      capabilities: {
        bounding: DEFAULT_CAPS.slice(),
        effective: DEFAULT_CAPS.slice(),
        permitted: DEFAULT_CAPS.slice(),
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'conformance',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (cgroupsPath) config.linux.cgroupsPath = cgroupsPath;
  return config;
}

/**
 * Arguments for the checker derived from a config: every masked and
 * read-only path, every device, every sysctl and a write probe of every
 * read-only mount.
 */
function checkerArgsFor(config) {
  const args = [];
  const linux = config.linux || {};
  for (const p of linux.maskedPaths || []) args.push(`masked=${p}`);
  for (const p of linux.readonlyPaths || []) args.push(`readonly=${p}`);
  for (const d of linux.devices || []) args.push(`stat=${d.path}`);
  for (const k of Object.keys(linux.sysctl || {})) args.push(`sysctl=${k}`);
  for (const m of config.mounts || []) {
    const opts = m.options || [];
    if (opts.includes('ro') && m.type !== 'cgroup' && m.type !== 'sysfs' && m.type !== 'proc') {
      args.push(`write=${m.destination}`);
    }
  }
  return args;
}

/**
 * Makes a bundle in `dir` (created): rootfs copy + checker + config.json.
 * `prepare(rootfs, dir)` may add files before config.json is written.
 * Returns { dir, rootfs, configPath }.
 */
function makeBundle(dir, config, prepare) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  const rootfs = path.join(dir, 'rootfs');
  copyRootfs(rootfs);
  fs.copyFileSync(CHECKER_SOURCE, path.join(rootfs, CHECKER.slice(1)));
  fs.chmodSync(path.join(rootfs, CHECKER.slice(1)), 0o755);
  if (prepare) prepare(rootfs, dir);
  const configPath = path.join(dir, 'config.json');
  if (config) fs.writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  return { dir, rootfs, configPath };
}

module.exports = { CHECKER, DEFAULT_PATH, DEFAULT_CAPS, baseConfig, checkerArgsFor, makeBundle };
