'use strict';
// SIGKILL of the runtime at every fault point of create, start, exec and
// delete (src/faults.ts: TSRUNC_FAULT=<point> makes it kill itself there), as
// containerd, podman or kubelet may kill it at any moment. After each:
// `delete --force ID` exits 0 and nothing is left (no process, mount, cgroup
// dir, state dir, fd into the state dir or bundle), the poststop hooks ran
// once when create hooks had run, and `create ID` works again.
// Four configs: a cgroupsPath; hooks (prestart, createRuntime and poststop
// recorders); a user namespace; a terminal (--console-socket).
const fs = require('fs');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const { ok, leftovers, assertClean, recordingHooks, hookRuns, userNamespacesWork, inUserNamespace } = require('./lib');

const test = suite('kill-points');
const ctx = h.createContext('rel-kill-points');
h.install(test, ctx);
// a user namespace's root (host uid 100000) must reach the bundles
fs.chmodSync(ctx.base, 0o755);

const POINTS = {
  create: ['create:claimed', 'create:cgroup', 'create:forked', 'create:init-pid', 'create:in-cgroup', 'create:hooks', 'create:ready', 'create:saved'],
  start: ['start:opened', 'start:read', 'start:answered'],
  exec: ['exec:forked', 'exec:in-cgroup', 'exec:ready'],
  delete: ['delete:killed', 'delete:cgroup', 'delete:removed'],
};
const ALL_POINTS = Object.values(POINTS).flat();

const counts = { tries: 0, leftovers: 0 };
/** point -> kinds of what the kill left before delete --force (printed at the end) */
const leftBehind = {};

/**
 * A config to try the points with: its bundle (cgroupsPath always), the
 * recorder file when it has hooks, and how `create` gets its terminal.
 */
function config(kind) {
  const hooksFile = kind === 'hooks' ? ctx.tmp('hooks') : undefined;
  const bundle = ctx.makeBundle({
    cgroupsPath: `/rel-kp-${h.rand()}`,
    terminal: kind === 'terminal',
    edit: (c) => {
      if (hooksFile) recordingHooks(hooksFile)(c);
      if (kind === 'userns') inUserNamespace(c);
    },
  });
  return { kind, bundle, hooksFile };
}

/** `create` (with a fresh console receiver for a terminal config). */
async function create(cfg, id, env) {
  const args = ['create', '--bundle', cfg.bundle.dir];
  let receiver;
  if (cfg.kind === 'terminal') {
    receiver = ctx.consoleReceiver();
    await receiver.listening();
    args.push('--console-socket', receiver.socket);
  }
  const r = ctx.rt([...args, id], { env, timeout: 20000 });
  if (receiver && r.status === 0) await receiver.ready();
  return { r, receiver };
}

/**
 * Runs `point`'s command with the fault, then delete --force, and checks what
 * is left; then `create ID` again. `variant` for delete: "stopped" (delete of
 * a stopped container) or "running" (delete --force of a running one).
 */
