#!/usr/bin/env node
'use strict';
// Times tsrunc against runc (and crun when it works on this host) side by side,
// on one busybox bundle, each runtime with a private --root:
//   run         `run` of /bin/true, wall time
//   create      `create` (container left in "created")
//   state       `state` of that created container
//   list        `list` with that one container present
//   start       `start`
//   delete      `delete` once the container has stopped
// and on a running container (`sleep`):
//   exec        `exec ID /bin/true`
//   ps          `ps ID`
//   events --stats
//   pause, resume, kill (SIGKILL)
// and memory, in a second pass of the same commands (so that time(1) adds
// nothing to the timings above):
//   peak <cmd>  peak RSS of the runtime process (and the children it waited
//               for) during run, create, state, list, start, delete, from
//               wait4(2) via /usr/bin/time -f %M (or python)
//   init private, init PSS
//               what the waiting process of a created container (tsrunc's
//               init, `runc init`) costs the host once create has returned:
//               Private_Dirty and Pss of /proc/PID/smaps_rollup
// Runtimes are interleaved within each iteration (the order rotates), so a
// slow phase of the machine hits all of them alike.
//
// With --systemd (where systemd is PID 1: the vm suite's systemd guest),
// tsrunc and runc also run with --systemd-cgroup, to compare what each
// driver costs over its cgroupfs one.
//
//   node bench/run.js [--runs N] [--warmup N] [--json FILE] [--no-crun] [--systemd]
//   npm run bench                     (builds first)
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync, execFileSync } = require('child_process');

const PROJECT = path.resolve(__dirname, '..');
const { makeBundle } = require('./bundle');

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const opts = { runs: 20, warmup: 2, json: undefined, crun: true, systemd: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runs' || a.startsWith('--runs=')) opts.runs = Number(value());
    else if (a === '--warmup' || a.startsWith('--warmup=')) opts.warmup = Number(value());
    else if (a === '--json' || a.startsWith('--json=')) opts.json = value();
    else if (a === '--no-crun') opts.crun = false;
    else if (a === '--systemd') opts.systemd = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/run.js [--runs N (20)] [--warmup N (2)] [--json FILE] [--no-crun] [--systemd]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(opts.warmup) || opts.warmup < 0) throw new Error('--warmup must be a non-negative integer');
  return opts;
}

// ---------------------------------------------------------------- helpers

