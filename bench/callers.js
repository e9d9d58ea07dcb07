#!/usr/bin/env node
'use strict';
// Times the real callers with tsrunc against runc: wall time of
//   ctr run --rm        (private containerd, containerd-shim-runc-v2, --runc-binary)
//   podman run --rm     (private podman, conmon, --runtime)
//   CRI (containerd's CRI plugin, a runtime handler per runtime): RunPodSandbox,
//                       CreateContainer, StartContainer, StopContainer (the
//                       process exits on SIGTERM), and the pod with its
//                       container from scratch (the sum of the first three)
// of busybox /bin/true from the e2e-callers test image, median (and min/max)
// of N runs each after a warm-up, the runtimes interleaved within each
// iteration so a slow phase of the machine hits both alike. The runtimes are
// called directly (no logging wrapper). Uses test/e2e-callers/lib.js for the
// private daemons and cleans up after itself.
//
//   node bench/callers.js [--runs N] [--warmup N] [--json FILE]
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const L = require('../test/e2e-callers/lib');

function parseArgs(argv) {
  const opts = { runs: 10, warmup: 2, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], argv[i + 1]];
    const take = () => {
      if (!argv[i].includes('=')) i++;
      return v;
    };
    if (k === '--runs') opts.runs = Number(take());
    else if (k === '--warmup') opts.warmup = Number(take());
    else if (k === '--json') opts.json = take();
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return opts;
}

function timeIt(fn) {
  const t0 = process.hrtime.bigint();
  const r = fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return ms;
}

function stats(xs) {
  return { median: L.median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** One pod with one container through CRI, per runtime and iteration, timed call by call. */
async function criCases(cd, opts, results) {
  const cri = cd.cri();
  const CALLS = ['RunPodSandbox', 'CreateContainer', 'StartContainer', 'StopContainer', 'pod + container from scratch'];
  const times = Object.fromEntries(CALLS.map((c) => [c, Object.fromEntries(L.RUNTIMES.map((rt) => [rt, []]))]));
  const timed = async (fn) => {
    const t0 = process.hrtime.bigint();
    const r = await fn();
    return [Number(process.hrtime.bigint() - t0) / 1e6, r];
  };
  try {
    for (let i = 0; i < opts.warmup + opts.runs; i++) {
      for (const rt of i % 2 ? [...L.RUNTIMES].reverse() : L.RUNTIMES) {
        const uid = L.rand(8);
        const nsOpts = { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' };
        const sandboxConfig = {
          metadata: { name: `bench-${rt}-${i}`, uid, namespace: 'default', attempt: 0 },
          linux: { cgroup_parent: `${cd.criCgroupParent}/pod${uid}`, security_context: { namespace_options: nsOpts } },
        };
        const [tPod, { pod_sandbox_id: podId }] = await timed(() => cri.rt('RunPodSandbox', { config: sandboxConfig, runtime_handler: rt }));
        try {
          const [tCreate, { container_id: cid }] = await timed(() => cri.rt('CreateContainer', {
            pod_sandbox_id: podId,
            sandbox_config: sandboxConfig,
            config: {
              metadata: { name: 'main', attempt: 0 },
              image: { image: L.IMAGES.busybox },
              // exits at once on SIGTERM (a trapped signal interrupts wait)
              command: ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"],
              linux: { security_context: { namespace_options: nsOpts } },
            },
          }));
          const [tStart] = await timed(() => cri.rt('StartContainer', { container_id: cid }));
          const [tStop] = await timed(() => cri.rt('StopContainer', { container_id: cid, timeout: 10 }));
          await cri.rt('RemoveContainer', { container_id: cid });
          if (i >= opts.warmup) {
            const put = (c, ms) => times[c][rt].push(ms);
            put('RunPodSandbox', tPod);
            put('CreateContainer', tCreate);
            put('StartContainer', tStart);
            put('StopContainer', tStop);
            put('pod + container from scratch', tPod + tCreate + tStart);
          }
        } finally {
          await cri.rt('StopPodSandbox', { pod_sandbox_id: podId });
          await cri.rt('RemovePodSandbox', { pod_sandbox_id: podId });
        }
      }
    }
  } finally {
    cri.close();
  }
  for (const c of CALLS) results[`CRI ${c}`] = Object.fromEntries(Object.entries(times[c]).map(([rt, xs]) => [rt, stats(xs)]));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const missing = L.missingTools(['containerd', 'ctr', 'podman', 'conmon']);
  if (missing.length) throw new Error(`not installed: ${missing.join(', ')}`);
  const env = new L.Env('bench', { wrap: false });
  const results = {};
  try {
    const cd = new L.Containerd(env);
    await cd.start();
    cd.importImages();
    const pm = new L.Podman(env);
    pm.setup();
    pm.loadImages();

    const cases = {
      'ctr run --rm': (rt, n) => () => cd.ctr(['run', '--rm', ...cd.runtimeArgs(rt), L.IMAGES.busybox, `bench-${rt}-${n}-${L.rand()}`, '/bin/true']),
      'podman run --rm': (rt) => () => pm.podman(['--runtime', rt, 'run', '--rm', '--cgroup-parent', pm.cgroupParent, L.IMAGES.busybox, '/bin/true']),
    };
    cd.importImages('k8s.io'); // CRI's namespace
    await criCases(cd, opts, results);
    for (const [name, mk] of Object.entries(cases)) {
      const times = Object.fromEntries(L.RUNTIMES.map((rt) => [rt, []]));
      for (let i = 0; i < opts.warmup + opts.runs; i++) {
        const order = i % 2 ? [...L.RUNTIMES].reverse() : L.RUNTIMES;
        for (const rt of order) {
          const ms = timeIt(mk(rt, i));
          if (i >= opts.warmup) times[rt].push(ms);
        }
      }
      results[name] = Object.fromEntries(Object.entries(times).map(([rt, xs]) => [rt, stats(xs)]));
    }
  } finally {
    const left = env.cleanup();
    if (left.length) console.error(`cleanup could not remove:\n  ${left.join('\n  ')}`);
  }

  const versions = {
    containerd: spawnSync('containerd', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[2],
    podman: spawnSync('podman', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ').pop(),
    runc: spawnSync(L.RUNTIME_BINS.runc, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].split(' ').pop(),
    node: process.version,
  };
  const fmt = (s) => `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}-${s.max.toFixed(0)})`;
  console.log(`busybox /bin/true, median (min-max) of ${opts.runs} runs after ${opts.warmup} warm-up; ${JSON.stringify(versions)}`);
  const w = 36;
  console.log(['caller'.padEnd(w), ...L.RUNTIMES.map((r) => r.padEnd(24)), 'difference'.padEnd(12), 'tsrunc/runc'].join(''));
  for (const [name, byRt] of Object.entries(results)) {
    const cells = L.RUNTIMES.map((rt) => fmt(byRt[rt]).padEnd(24));
    const diff = byRt.tsrunc && byRt.runc ? `${(byRt.tsrunc.median - byRt.runc.median).toFixed(0)} ms` : '';
    const ratio = byRt.tsrunc && byRt.runc ? `${(byRt.tsrunc.median / byRt.runc.median).toFixed(2)}x` : '';
    console.log([name.padEnd(w), ...cells, diff.padEnd(12), ratio].join(''));
  }
  if (opts.json) fs.writeFileSync(path.resolve(opts.json), JSON.stringify({ versions, runs: opts.runs, results }, null, 2));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exitCode = 1;
});
