'use strict';
// What the reliability tests (test/reliability/*.test.js) share: the check
// that a container left nothing behind (the harness's leftovers plus fds
// pointing into its state dir or bundle, from any process), hook recorders,
// and small waits.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const assert = require('uvu/assert');
const h = require('../lib/harness');

const ok = (r, what) => assert.is(r.status, 0, `${what}: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

function readlinkSafe(p) {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** Open fds, of any process on the host, whose target lies under one of `dirs`: ["pid P fd N -> target"]. */
function fdsInto(dirs) {
  const found = [];
  if (!dirs.length) return found;
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let fds;
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or a kernel thread
    }
    for (const fd of fds) {
      const target = readlinkSafe(`/proc/${pid}/fd/${fd}`);
      if (target && dirs.some((d) => target === d || target.startsWith(d + '/'))) found.push(`pid ${pid} fd ${fd} -> ${target}`);
    }
  }
  return found;
}

/**
 * Everything `id` (made from `bundle`) left: the harness's leftovers (state
 * dir entry, mounts under the bundle, cgroup dirs named after the id or at the
 * cgroupsPath, processes tied to them) and fds into its state dir or bundle.
 */
function leftovers(ctx, id, bundle) {
  const problems = ctx.leftoversOf({ id, bundle });
  for (const f of fdsInto([path.join(ctx.root, id), bundle.dir])) problems.push(`fd ${f}`);
  return problems;
}

function assertClean(ctx, id, bundle, what) {
  const problems = leftovers(ctx, id, bundle);
  assert.equal(problems, [], `${what}: left behind by ${id}:\n  ${problems.join('\n  ')}`);
}

/** config edit: host-side hooks prestart, createRuntime and poststop, each appending its name to `file`. */
function recordingHooks(file) {
  const rec = (name) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${name} >> '${file}'`] });
  return (c) => {
    c.hooks = { prestart: [rec('prestart')], createRuntime: [rec('createRuntime')], poststop: [rec('poststop')] };
  };
}

/** How many times each hook ran, by the recorder's file. */
function hookRuns(file) {
  const lines = (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '').split('\n').filter(Boolean);
  const n = (k) => lines.filter((l) => l === k).length;
  return { prestart: n('prestart'), createRuntime: n('createRuntime'), poststop: n('poststop') };
}

/** Can this process make a user namespace (the kernel refuses it, for instance, under a stacked root)? */
function userNamespacesWork() {
  if (!fs.existsSync('/proc/self/ns/user')) return 'no /proc/self/ns/user';
  const max = Number((fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8') || '0').trim());
  if (!(max > 0)) return 'user.max_user_namespaces is 0';
  const r = spawnSync('unshare', ['-U', 'true'], { encoding: 'utf8' });
  if (r.status !== 0) return `unshare -U fails here: ${(r.stderr || '').trim()}`;
  return undefined;
}

const USERNS_MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

/** config edit: a user namespace, container root = host 100000. */
function inUserNamespace(c) {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = USERNS_MAP;
  c.linux.gidMappings = USERNS_MAP;
}

/** Polls `cond` (sync) until true or `ms` pass; returns its last value. */
async function waitUntil(cond, ms = 10000, step = 20) {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v || Date.now() > end) return v;
    await h.delay(step);
  }
}

/** /proc/PID/stat's start time (field 22): with the pid it names one process for good. */
function startTime(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

module.exports = { ok, fdsInto, leftovers, assertClean, recordingHooks, hookRuns, userNamespacesWork, inUserNamespace, waitUntil, startTime };
