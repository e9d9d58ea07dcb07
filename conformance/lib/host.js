'use strict';
// What the harness needs to know about (and do on) the host: its own
// namespaces, namespace-holder processes made with unshare(1), mounts and
// cgroups left behind under a directory.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { parseMountinfo } = require('./facts');
const { readlinkOrNull, readOrNull, runSync, poll, isAlive, sleep } = require('./util');

/** OCI namespace type -> name of the /proc/<pid>/ns entry. */
const NS_PROC_NAME = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

/** unshare(1) flag for each OCI namespace type. */
const NS_UNSHARE_FLAG = {
  pid: '--pid',
  network: '--net',
  mount: '--mount',
  ipc: '--ipc',
  uts: '--uts',
  user: '--user',
  cgroup: '--cgroup',
  time: '--time',
};

/** The harness's own namespace links ("uts:[4026531838]"), keyed by OCI type. */
function hostNamespaces() {
  const out = {};
  for (const [type, name] of Object.entries(NS_PROC_NAME)) {
    out[type] = readlinkOrNull(`/proc/self/ns/${name}`);
  }
  return out;
}

function hostInfo() {
  return {
    ns: hostNamespaces(),
    oomScoreAdj: Number((readOrNull('/proc/self/oom_score_adj') || '0').trim()),
    capBnd: (/CapBnd:\s*([0-9a-f]+)/.exec(readOrNull('/proc/self/status') || '') || [])[1] || null,
    isRoot: process.getuid() === 0,
    userNsMax: Number((readOrNull('/proc/sys/user/max_user_namespaces') || '0').trim()),
  };
}

function mountinfoSelf(pid = 'self') {
  return parseMountinfo(readOrNull(`/proc/${pid}/mountinfo`) || '');
}

/** Mount points at or below `dir` in the mount namespace of `pid`, deepest first. */
function mountsUnder(dir, pid = 'self') {
  const real = fs.realpathSync(dir);
  return mountinfoSelf(pid)
    .map((m) => m.mountPoint)
    .filter((mp) => mp === real || mp.startsWith(`${real}/`))
    .sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything at or below `dir` (repeats for stacked mounts). */
function unmountUnder(dir) {
  for (let round = 0; round < 20; round++) {
    let mps;
    try { mps = mountsUnder(dir); } catch { return; }
    if (mps.length === 0) return;
    for (const mp of mps) runSync('umount', ['-l', mp], { timeout: 10000 });
  }
}

/** Mount points of the host's cgroup hierarchies (v1 controllers and v2). */
function cgroupMounts() {
  return mountinfoSelf()
    .filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    .map((m) => m.mountPoint);
}

/** Existing directories for the absolute cgroupsPath `p` in every hierarchy. */
function cgroupDirs(p) {
  return cgroupMounts()
    .map((mp) => path.join(mp, p))
    .filter((d) => { try { return fs.statSync(d).isDirectory(); } catch { return false; } });
}

/** Removes the cgroup `p` everywhere (after killing what is left in it). */
async function removeCgroup(p) {
  for (const d of cgroupDirs(p)) {
    // children first
    let subs = [];
    try { subs = fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name); } catch { /* gone */ }
    for (const s of subs) await removeCgroup(path.join(p, s));
    for (let i = 0; i < 50; i++) {
      const procs = (readOrNull(path.join(d, 'cgroup.procs')) || '').split('\n').filter(Boolean).map(Number);
      for (const pid of procs) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      try { fs.rmdirSync(d); break; } catch (e) {
        if (e.code === 'ENOENT') break;
        await sleep(50);
      }
    }
  }
}

/**
 * A host process that holds a fresh namespace of `type`, made with
 * unshare(1), so a container can join it by path.
 * Returns { pid, path, link, kill() }.
 */
async function makeNamespaceHolder(type, opts = {}) {
  const flag = NS_UNSHARE_FLAG[type];
  const args = [flag];
  if (type === 'pid') args.push('--fork', '--kill-child');
  if (type === 'mount') args.push('--propagation', opts.propagation || 'private');
  args.push('sleep', '600');
  const child = spawn('unshare', args, { stdio: 'ignore', detached: false });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const hostLink = readlinkOrNull(`/proc/self/ns/${NS_PROC_NAME[type]}`);
  const holder = {
    type,
    child,
    pid: child.pid,
    nsPid: child.pid,
    path: null,
    link: null,
    async kill() {
      const pids = [holder.nsPid, holder.pid];
      for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      await poll(() => pids.every((pid) => !isAlive(pid)) || exited, 5000);
    },
  };
  const ok = await poll(() => {
    if (exited) return 'exited';
    if (type === 'pid') {
      // the namespace's init is unshare's child
      const kids = (readOrNull(`/proc/${child.pid}/task/${child.pid}/children`) || '').trim().split(/\s+/).filter(Boolean);
      if (kids.length === 0) return false;
      holder.nsPid = Number(kids[0]);
    }
    const p = `/proc/${holder.nsPid}/ns/${NS_PROC_NAME[type]}`;
    const link = readlinkOrNull(p);
    const comm = (readOrNull(`/proc/${holder.nsPid}/comm`) || '').trim();
    if (link && link !== hostLink && comm === 'sleep') {
      holder.path = p;
      holder.link = link;
      return 'ok';
    }
    return false;
  }, 10000);
  if (ok !== 'ok') {
    await holder.kill();
    throw new Error(`could not make a ${type} namespace holder with unshare ${args.join(' ')} (${ok || 'timeout'})`);
  }
  if (type === 'user') {
    // give the user namespace a mapping (written by us, root in the parent namespace)
    fs.writeFileSync(`/proc/${holder.nsPid}/uid_map`, '0 200000 65536\n');
    fs.writeFileSync(`/proc/${holder.nsPid}/gid_map`, '0 200000 65536\n');
    holder.mapping = [{ containerID: 0, hostID: 200000, size: 65536 }];
  }
  return holder;
}

module.exports = {
  NS_PROC_NAME,
  hostInfo,
  hostNamespaces,
  mountsUnder,
  unmountUnder,
  cgroupMounts,
  cgroupDirs,
  removeCgroup,
  makeNamespaceHolder,
};
