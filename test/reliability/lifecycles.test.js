'use strict';
// Many whole lifecycles leave the host as they found it: 300 sequential
// create / start / wait / delete, then 50 in parallel (10 at a time). Before
// and after are compared: the host's mounts, this process's open fds, zombies,
// cgroup dirs of the containers, state dirs, processes tied to the bundles.
// The difference must be zero. Prints the timings.
const fs = require('fs');
const os = require('os');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { ok, fdsInto } = require('./lib');

const test = suite('lifecycles');
const ctx = h.createContext('rel-lifecycles');
h.install(test, ctx);

const SEQUENTIAL = 300;
const PARALLEL = 50;
const BATCH = 10;
const PREFIX = 'rel-lc';

/** The host's mounts, without those of other test runs (their own temp dirs): "mountpoint fstype source". */
function mounts() {
  const others = new RegExp(`^${os.tmpdir()}/tsrunc-(e2e|sec)-`);
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => {
    const f = line.split(' ');
    const tail = line.slice(line.indexOf(' - ') + 3).split(' ');
    return `${h.unescapeMountinfo(f[4])} ${tail[0]} ${tail[1]}`;
  }).filter((m) => !others.test(m) || m.startsWith(ctx.base)).sort();
}

/** Zombies on the host: pid -> "comm (ppid P)". */
function zombies() {
  const out = new Map();
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let st;
    try {
      st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') out.set(Number(pid), `${st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'))} (ppid ${rest[1]})`);
  }
  return out;
}

/** Cgroup dirs of our containers (named after their ids), in every hierarchy. */
function ourCgroupDirs() {
  return h.cgroupDirsWhere((n) => n.startsWith(`${PREFIX}-`), 4, { intoMatches: false }).sort();
}

function snapshot(bundles) {
  return {
    mounts: mounts(),
    fds: fs.readdirSync('/proc/self/fd').length,
    cgroups: ourCgroupDirs(),
    stateDirs: fs.readdirSync(ctx.root).sort(),
    processes: h.processesOf({ bundles: bundles.map((b) => b.dir) }).map((p) => `${p.pid} ${p.cmd}: ${p.why}`),
    fdsIntoOurs: fdsInto([ctx.root, ...bundles.map((b) => b.dir)]),
  };
}

/** What differs between two snapshots (zombies are compared separately: they need time to be reaped). */
function differences(before, after) {
  const out = [];
  const added = (a, b) => b.filter((x) => !a.includes(x));
  for (const k of ['mounts', 'cgroups', 'stateDirs', 'processes', 'fdsIntoOurs']) {
    const plus = added(before[k], after[k]);
    const minus = added(after[k], before[k]);
    if (plus.length) out.push(`${k} added: ${plus.join('; ')}`);
    if (minus.length) out.push(`${k} removed: ${minus.join('; ')}`);
  }
  if (before.fds !== after.fds) out.push(`this process's open fds: ${before.fds} before, ${after.fds} after: ${fs.readdirSync('/proc/self/fd').map((fd) => `${fd}->${fs.readlinkSync(`/proc/self/fd/${fd}`)}`).join(' ')}`);
  return out;
}

/** Zombies that appeared since `before` and stay: the ones still there after `ms` (pid 1 reaps orphans in its own time). */
async function newZombies(before, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const now = [...zombies()].filter(([pid]) => !before.has(pid));
    // orphans (reparented to pid 1) and children of this process could be ours; others' zombies are theirs
    const ours = now.filter(([, what]) => what.endsWith(' (ppid 1)') || what.endsWith(` (ppid ${process.pid})`));
    if (!ours.length || Date.now() > end) return ours.map(([pid, what]) => `${pid} ${what}`);
    await h.delay(100);
  }
}

const pidGone = (pid) => !h.pidAlive(pid);

/** One lifecycle: create (pid file), start, wait for the process to end, delete. */
async function lifecycle(bundle, id) {
  const pidFile = ctx.tmp('pid');
  const c = await ctx.rtAsync(['create', '--bundle', bundle.dir, '--pid-file', pidFile, id]).done;
  ok(c, `${id}: create`);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  fs.rmSync(pidFile);
  ok(await ctx.rtAsync(['start', id]).done, `${id}: start`);
  const end = Date.now() + 10000;
  while (!pidGone(pid)) {
    if (Date.now() > end) throw new Error(`${id}: the process (${pid}) did not end`);
    await h.delay(5);
  }
  ok(await ctx.rtAsync(['delete', id]).done, `${id}: delete`);
}

test(`${SEQUENTIAL} sequential and ${PARALLEL} parallel create/start/wait/delete lifecycles leave no difference`, async () => {
  const bundle = ctx.makeBundle({ args: ['true'] });
  const cgBundle = ctx.makeBundle({ args: ['true'], cgroupsPath: `/${PREFIX}-path-${h.rand()}` });
  const bundles = [bundle, cgBundle];
  // one lifecycle first: node opens some fds of its own on the first spawn
  await lifecycle(bundle, ctx.id(PREFIX));
  const zBefore = zombies();
  const before = snapshot(bundles);

  let t0 = Date.now();
  for (let i = 0; i < SEQUENTIAL; i++) {
    // every 10th with a cgroupsPath (the same one, made and removed each time), the others in a cgroup named after the id
    await lifecycle(i % 10 === 9 ? cgBundle : bundle, ctx.id(PREFIX));
  }
  const seqMs = Date.now() - t0;
  const afterSeq = snapshot(bundles);

  t0 = Date.now();
  for (let i = 0; i < PARALLEL; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, PARALLEL - i) }, () => lifecycle(bundle, ctx.id(PREFIX))));
  }
  const parMs = Date.now() - t0;
  const after = snapshot(bundles);
  const zLeft = await newZombies(zBefore);

  console.log(`\n[lifecycles] ${h.RUNTIME_NAME}: ${SEQUENTIAL} sequential in ${(seqMs / 1000).toFixed(1)} s (${Math.round(seqMs / SEQUENTIAL)} ms each), ` +
    `${PARALLEL} parallel (${BATCH} at a time) in ${(parMs / 1000).toFixed(1)} s; mounts ${before.mounts.length} -> ${after.mounts.length}, ` +
    `fds ${before.fds} -> ${after.fds}, our cgroup dirs ${before.cgroups.length} -> ${after.cgroups.length}, state dirs ${before.stateDirs.length} -> ${after.stateDirs.length}, ` +
    `zombies left ${zLeft.length}`);
  assert.equal(differences(before, afterSeq), [], `after ${SEQUENTIAL} sequential lifecycles`);
  assert.equal(differences(before, after), [], `after ${PARALLEL} parallel lifecycles`);
  assert.equal(zLeft, [], 'zombies that stay');
});

test.run();