function which(name) {
  for (const dir of (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}

// Output goes to files, not pipes: the init of a created container inherits
// the runtime's stdout/stderr (runc's pass-through stdio) and would hold a pipe
// open until `start`, so waiting for EOF would deadlock `create`.
let outDir = os.tmpdir();
let outSeq = 0;

/** Runs a command with stdin /dev/null; returns wall time (ms), status and output. */
function timed(cmd, args) {
  const outFile = path.join(outDir, `out.${outSeq}`);
  const errFile = path.join(outDir, `err.${outSeq++}`);
  const out = fs.openSync(outFile, 'w+');
  const err = fs.openSync(errFile, 'w+');
  let r;
  let ms;
  try {
    const t0 = process.hrtime.bigint();
    r = spawnSync(cmd, args, { stdio: ['ignore', out, err] });
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
  const stdout = fs.readFileSync(outFile, 'utf8');
  const stderr = fs.readFileSync(errFile, 'utf8') + (r.error ? String(r.error) : '');
  fs.rmSync(outFile, { force: true });
  fs.rmSync(errFile, { force: true });
  return { ms, status: r.status, signal: r.signal, stdout, stderr };
}

function firstLine(s) {
  return (s || '').trim().split('\n').filter(Boolean).slice(-1)[0] || '';
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function summarize(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, median, p90: percentile(s, 90), min: s[0], max: s[s.length - 1] };
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A process is gone (or a zombie: its container has stopped). */
function processGone(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** Private_Dirty, Pss, ... (KiB) of a process, from /proc/PID/smaps_rollup. */
function smapsRollup(pid) {
  try {
    const out = {};
    for (const m of fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[m[1]] = Number(m[2]);
    return out;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- peak RSS

const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const PY_WAIT4 = [
  'import os, sys',
  'pid = os.fork()',
  'if pid == 0:',
  '    fd = os.open(os.devnull, os.O_RDWR)',
  '    os.dup2(fd, 0); os.dup2(fd, 1)',
  '    os.execv(sys.argv[1], sys.argv[1:])',
  '_, status, ru = os.wait4(pid, 0)',
  'sys.stderr.write("%d %d\\n" % (os.waitstatus_to_exitcode(status), ru.ru_maxrss))',
].join('\n');

/** Peak RSS (KiB) of `cmd args` as wait4(2) reports it, and whether it succeeded. */
function peakRss(cmd, args, tmp) {
  if (TIME) {
    const out = path.join(tmp, 'time.out');
    const r = timed(TIME, ['-f', '%M', '-o', out, cmd, ...args]);
    const kb = Number(fs.readFileSync(out, 'utf8').trim().split('\n').pop());
    return { kb, ok: r.status === 0, stderr: r.stderr };
  }
  const r = timed('python3', ['-c', PY_WAIT4, cmd, ...args]);
  const [code, kb] = firstLine(r.stderr).split(' ').map(Number);
  return { kb, ok: r.status === 0 && code === 0, stderr: r.stderr };
}

// ---------------------------------------------------------------- setup

function version(bin) {
  try {
    return firstLine(execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]);
  } catch {
    return '?';
  }
}

// ---------------------------------------------------------------- main

const ON_RUNNING = ['exec', 'ps', 'events --stats', 'pause', 'resume', 'kill'];
const TIMED = ['run', 'create', 'state', 'list', 'start', 'delete', ...ON_RUNNING];
const PEAKS = TIMED.map((op) => `peak ${op}`);
const INIT = ['init private', 'init PSS'];
const OPS = [...TIMED, ...PEAKS, ...INIT];
const isMemory = (op) => PEAKS.includes(op) || INIT.includes(op);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(PROJECT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run "npm run build" (or "npm run bench")');
  if (process.getuid && process.getuid() !== 0) console.warn('warning: not root; the runtimes will probably fail');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-bench-'));
  outDir = tmp;
  const launcherLine = fs.readFileSync(path.join(PROJECT, 'bin/tsrunc'), 'utf8').split('\n')[1];
  const emptyScript = path.join(tmp, 'empty.js');
  fs.writeFileSync(emptyScript, '');
  const tag = `b${process.pid}`;
  const runtimes = [];
  const cleanupDone = { value: false };

  const cleanup = () => {
    if (cleanupDone.value) return;
    cleanupDone.value = true;
    for (const rt of runtimes) {
      // delete --force every container left under this runtime's private root
      const ids = new Set(rt.ids);
      try {
        const l = spawnSync(rt.bin, [...rt.global, 'list', '-q'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        for (const id of (l.stdout || '').split('\n').filter(Boolean)) ids.add(id);
      } catch { /* ignore */ }
      for (const id of ids) spawnSync(rt.bin, [...rt.global, 'delete', '--force', id], { stdio: 'ignore' });
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  // A signal stops the loop at the next command boundary (the commands run
  // synchronously); the finally below then cleans up. A second one exits at once.
  let interrupted;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (interrupted) {
        cleanup();
        process.exit(130);
      }
      interrupted = sig;
      console.error(`\n${sig}: stopping after the current command, then cleaning up`);
    });
  }
  const checkpoint = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    if (interrupted) throw Object.assign(new Error(`interrupted by ${interrupted}; containers deleted, temporary files removed`), { interrupted: true });
  };

  try {
    const tsrunc = path.join(PROJECT, 'bin/tsrunc');
    const runc = fs.existsSync('/usr/sbin/runc') ? '/usr/sbin/runc' : which('runc');
    const crun = opts.crun ? which('crun') : undefined;
    const { bundle, sleeper } = makeBundle(tmp, runc, tsrunc);

    const add = (name, bin, extraGlobal = []) => {
      const root = path.join(tmp, `root-${name}`);
      fs.mkdirSync(root);
      const rt = { name, bin, root, global: ['--root', root, ...extraGlobal], ids: new Set(), results: {}, failures: {}, version: version(bin) };
      for (const op of OPS) {
        rt.results[op] = [];
        rt.failures[op] = [];
      }
      runtimes.push(rt);
      return rt;
    };
    add('tsrunc', tsrunc);
    if (runc) add('runc', runc);
    else console.log('runc: not found, tsrunc is timed alone');
    if (opts.systemd) {
      if (!fs.existsSync('/run/systemd/system')) throw new Error('--systemd: systemd is not running on this host');
      add('tsrunc-sd', tsrunc, ['--systemd-cgroup']); // the name is in container ids: '+' is not valid in a unit name
      if (runc) add('runc-sd', runc, ['--systemd-cgroup']);
    }

    // crun: include it only if it can run the bundle here.
    let crunNote;
    if (!opts.crun) crunNote = 'crun: skipped (--no-crun)';
    else if (!crun) crunNote = 'crun: not installed';
    else {
      const probeRoot = path.join(tmp, 'root-crun-probe');
      const id = `${tag}-crun-probe`;
      const r = timed(crun, ['--root', probeRoot, 'run', '-b', bundle, id]);
      spawnSync(crun, ['--root', probeRoot, 'delete', '--force', id], { stdio: 'ignore' });
      if (r.status === 0) add('crun', crun);
      else crunNote = `crun: not benchmarked, it refuses to run containers on this host: "${firstLine(r.stderr)}" (exit ${r.status})`;
    }

    const exec = (rt, op, args) => {
      const r = timed(rt.bin, [...rt.global, ...args]);
      if (r.status !== 0) rt.failures[op].push(`${args.join(' ')}: exit ${r.status}${r.signal ? ' ' + r.signal : ''}: ${firstLine(r.stderr)}`);
      return r;
    };

    /** One iteration for one runtime; records into rt.results unless warm-up. */
    const iteration = (rt, i, record) => {
      const put = (op, v) => record && rt.results[op].push(v);
      const id = `${tag}-${rt.name}-${record ? '' : 'w'}${i}`;

      // run /bin/true (wall time)
      rt.ids.add(`${id}-run`);
      let r = exec(rt, 'run', ['run', '-b', bundle, `${id}-run`]);
      if (r.status === 0) put('run', r.ms);
      spawnSync(rt.bin, [...rt.global, 'delete', '--force', `${id}-run`], { stdio: 'ignore' });
      rt.ids.delete(`${id}-run`);

      // create, state, list, start, delete
      const cid = `${id}-csd`;
      rt.ids.add(cid);
      r = exec(rt, 'create', ['create', '-b', bundle, cid]);
      if (r.status === 0) {
        put('create', r.ms);
        const st = exec(rt, 'state', ['state', cid]);
        let pid = 0;
        if (st.status === 0) {
          put('state', st.ms);
          try {
            pid = JSON.parse(st.stdout).pid;
          } catch { /* ignore */ }
        }
        const ls = exec(rt, 'list', ['list']);
        if (ls.status === 0) put('list', ls.ms);
        const sr = exec(rt, 'start', ['start', cid]);
        if (sr.status === 0) put('start', sr.ms);
        // wait (untimed) until /bin/true has exited, so delete needs no --force
        for (let k = 0; pid > 0 && k < 500 && !processGone(pid); k++) sleepMs(2);
        const dr = exec(rt, 'delete', ['delete', cid]);
        if (dr.status === 0) put('delete', dr.ms);
      }
      spawnSync(rt.bin, [...rt.global, 'delete', '--force', cid], { stdio: 'ignore' });
      rt.ids.delete(cid);

      // a running container: exec, ps, events --stats, pause, resume, kill
      const onRunning = (eid, measure) => {
        rt.ids.add(eid);
        if (exec(rt, 'run', ['run', '-d', '-b', sleeper, eid]).status === 0) {
          const st = exec(rt, 'state', ['state', eid]);
          const pid = st.status === 0 ? JSON.parse(st.stdout).pid : 0;
          measure('exec', ['exec', eid, '/bin/true']);
          measure('ps', ['ps', eid]);
          measure('events --stats', ['events', '--stats', eid]);
          measure('pause', ['pause', eid]);
          measure('resume', ['resume', eid]);
          measure('kill', ['kill', eid, 'KILL']);
          for (let k = 0; pid > 0 && k < 500 && !processGone(pid); k++) sleepMs(2);
        }
        spawnSync(rt.bin, [...rt.global, 'delete', '--force', eid], { stdio: 'ignore' });
        rt.ids.delete(eid);
      };
      onRunning(`${id}-run2`, (op, args) => {
        const x = exec(rt, op, args);
        if (x.status === 0) put(op, x.ms);
      });

      // memory: the same commands again, under time(1)
      const peak = (op, args) => {
        const m = peakRss(rt.bin, [...rt.global, ...args], tmp);
        if (m.ok && m.kb > 0) put(`peak ${op}`, m.kb);
        else if (record) rt.failures[`peak ${op}`].push(`${args[0]} (under ${TIME || 'python wait4'}) failed: ${firstLine(m.stderr)}`);
        return m.ok;
      };
      const rid = `${id}-rss`;
      rt.ids.add(rid);
      peak('run', ['run', '-b', bundle, rid]);
      spawnSync(rt.bin, [...rt.global, 'delete', '--force', rid], { stdio: 'ignore' });
      if (peak('create', ['create', '-b', bundle, rid])) {
        const st = exec(rt, 'state', ['state', rid]);
        const pid = st.status === 0 ? JSON.parse(st.stdout).pid : 0;
        // the waiting process alone now: create has returned, so nothing of it is shared with create any more
        const mem = pid > 0 ? smapsRollup(pid) : undefined;
        if (mem) {
          put('init private', mem.Private_Dirty);
          put('init PSS', mem.Pss);
        }
        peak('state', ['state', rid]);
        peak('list', ['list']);
        peak('start', ['start', rid]);
        for (let k = 0; pid > 0 && k < 500 && !processGone(pid); k++) sleepMs(2);
        peak('delete', ['delete', rid]);
      }
      spawnSync(rt.bin, [...rt.global, 'delete', '--force', rid], { stdio: 'ignore' });
      rt.ids.delete(rid);
      onRunning(`${id}-rss2`, peak);
    };

    console.log(`tsrunc benchmark: ${opts.runs} runs (+${opts.warmup} warm-up) per runtime and operation, interleaved`);
    console.log(`host: ${os.type()} ${os.release()} ${os.arch()}, ${os.cpus().length} CPUs, node ${process.version}, ` +
      `cgroup ${fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1'}`);
    for (const rt of runtimes) console.log(`  ${rt.name.padEnd(10)} ${rt.bin}  (${rt.version})`);
    if (crunNote) console.log(`  ${crunNote}`);
    console.log(`bundle: busybox rootfs, \`${runc ? 'runc' : 'tsrunc'} spec\` config with terminal false, args ["/bin/true"]`);
    console.log(`peak RSS via ${TIME ? `${TIME} -f %M` : 'python3 os.wait4'} (max RSS of the runtime process and the children it waited for);`);
    console.log('init private/PSS: Private_Dirty/Pss of the waiting process of a created container (tsrunc\'s init, `runc init`), create returned\n');

    const nodeFloor = [];
    const nodeFloorPeak = [];
    for (let i = 0; i < opts.warmup; i++) {
      for (const rt of runtimes) {
        iteration(rt, i, false);
        await checkpoint();
      }
    }
    for (let i = 0; i < opts.runs; i++) {
      const order = runtimes.map((_, k) => runtimes[(i + k) % runtimes.length]);
      for (const rt of order) {
        iteration(rt, i, true);
        await checkpoint();
      }
      // the floor under every tsrunc command: starting node itself, as bin/tsrunc
      // starts it (its sh line, running an empty script)
      const floor = timed('/bin/sh', ['-c', launcherLine, emptyScript]);
      if (floor.status === 0) nodeFloor.push(floor.ms);
      const floorPeak = peakRss('/bin/sh', ['-c', launcherLine, emptyScript], tmp);
      if (floorPeak.ok) nodeFloorPeak.push(floorPeak.kb);
      if (process.stderr.isTTY) process.stderr.write(`\r  iteration ${i + 1}/${opts.runs}`);
    }
    if (process.stderr.isTTY) process.stderr.write('\n\n');

    report(runtimes, opts, nodeFloor, nodeFloorPeak);
  } finally {
    cleanup();
  }
}

function report(runtimes, opts, nodeFloor, nodeFloorPeak) {
  const base = runtimes.find((r) => r.name === 'runc');
  const ts = runtimes.find((r) => r.name === 'tsrunc');
  const fmt = (op, v) => (v === undefined || Number.isNaN(v) ? '-' : isMemory(op) ? `${(v / 1024).toFixed(1)} MiB` : `${v.toFixed(1)} ms`);
  const header = ['operation', 'runtime', 'median', 'p90', 'min', 'n', 'tsrunc/runc', 'tsrunc - node floor'];
  const rows = [];
  const json = { runs: opts.runs, runtimes: {}, ratio: {}, overFloor: {} };
  const floor = nodeFloor.length ? summarize(nodeFloor).median : undefined;
  for (const op of OPS) {
    runtimes.forEach((rt, k) => {
      const s = summarize(rt.results[op]);
      json.runtimes[rt.name] = json.runtimes[rt.name] || {};
      json.runtimes[rt.name][op] = { ...s, failures: rt.failures[op].length };
      let ratio = '';
      if (rt === ts && base) {
        const b = summarize(base.results[op]).median;
        if (s.n && b) {
          ratio = `${(s.median / b).toFixed(2)}x`;
          json.ratio[op] = s.median / b;
        }
      }
      // the issue's goal for the short commands: within node's own start-up + 5 ms
      let over = '';
      if (rt === ts && floor !== undefined && s.n && !isMemory(op)) {
        json.overFloor[op] = s.median - floor;
        over = `${s.median - floor >= 0 ? '+' : ''}${(s.median - floor).toFixed(1)} ms`;
      }
      const name = k === 0 ? (op === 'run' ? 'run /bin/true' : op) : '';
      rows.push([name, rt.name, fmt(op, s.median), fmt(op, s.p90), fmt(op, s.min), String(s.n), ratio, over]);
    });
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells) => cells.map((x, c) => (c < 2 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach((r) => console.log(line(r)));
  if (nodeFloor.length) {
    const f = summarize(nodeFloor);
    json.nodeStartup = f;
    const p = summarize(nodeFloorPeak);
    json.nodeStartupPeak = p;
    console.log(`\nfor reference, node on an empty script, started as bin/tsrunc starts node (its sh line: the floor under every tsrunc command): ` +
      `median ${f.median.toFixed(1)} ms, p90 ${f.p90.toFixed(1)} ms, min ${f.min.toFixed(1)} ms; peak RSS ${fmt('peak run', p.median)}`);
  }

  const fails = [];
  for (const rt of runtimes) for (const op of OPS) for (const f of rt.failures[op]) fails.push(`  ${rt.name} ${op}: ${f}`);
  if (fails.length) {
    console.log(`\nfailures (${fails.length}, not counted in the timings):`);
    const shown = [...new Set(fails)];
    shown.slice(0, 20).forEach((f) => console.log(f));
    if (shown.length > 20) console.log(`  ... ${shown.length - 20} more`);
  }
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(json, null, 2) + '\n');
  if (fails.length) process.exitCode = 1;
}

main().catch((e) => {
  console.error(`bench: ${e && e.interrupted ? e.message : e && e.stack ? e.stack : e}`);
  process.exitCode = e && e.interrupted ? 130 : 1;
});
