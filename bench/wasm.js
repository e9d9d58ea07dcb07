#!/usr/bin/env node
'use strict';
// Start-up of a WebAssembly container against a native busybox one, both run
// by tsrunc with `run` on the same rootfs (docs/wasm.md quotes the figures):
//   native       /bin/true (busybox)
//   wasm         /true.wasm (returns at once, exit 0) in a container marked
//                module.wasm.image/variant=compat: the init runs it in place
//                of execve, forking once more as PID 1 (src/runtime/init/reaper.ts)
//   wasm, no pid ns  the same without a pid namespace: no extra fork
//   runc native, crun native  their `run` of /bin/true, where installed and
//                working here (references)
//   node runner  `node --single-threaded` running the same module with
//                node:wasi on the host, no container: the floor of the design
//                not taken, re-executing node as the container's process
// and the container's peak memory charge (cgroup memory.max_usage_in_bytes
// on v1, memory.peak on v2) of native and wasm.
// Modes are interleaved within each iteration (the order rotates).
//
//   node bench/wasm.js [--runs N (20)]      (after npm run build; root; wat2wasm)
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const PROJECT = path.resolve(__dirname, '..');
const { copyRootfs } = require(path.join(PROJECT, 'test/lib/rootfs.js'));
const wasm = require(path.join(PROJECT, 'test/lib/wasm.js'));
const TSRUNC = path.join(PROJECT, 'bin', 'tsrunc');

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;

