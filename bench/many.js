#!/usr/bin/env node
'use strict';
// Many created containers at once, tsrunc against runc (issue 15's "100
// containers" row): for each runtime in turn, on one busybox bundle with a
// private --root,
//   create N    N containers created one after another (left in "created"):
//               the total wall time, and what the host's memory lost
//               (MemAvailable before - after, /proc/meminfo; noisy: page
//               cache comes and goes), and the sum of the N waiting inits'
//               Pss (tsrunc's forked Node, `runc init`; /proc/PID/smaps_rollup)
//   list        `list` of those N, median of 5
//   delete N    `delete --force` of each, the total
// Cleans up whatever happens (delete --force of every id, the temp dir).
//
//   node bench/many.js [--count N (100)] [--json FILE]
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const PROJECT = path.resolve(__dirname, '..');
const { makeBundle } = require('./bundle');

function parseArgs(argv) {
  const opts = { count: 100, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], argv[i + 1]];
    const take = () => {
      if (!argv[i].includes('=')) i++;
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--count') opts.count = Number(take());
    else if (k === '--json') opts.json = take();
    else throw new Error(`unknown argument ${argv[i]} (usage: node bench/many.js [--count N] [--json FILE])`);
  }
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new Error('--count must be a positive integer');
  return opts;
}

const memAvailableKiB = () => Number(/^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))[1]);

let errFile;

/** Runs a command; its stderr goes to a file, not a pipe: a created container's init keeps the runtime's stdio until start. */
function timed(bin, args) {
  const err = fs.openSync(errFile, 'w');
  let r;
  let ms;
  try {
    const t0 = process.hrtime.bigint();
    r = spawnSync(bin, args, { stdio: ['ignore', 'ignore', err] });
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    fs.closeSync(err);
  }
  if (r.status !== 0) throw new Error(`${path.basename(bin)} ${args.join(' ')}: exit ${r.status}: ${fs.readFileSync(errFile, 'utf8').trim()}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function measure(name, bin, bundle, tmp, count) {
  const root = path.join(tmp, `root-${name}`);
  const g = ['--root', root];
  const ids = Array.from({ length: count }, (_, i) => `many-${name}-${i}`);
  const made = [];
  try {
    const before = memAvailableKiB();
    let createMs = 0;
    for (const id of ids) {
      createMs += timed(bin, [...g, 'create', '-b', bundle, id]);
      made.push(id);
    }
    const after = memAvailableKiB();
    let pssKiB = 0;
    for (const id of ids) {
      const st = spawnSync(bin, [...g, 'state', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const pid = JSON.parse(st.stdout).pid;
      pssKiB += Number(/^Pss:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]);
    }
    const list = median([1, 2, 3, 4, 5].map(() => timed(bin, [...g, 'list'])));
    let deleteMs = 0;
    for (const id of ids) {
      deleteMs += timed(bin, [...g, 'delete', '--force', id]);
      made.splice(made.indexOf(id), 1);
    }
    return { createMs, memoryMiB: (before - after) / 1024, initsPssMiB: pssKiB / 1024, listMs: list, deleteMs };
  } finally {
    for (const id of made) spawnSync(bin, [...g, 'delete', '--force', id], { stdio: 'ignore' });
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-many-'));
  errFile = path.join(tmp, 'stderr');
  try {
    const tsrunc = path.join(PROJECT, 'bin/tsrunc');
    const runc = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));
    const { bundle } = makeBundle(tmp, runc, tsrunc);
    const runtimes = [['tsrunc', tsrunc], ...(runc ? [['runc', runc]] : [])];
    const results = {};
    for (const [name, bin] of runtimes) {
      measure(`${name}w`, bin, bundle, tmp, 2); // warm-up (tsrunc's code caches)
      results[name] = measure(name, bin, bundle, tmp, opts.count);
    }
    console.log(`${opts.count} containers created one after another (busybox, /bin/true, left created), then listed and deleted`);
    console.log(`${'runtime'.padEnd(8)} ${'create all'.padStart(12)} ${'MemAvailable'.padStart(13)} ${'inits Pss'.padStart(10)} ${'list'.padStart(9)} ${'delete all'.padStart(12)}`);
    for (const [name, r] of Object.entries(results)) {
      console.log(`${name.padEnd(8)} ${`${(r.createMs / 1000).toFixed(2)} s`.padStart(12)} ${`-${r.memoryMiB.toFixed(0)} MiB`.padStart(13)} ${`${r.initsPssMiB.toFixed(0)} MiB`.padStart(10)} ${`${r.listMs.toFixed(1)} ms`.padStart(9)} ${`${(r.deleteMs / 1000).toFixed(2)} s`.padStart(12)}`);
    }
    if (results.runc) {
      const t = results.tsrunc;
      const b = results.runc;
      console.log(`tsrunc/runc: create ${(t.createMs / b.createMs).toFixed(2)}x, inits Pss ${(t.initsPssMiB / b.initsPssMiB).toFixed(2)}x, list ${(t.listMs / b.listMs).toFixed(2)}x, delete ${(t.deleteMs / b.deleteMs).toFixed(2)}x`);
    }
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ count: opts.count, results }, null, 2) + '\n');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  console.error(`bench/many: ${e.message}`);
  process.exitCode = 1;
}