async function tryPoint(cfg, point, variant = 'running') {
  const what = `${cfg.kind} ${point}${point.startsWith('delete:') ? ` (${variant})` : ''}`;
  const id = ctx.id('rel-kp');
  const env = { ...process.env, TSRUNC_FAULT: point };
  const receivers = [];
  if (cfg.hooksFile) fs.writeFileSync(cfg.hooksFile, '');
  try {
    const cmd = point.split(':')[0];
    let r;
    if (cmd === 'create') {
      const c = await create(cfg, id, env);
      receivers.push(c.receiver);
      r = c.r;
    } else {
      const c = await create(cfg, id);
      receivers.push(c.receiver);
      ok(c.r, `${what}: create`);
      if (cmd === 'start') {
        r = ctx.rt(['start', id], { env });
      } else {
        ok(ctx.rt(['start', id]), `${what}: start`);
        if (cmd === 'exec') {
          r = ctx.rt(['exec', id, 'sleep', '100'], { env, timeout: 20000 });
        } else if (variant === 'stopped') {
          ok(ctx.rt(['kill', id, 'KILL']), `${what}: kill`);
          await ctx.waitStatus(id, 'stopped');
          r = ctx.rt(['delete', id], { env });
        } else {
          r = ctx.rt(['delete', '--force', id], { env });
        }
      }
    }
    counts.tries++;
    assert.is(r.signal, 'SIGKILL', `${what}: the runtime should have died by SIGKILL at the fault point: exit ${r.status} signal ${r.signal}\n${r.stderr}`);
    const ranBefore = cfg.hooksFile && hookRuns(cfg.hooksFile);
    // what the kill left for delete --force: the check sees it (the state dir at least, unless delete had removed it)
    const left = leftovers(ctx, id, cfg.bundle);
    if (point !== 'delete:removed') assert.ok(left.some((l) => l.startsWith('state dir entry')), `${what}: the killed command left its state dir: ${left}`);
    const kinds = [...new Set(left.map((l) => l.split(' ')[0]))].sort().join('+') || 'nothing';
    (leftBehind[`${point}${variant && point.startsWith('delete:') ? ` (${variant})` : ''}`] ||= new Set()).add(kinds);

    const d = ctx.rt(['delete', '--force', id]);
    ok(d, `${what}: delete --force after the kill`);
    assert.is(d.stderr, '', `${what}: delete --force should be silent`);
    if (leftovers(ctx, id, cfg.bundle).length) counts.leftovers++;
    assertClean(ctx, id, cfg.bundle, `${what}: after delete --force`);
    if (cfg.hooksFile) {
      const runs = hookRuns(cfg.hooksFile);
      assert.ok(runs.poststop <= 1, `${what}: the poststop hooks ran ${runs.poststop} times`);
      const createHooksRan = ranBefore.prestart + ranBefore.createRuntime > 0;
      if (createHooksRan) {
        assert.is(runs.poststop, 1, `${what}: create hooks ran (${JSON.stringify(ranBefore)}), so the poststop hooks must run exactly once: ${JSON.stringify(runs)}`);
      }
      if (!createHooksRan && point !== 'create:hooks') assert.is(runs.poststop, 0, `${what}: no create hook ran, no poststop: ${JSON.stringify(runs)}`);
    }

    // the id is usable again
    const again = await create(cfg, id);
    receivers.push(again.receiver);
    ok(again.r, `${what}: create of the same id after delete --force`);
    assert.is(ctx.state(id).status, 'created', `${what}: the new container is created`);
    ok(ctx.rt(['delete', '--force', id]), `${what}: delete --force of the new container`);
    assertClean(ctx, id, cfg.bundle, `${what}: after the second delete --force`);
  } finally {
    for (const rc of receivers) if (rc) rc.child.kill('SIGKILL');
  }
}

function pointsOf(groups) {
  const out = [];
  for (const g of groups) {
    for (const p of POINTS[g]) {
      if (g === 'delete') out.push([p, 'stopped'], [p, 'running']);
      else out.push([p]);
    }
  }
  return out;
}

/** One test per config and command: every point of the command in turn. */
function pointTests(kind, groups, unavailable) {
  for (const g of groups) {
    test(`${kind}: SIGKILL at each ${g} fault point, then delete --force leaves nothing and the id works again`, async () => {
      if (!h.IS_TSRUNC) return skip(`fault points are tsrunc's (runtime: ${h.RUNTIME_NAME})`);
      const why = unavailable && unavailable();
      if (why) return skip(`${kind}: ${why}`);
      const cfg = config(kind);
      for (const [p, variant] of pointsOf([g])) {
        if (p === 'create:hooks' && !cfg.hooksFile) continue; // reached only with create hooks
        await tryPoint(cfg, p, variant);
      }
    });
  }
}

// points reached only with a config part these four configs lack, tried by the file that has it
const TRIED_ELSEWHERE = {
  'create:netdev-moved': 'test/e2e/netdevices.test.js',
  'create:netdevices': 'test/e2e/netdevices.test.js',
};

test('every fault point of src/faults.ts is tried here, or by the file named for it', () => {
  const src = fs.readFileSync(`${h.PROJECT}/src/faults.ts`, 'utf8');
  const declared = [...src.matchAll(/'((?:create|start|exec|delete):[a-z-]+)'/g)].map((m) => m[1]);
  assert.equal([...new Set(declared)].sort(), [...ALL_POINTS, ...Object.keys(TRIED_ELSEWHERE)].sort());
  for (const [point, file] of Object.entries(TRIED_ELSEWHERE)) {
    assert.ok(fs.readFileSync(`${h.PROJECT}/${file}`, 'utf8').includes(`'${point}'`), `${point} is not tried in ${file}`);
  }
});

pointTests('cgroupsPath', ['create', 'start', 'exec', 'delete']);
pointTests('hooks', ['create', 'start', 'exec', 'delete']);
pointTests('userns', ['create', 'start', 'exec', 'delete'], userNamespacesWork);
pointTests('terminal', ['create', 'start']);

test.after(() => {
  for (const [p, kinds] of Object.entries(leftBehind)) console.log(`[kill-points] ${p}: the kill left ${[...kinds].join(', ')}`);
  console.log(`\n[kill-points] faults tried: ${counts.tries}, containers with leftovers after delete --force: ${counts.leftovers}`);
});

test.run();