function ms(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

let errFile;

/**
 * Runs a command, stderr to a file: a created container's init keeps the
 * runtime's stdio until `start`, so `create` would never see EOF on a pipe.
 */
function run(cmd, args) {
  const err = fs.openSync(errFile, 'w+');
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', err] });
    return { ms: ms(t0), status: r.status, stderr: fs.readFileSync(errFile, 'utf8') };
  } finally {
    fs.closeSync(err);
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function writeConfig(bundle, edit) {
  const r = spawnSync(TSRUNC, ['spec'], { cwd: bundle, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsrunc spec: ${r.stderr}`);
  const file = path.join(bundle, 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8'));
  c.process.terminal = false;
  c.ociVersion = '1.0.2-dev'; // crun 1.8 refuses newer versions than it knows
  edit(c);
  fs.writeFileSync(file, JSON.stringify(c, null, '\t'));
}

/** The container's peak memory charge in its cgroup (bytes), or undefined. */
function peakCharge(cgroupsPath) {
  for (const f of [`/sys/fs/cgroup/memory${cgroupsPath}/memory.max_usage_in_bytes`, `/sys/fs/cgroup${cgroupsPath}/memory.peak`]) {
    try {
      return Number(fs.readFileSync(f, 'utf8').trim());
    } catch {
      /* the other cgroup version */
    }
  }
  return undefined;
}

function main() {
  const missing = wasm.unavailable();
  if (missing) throw new Error(missing);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-bench-wasm-'));
  const root = path.join(tmp, 'state');
  errFile = path.join(tmp, 'stderr');
  const bundles = {};
  const make = (name, edit) => {
    const b = path.join(tmp, name);
    fs.mkdirSync(b);
    copyRootfs(path.join(b, 'rootfs'));
    wasm.installModules(path.join(b, 'rootfs'), ['true']);
    writeConfig(b, edit);
    bundles[name] = b;
  };
  const noPidNs = (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'pid');
  };
  const marked = (c) => {
    c.annotations = { 'module.wasm.image/variant': 'compat' };
    c.process.args = ['/true.wasm'];
  };
  make('native', (c) => {
    c.process.args = ['/bin/true'];
  });
  make('wasm', marked);
  make('wasm-nopid', (c) => {
    marked(c);
    noPidNs(c);
  });
  // the reference runtimes that run the native bundle on this host
  const refs = {};
  for (const name of ['runc', 'crun']) {
    const bin = [`/usr/sbin/${name}`, `/usr/bin/${name}`, `/usr/local/sbin/${name}`, `/usr/local/bin/${name}`].find((p) => fs.existsSync(p));
    if (!bin) continue;
    const r = run(bin, ['--root', path.join(tmp, name), 'run', '-b', bundles.native, `probe-${name}`]);
    if (r.status === 0) refs[`${name} native`] = bin;
    else console.log(`(${name} left out: ${r.stderr.trim().split('\n').pop()})`);
  }
  const runner = path.join(tmp, 'runner.js');
  fs.writeFileSync(runner, [
    "process.emitWarning = () => {};",
    "const { WASI } = require('wasi');",
    "const bytes = require('fs').readFileSync(process.argv[2]);",
    "const wasi = new WASI({ version: 'preview1', args: ['/true.wasm'], env: {}, preopens: { '/': '/' }, returnOnExit: true });",
    'process.exitCode = wasi.start(new WebAssembly.Instance(new WebAssembly.Module(bytes), wasi.getImportObject()));',
  ].join('\n'));

  let n = 0;
  const modes = {
    native: () => run(TSRUNC, ['--root', root, 'run', '-b', bundles.native, `bn${n++}`]),
    wasm: () => run(TSRUNC, ['--root', root, 'run', '-b', bundles.wasm, `bw${n++}`]),
    'wasm, no pid ns': () => run(TSRUNC, ['--root', root, 'run', '-b', bundles['wasm-nopid'], `bp${n++}`]),
    ...Object.fromEntries(Object.entries(refs).map(([m, bin]) => [m, () => run(bin, ['--root', path.join(tmp, path.basename(bin)), 'run', '-b', bundles.native, `br${n++}`])])),
    'node runner': () => run(process.execPath, ['--single-threaded', runner, path.join(bundles.wasm, 'rootfs', 'true.wasm')]),
  };
  const times = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
  const names = Object.keys(modes);
  try {
    for (let i = 0; i < RUNS + 2; i++) {
      for (let j = 0; j < names.length; j++) {
        const m = names[(i + j) % names.length];
        const r = modes[m]();
        if (r.status !== 0) throw new Error(`${m}: exit ${r.status}\n${r.stderr}`);
        if (i >= 2) times[m].push(r.ms); // two warm-up rounds
      }
    }
    // memory: the container's peak charge, create + start + wait + read + delete
    const charges = {};
    for (const m of ['native', 'wasm']) {
      const cg = `/tsrunc-bench-wasm-${process.pid}-${m}`;
      const b = bundles[m];
      const file = path.join(b, 'config.json');
      const c = JSON.parse(fs.readFileSync(file, 'utf8'));
      c.linux.cgroupsPath = cg;
      fs.writeFileSync(file, JSON.stringify(c));
      const peaks = [];
      for (let i = 0; i < 5; i++) {
        const id = `bm${n++}`;
        for (const args of [['create', '-b', b, id], ['start', id]]) {
          const r = run(TSRUNC, ['--root', root, ...args]);
          if (r.status !== 0) throw new Error(`${m} ${args[0]}: ${r.stderr}`);
        }
        for (let k = 0; k < 200; k++) {
          const s = spawnSync(TSRUNC, ['--root', root, 'state', id], { encoding: 'utf8' });
          if (JSON.parse(s.stdout).status === 'stopped') break;
        }
        peaks.push(peakCharge(cg));
        run(TSRUNC, ['--root', root, 'delete', id]);
      }
      charges[m] = median(peaks);
    }
    console.log(`tsrunc run, ${RUNS} runs each (median / min, ms), node ${process.version}, ${os.cpus().length} CPUs`);
    for (const m of names) console.log(`  ${m.padEnd(16)} ${median(times[m]).toFixed(1).padStart(7)} / ${Math.min(...times[m]).toFixed(1).padStart(7)}`);
    console.log('peak memory charge of the container (median of 5, MiB)');
    for (const [m, v] of Object.entries(charges)) console.log(`  ${m.padEnd(16)} ${v === undefined ? '?' : (v / 1048576).toFixed(1).padStart(7)}`);
  } finally {
    spawnSync('sh', ['-c', `for id in $(${TSRUNC} --root ${root} list -q); do ${TSRUNC} --root ${root} delete -f $id; done`]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
