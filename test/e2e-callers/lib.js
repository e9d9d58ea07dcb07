'use strict';
// Helpers for the end-to-end tests that drive tsrunc (and runc, the reference)
// through the real callers: a private containerd (ctr and the CRI gRPC API),
// podman (conmon) and dockerd. Everything lives under one temp dir per test
// file (/tmp/tsrunc-callers-<name>-XXXX): containerd's root/state/sockets,
// podman's root/runroot/tmpdir, dockerd's data-root/exec-root/socket, the image
// archive, the runtime wrappers and their call logs. cleanup() undoes all of
// it, also on failure and on process exit: dockerd, containerd and its shims
// are killed, the container processes too, mounts
// under the temp dir are unmounted, the cgroup dirs the callers made are
// removed, the temp dir is deleted.
//
// The runtimes are reached through logging wrappers (wrapperScript): a small
// sh script that records each call (argv, cwd, environment, exit code, stdout,
// stderr, stdin of `update --resources -`, the --log file) under
// <base>/calls/<runtime>/ and runs the real binary. create/run/exec keep their
// stdio untouched (it becomes the container's); every other command has its
// output captured and replayed, so what the caller sees is unchanged.
//
// Runtimes: E2E_CALLERS_RUNTIMES=tsrunc,runc (default both), each a name of
// RUNTIME_BINS.
const fs = require('fs');
const path = require('path');
const os = require('os');
const crypto = require('crypto');
const { spawn, spawnSync } = require('child_process');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { busyboxRootfs, PROJECT } = require('../lib/rootfs');
const { writeImageArchive, PATH_ENV } = require('../../scripts/busybox-image');

const RUNTIME_BINS = {
  tsrunc: path.join(PROJECT, 'bin', 'tsrunc'),
  runc: '/usr/sbin/runc',
};
const RUNTIMES = (process.env.E2E_CALLERS_RUNTIMES || 'tsrunc,runc').split(',').map((s) => s.trim()).filter(Boolean);
for (const r of RUNTIMES) if (!RUNTIME_BINS[r]) throw new Error(`E2E_CALLERS_RUNTIMES: unknown runtime ${r}`);

const IMAGES = {
  busybox: 'localhost/busybox:test', // Cmd ["sh"]
  pause: 'localhost/pause:test', // Entrypoint ["/bin/sleep", "2147483647"]: the CRI sandbox image
  broken: 'localhost/broken:test', // Entrypoint ["/no/such/binary"]: a start that fails
};

const rand = (n = 3) => crypto.randomBytes(n).toString('hex');
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Names of the programs in `cmds` that are not installed. */
function missingTools(cmds) {
  return cmds.filter((c) => !which(c));
}

function readSafe(p) {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

function killQuiet(pid, sig = 'SIGKILL') {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

function pidsAll() {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

function cmdline(pid) {
  return (readSafe(`/proc/${pid}/cmdline`) || '').split('\0').filter(Boolean);
}

/** Live processes whose cmdline contains `needle`. */
function processesWithArg(needle) {
  return pidsAll().filter((p) => p !== process.pid && h.pidAlive(p) && cmdline(p).some((a) => a.includes(needle)));
}

/** Live processes in a cgroup at or under one of `cgPaths` (paths relative to a hierarchy's root, e.g. /ns1). */
function processesInCgroups(cgPaths) {
  const out = [];
  for (const pid of pidsAll()) {
    if (pid === process.pid) continue;
    const cg = readSafe(`/proc/${pid}/cgroup`) || '';
    const hit = cg.split('\n').some((line) => {
      const p = line.split(':').slice(2).join(':');
      return p && cgPaths.some((c) => p === c || p.startsWith(c + '/'));
    });
    if (hit && h.pidAlive(pid)) out.push(pid);
  }
  return out;
}

/**
 * Directories of /sys/fs/cgroup (a tmpfs) where no hierarchy is mounted
 * (hugetlb, net_cls, net_prio and perf_event on this host): podman's cgroup v1
 * code makes conmon's "cgroup" there all the same, as a plain directory with a
 * plain `tasks` file, which rmdir cannot remove.
 */
function unmountedHierarchies() {
  const root = '/sys/fs/cgroup';
  if (h.cgroupHierarchies().includes(root)) return []; // cgroup v2 alone: every directory is a cgroup
  let dev;
  try {
    dev = fs.statSync(root).dev;
  } catch {
    return [];
  }
  return fs.readdirSync(root).map((n) => path.join(root, n)).filter((d) => {
    try {
      const st = fs.lstatSync(d);
      return st.isDirectory() && st.dev === dev;
    } catch {
      return false;
    }
  });
}

/**
 * A caller's CLI (ctr, podman, docker), run to its end: opts.timeout (60 s)
 * then SIGKILL, opts.input on stdin; { status, signal, stdout, stderr, error }.
 */
function runCli(bin, args, opts, { cwd, env }) {
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    timeout: opts.timeout || 60000,
    killSignal: 'SIGKILL',
    input: opts.input,
    env,
    cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout || '', stderr: r.stderr || '', error: r.error };
}

function rmCgroupTree(dir) {
  if (unmountedHierarchies().some((u) => dir.startsWith(`${u}/`))) {
    fs.rmSync(dir, { recursive: true, force: true }); // plain files and directories on the tmpfs
    return;
  }
  let ents = [];
  try {
    ents = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of ents) if (e.isDirectory()) rmCgroupTree(path.join(dir, e.name));
  for (let i = 0; i < 100; i++) {
    for (const p of (readSafe(path.join(dir, 'cgroup.procs')) || '').split('\n').filter(Boolean)) killQuiet(Number(p));
    // a frozen cgroup keeps its killed tasks: thaw it
    try {
      fs.writeFileSync(path.join(dir, 'freezer.state'), 'THAWED');
    } catch {
      /* not the freezer, or gone */
    }
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      if (e.code === 'ENOENT') return;
      sleepMs(20);
    }
  }
}

/** Existing cgroup dirs at `rel` (e.g. /tsrunc-e2e-ab12) in every hierarchy, and where one is not mounted. */
function cgroupDirs(rel) {
  return [...h.cgroupHierarchies(), ...unmountedHierarchies()].map((hier) => path.join(hier, rel)).filter((d) => fs.existsSync(d));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------------------
// Images: one busybox layer, three image configs, written as a docker-archive
// tar (scripts/busybox-image.js) that `ctr images import`, `podman load` and
// `docker load` read.

/** Writes the docker-archive with the IMAGES to `dir`/images.tar; returns its path. */
function buildImageArchive(dir) {
  const env = [PATH_ENV];
  const configs = {
    busybox: { Env: env, Cmd: ['sh'] },
    pause: { Env: env, Entrypoint: ['/bin/sleep', '2147483647'] },
    broken: { Env: env, Entrypoint: ['/no/such/binary'] },
  };
  const images = Object.entries(configs).map(([key, config]) => ({ name: IMAGES[key], config }));
  return writeImageArchive(path.join(dir, 'images.tar'), busyboxRootfs(), images);
}

// ---------------------------------------------------------------------------
// Runtime wrappers and their call logs

function shq(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/**
 * A logging wrapper around `real`: each call leaves <logDir>/<n>.{argv,cwd,env,rc,out,err,stdin,log}.
 * Written in sh so that it works with the empty environment podman's cleanup uses.
 * create, run, exec and restore keep the caller's stdio (the container's, or
 * for restore the pipes CRIU gives the restored process); the others' output
 * is kept too.
 */
function wrapperScript(real, logDir) {
  return `#!/bin/sh
# tsrunc e2e-callers: logging wrapper around ${real}
D=${shq(logDir)}
R=${shq(real)}
n=$(/bin/date +%s%N)-$$
printf '%s\\0' "$@" > "$D/$n.argv"
/bin/pwd > "$D/$n.cwd"
/usr/bin/env > "$D/$n.env"
sub=
log=
bundle=
prev=
for a in "$@"; do
  case "$prev" in --log) log=$a ;; --bundle|-b) bundle=$a ;; esac
  case "$a" in --log=*) log=\${a#--log=} ;; --bundle=*) bundle=\${a#--bundle=} ;; esac
  if [ -z "$sub" ]; then
    case "$a" in create|run|exec|start|state|kill|delete|list|ps|pause|resume|update|events|features|spec|checkpoint|restore) sub=$a ;; esac
  fi
  prev=$a
done
case "$sub" in
  create|run|exec|restore|"")
    if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then /bin/cp "$bundle/config.json" "$D/$n.config.json" 2>/dev/null; fi
    "$R" "$@"
    rc=$?
    ;;
  *)
    stdin=
    if [ "$sub" = update ]; then
      for a in "$@"; do case "$a" in -|--resources=-) stdin=1 ;; esac; done
    fi
    if [ -n "$stdin" ]; then
      /bin/cat > "$D/$n.stdin"
      "$R" "$@" < "$D/$n.stdin" > "$D/$n.out" 2> "$D/$n.err"
    else
      "$R" "$@" > "$D/$n.out" 2> "$D/$n.err"
    fi
    rc=$?
    /bin/cat "$D/$n.out"
    /bin/cat "$D/$n.err" >&2
    ;;
esac
if [ -n "$log" ] && [ -f "$log" ]; then /bin/cp "$log" "$D/$n.log" 2>/dev/null; fi
echo "$rc" > "$D/$n.rc"
/bin/date +%s%N > "$D/$n.end"
exit "$rc"
`;
}

/** The calls logged by a wrapper, oldest first: { n, ms, argv, sub, cwd, env, rc, stdout, stderr, stdin, log, config }. */
function readCalls(logDir) {
  let names = [];
  try {
    names = fs.readdirSync(logDir);
  } catch {
    return [];
  }
  const ids = [...new Set(names.filter((f) => f.endsWith('.argv')).map((f) => f.slice(0, -5)))];
  ids.sort((a, b) => {
    const [ta, pa] = a.split('-').map(BigInt);
    const [tb, pb] = b.split('-').map(BigInt);
    return ta < tb ? -1 : ta > tb ? 1 : pa < pb ? -1 : pa > pb ? 1 : 0;
  });
  const subs = new Set(['create', 'run', 'exec', 'start', 'state', 'kill', 'delete', 'list', 'ps', 'pause', 'resume', 'update', 'events', 'features', 'spec', 'checkpoint', 'restore']);
  return ids.map((n) => {
    const f = (ext) => readSafe(path.join(logDir, `${n}.${ext}`));
    const argv = (f('argv') || '').split('\0').slice(0, -1);
    const rc = f('rc');
    const end = f('end');
    return {
      n,
      ms: end ? Number((BigInt(end.trim()) - BigInt(n.split('-')[0])) / 1000000n) : null,
      argv,
      sub: argv.find((a) => subs.has(a)) || null,
      cwd: (f('cwd') || '').trim(),
      env: (f('env') || '').split('\n').filter(Boolean),
      rc: rc === undefined ? null : Number(rc),
      stdout: f('out'),
      stderr: f('err'),
      stdin: f('stdin'),
      log: f('log'),
      config: f('config.json'),
    };
  });
}

/** One line per call, for failure messages. */
function formatCalls(calls) {
  return calls.map((c) => {
    let s = `  [rc=${c.rc} ${c.ms}ms] ${c.argv.join(' ')}`;
    if (c.stdout) s += `\n      stdout: ${c.stdout.trim().slice(0, 500)}`;
    if (c.stderr) s += `\n      stderr: ${c.stderr.trim().slice(0, 500)}`;
    if (c.log && c.log.trim()) s += `\n      log: ${c.log.trim().split('\n').slice(-3).join('\n           ')}`;
    return s;
  }).join('\n');
}

/**
 * The calls that crashed: an exit status other than 0 or 1 (255 for exec, as
 * runc), or a stack trace in the output or the log.
 */
function crashedCalls(calls) {
  const ok = (c) => c.rc === 0 || c.rc === 1 || (c.sub === 'exec' && c.rc === 255);
  return calls.filter((c) => !ok(c) || /\n\s+at \S+ \(/.test(`${c.stderr || ''}${c.log || ''}`));
}

/** Where what two runtimes showed through a caller differs ({ key: value } each): one text per key. */
function observationDiffs(observed, a, b) {
  const keys = [...new Set([...Object.keys(observed[a] || {}), ...Object.keys(observed[b] || {})])];
  const diffs = keys.filter((k) => (observed[a] || {})[k] !== (observed[b] || {})[k]);
  return diffs.map((k) => `${k}:\n      ${a}: ${(observed[a] || {})[k]}\n      ${b}: ${(observed[b] || {})[k]}`);
}

/**
 * The tests each caller file ends with: no runtime call the caller (`made`:
 * "podman", "dockerd's shim") made crashed, and with both runtimes, what each
 * showed `through` the caller (observed[rt]) is the same.
 */
function closingTests(test, { made, through, setup, calls, explain, observed }) {
  for (const rt of RUNTIMES) {
    test(`${rt}: no runtime call ${made} made crashed (exit status 0 or 1, 255 for exec as runc; no stack trace)`, async () => {
      await setup();
      const bad = crashedCalls(calls(rt));
      assert.equal(bad.length, 0, explain(rt, `calls that crashed:\n${formatCalls(bad)}`));
    });
  }
  if (RUNTIMES.length > 1) {
    test(`what ${RUNTIMES.join(' and ')} showed through ${through} is the same`, () => {
      const [a, b] = RUNTIMES;
      assert.equal(observationDiffs(observed, a, b), []);
    });
  }
}

/** The last JSON/text log line's msg of a --log file. */
function lastLogMsg(text) {
  const lines = (text || '').split('\n').filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const o = JSON.parse(lines[i]);
      if (o && o.msg) return o.msg;
    } catch {
      const m = /msg="((?:[^"\\]|\\.)*)"/.exec(lines[i]);
      if (m) return JSON.parse(`"${m[1]}"`);
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// The environment of one test file

const envs = new Set();
const OUTSIDE_DIRS = ['/run/containerd/s', '/run/containerd', '/var/lib/containers/cache', '/var/lib/containers', '/run/docker/plugins', '/run/docker'];

class Env {
  /**
   * name: used in the temp dir's name. Makes the base dir, the image archive,
   * and one wrapper per runtime: this.wrappers[rt] (path), this.callsDir(rt).
   * wrap: false makes this.wrappers[rt] the real binaries (for timing).
   */
  constructor(name, { wrap = true } = {}) {
    this.name = name;
    this.tag = rand(3);
    sweepDeadRuns();
    // the pid in the name lets a later run clean up after one killed with SIGKILL (sweepDeadRuns)
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), `tsrunc-callers-${name}-${process.pid}-`));
    fs.chmodSync(this.base, 0o755);
    this.ctx = h.createContext(`callers-${name}`); // for tmux panes
    this.wrappers = {};
    this.plainWrappers = {}; // same, named <rt>-plain: a name podman does not know to support JSON logs
    for (const rt of RUNTIMES) {
      const dir = path.join(this.base, 'wrappers', rt);
      fs.mkdirSync(dir, { recursive: true });
      fs.mkdirSync(this.callsDir(rt), { recursive: true });
      const script = wrapperScript(RUNTIME_BINS[rt], this.callsDir(rt));
      this.wrappers[rt] = path.join(dir, rt);
      this.plainWrappers[rt] = path.join(dir, `${rt}-plain`);
      fs.writeFileSync(this.wrappers[rt], script, { mode: 0o755 });
      fs.writeFileSync(this.plainWrappers[rt], script, { mode: 0o755 });
      if (!wrap) this.wrappers[rt] = RUNTIME_BINS[rt]; // the real binary (benchmarks): no call log
    }
    this._images = null;
    this._cgroups = new Set(); // cgroup paths (relative to the hierarchies) to remove
    this._cgroupsIfEmpty = new Set(); // removed only when they did not exist before and are empty
    this._cleanups = [];
    this._finished = false;
    this._runDirBefore = new Set(this._listRunS());
    // made outside our temp dir by the callers themselves: removed if they did not exist before
    // (/run/containerd/s: the shims' sockets; /var/lib/containers/cache: podman's blob info cache;
    // /run/docker/plugins: dockerd makes it whatever its exec-root)
    this._outsideDirs = OUTSIDE_DIRS.filter((d) => !fs.existsSync(d));
    envs.add(this);
  }

  callsDir(rt) {
    return path.join(this.base, 'calls', rt);
  }

  calls(rt) {
    return readCalls(this.callsDir(rt));
  }

  /** The wrapper's calls for container id `id` (optionally of one subcommand). */
  callsFor(rt, id, sub) {
    return this.calls(rt).filter((c) => c.argv.includes(id) && (!sub || c.sub === sub));
  }

  /** Forgets the calls logged so far (so a test sees only its own). */
  clearCalls(rt) {
    for (const f of fs.readdirSync(this.callsDir(rt))) fs.rmSync(path.join(this.callsDir(rt), f), { force: true });
  }

  images() {
    if (!this._images) this._images = buildImageArchive(this.base);
    return this._images;
  }

  tmp(name = 'f') {
    return path.join(this.base, `${name}-${rand(3)}`);
  }

  /** Registers a cgroup path (relative to each hierarchy's root) that cleanup removes with everything in it. */
  ownCgroup(rel) {
    this._cgroups.add(rel);
    try {
      fs.appendFileSync(path.join(this.base, '.cgroups'), `${rel}\n`); // for sweepDeadRuns()
    } catch {
      /* best effort */
    }
  }

  /** Registers a cgroup path that cleanup removes only if it did not exist now and is empty then. */
  maybeOwnCgroup(rel) {
    if (!cgroupDirs(rel).length) this._cgroupsIfEmpty.add(rel);
  }

  onCleanup(fn) {
    this._cleanups.push(fn);
  }

  _listRunS() {
    try {
      return fs.readdirSync('/run/containerd/s');
    } catch {
      return [];
    }
  }

  /** Removes everything; returns what could not be removed. Never throws. */
  cleanup() {
    if (this._finished) return [];
    this._finished = true;
    const errors = [];
    const step = (what, fn) => {
      try {
        fn();
      } catch (e) {
        errors.push(`${what}: ${e && e.message}`);
      }
    };
    for (const fn of [...this._cleanups].reverse()) step('cleanup', fn);
    step('tmux', () => this.ctx.finish());
    // processes still tied to our temp dir (containers whose rootfs or cwd is there, conmon, shims)
    step('processes', () => {
      for (let i = 0; i < 3; i++) {
        const procs = [
          ...h.processesOf({ bundles: [this.base] }).map((p) => p.pid),
          ...processesWithArg(this.base),
          ...processesInCgroups([...this._cgroups]),
        ];
        if (!procs.length) break;
        for (const p of procs) killQuiet(p);
        const end = Date.now() + 3000;
        while (Date.now() < end && procs.some((p) => h.pidAlive(p))) sleepMs(20);
      }
    });
    step('mounts', () => {
      for (let i = 0; i < 3; i++) {
        const ms = h.mountsUnder(this.base);
        if (!ms.length) break;
        for (const m of ms) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
      }
    });
    for (const rel of this._cgroups) step(`cgroup ${rel}`, () => cgroupDirs(rel).forEach(rmCgroupTree));
    for (const rel of [...this._cgroupsIfEmpty].sort((a, b) => b.length - a.length)) {
      step(`cgroup ${rel}`, () => cgroupDirs(rel).forEach((d) => {
        try {
          fs.rmdirSync(d);
        } catch {
          /* in use by someone else */
        }
      }));
    }
    // shim sockets under /run/containerd/s made during our run whose shim is gone
    step('shim sockets', () => {
      for (const f of this._listRunS()) {
        if (this._runDirBefore.has(f)) continue;
        const p = path.join('/run/containerd/s', f);
        if (!processesWithArg(f).length) fs.rmSync(p, { force: true });
      }
    });
    step('dirs outside', () => {
      for (const d of this._outsideDirs) {
        if (d === '/var/lib/containers/cache') fs.rmSync(path.join(d, 'blob-info-cache-v1.boltdb'), { force: true });
        try {
          fs.rmdirSync(d);
        } catch {
          /* not empty (someone else's) or gone */
        }
      }
    });
    step('temp dir', () => {
      if (!h.mountsUnder(this.base).length) fs.rmSync(this.base, { recursive: true, force: true });
      else errors.push(`mounts remain under ${this.base}: ${h.mountsUnder(this.base).join(', ')}`);
    });
    const left = [];
    left.push(...processesWithArg(this.base).map((p) => `process ${p}: ${cmdline(p).join(' ')}`));
    for (const rel of this._cgroups) left.push(...cgroupDirs(rel).map((d) => `cgroup ${d}`));
    envs.delete(this);
    return [...errors, ...left];
  }
}

let swept = false;
/**
 * Once per process: removes what earlier runs that died without cleaning up
 * (SIGKILL, a CI timeout) left: /tmp/tsrunc-callers-<name>-<pid>-* whose pid is
 * gone, with their daemons (containerd, shims, conmon: processes whose
 * arguments name the dir), the processes in the cgroups they recorded, their
 * mounts and cgroup dirs.
 */
function sweepDeadRuns() {
  if (swept) return;
  swept = true;
  for (const base of h.deadRunDirs('tsrunc-callers')) {
    try {
      const cgs = (readSafe(path.join(base, '.cgroups')) || '').split('\n').filter(Boolean);
      for (let i = 0; i < 3; i++) {
        const procs = [...processesWithArg(base), ...processesInCgroups(cgs)];
        if (!procs.length) break;
        for (const p of procs) killQuiet(p);
        // until they are gone (then the next round finds what they left: a shim's children, a new conmon)
        const end = Date.now() + 3000;
        while (Date.now() < end && procs.some((p) => h.pidAlive(p))) sleepMs(20);
      }
      for (const mp of h.mountsUnder(base)) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
      for (const rel of cgs) cgroupDirs(rel).forEach(rmCgroupTree);
      if (!h.mountsUnder(base).length) fs.rmSync(base, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
    for (const d of ['/run/containerd/s', '/run/containerd', '/run/docker/plugins', '/run/docker']) {
      try {
        fs.rmdirSync(d); // only when empty: the shims' socket dir, dockerd's plugin dir
      } catch {
        /* in use or gone */
      }
    }
  }
}

function cleanupAll() {
  for (const e of [...envs]) {
    try {
      e.cleanup();
    } catch {
      /* best effort */
    }
  }
}
process.on('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.prependListener(sig, () => {
    cleanupAll();
  });
}

// ---------------------------------------------------------------------------
// containerd

class Containerd {
  /**
   * A private containerd under env.base/containerd: config.toml with private
   * root, state, grpc/ttrpc sockets, the CRI plugin with runtime handlers named
   * after RUNTIMES (BinaryName = the wrapper, Root = a private runc root), the
   * overlayfs snapshotter, sandbox image localhost/pause:test.
   * `systemdCgroup`: the runtimes' SystemdCgroup option (kubeadm's default).
   */
  constructor(env, { systemdCgroup = false } = {}) {
    this.env = env;
    this.systemdCgroup = systemdCgroup;
    this.dir = path.join(env.base, 'containerd');
    this.root = path.join(this.dir, 'root');
    this.state = path.join(this.dir, 'state');
    this.address = path.join(this.dir, 'containerd.sock');
    this.configPath = path.join(this.dir, 'config.toml');
    this.logPath = path.join(this.dir, 'containerd.log');
    this.fifoDir = path.join(this.dir, 'fifo');
    this.namespace = `tsrunc-e2e-${env.tag}`; // for ctr: cgroups at /<namespace>/<id>
    this.criCgroupParent = `/tsrunc-e2e-cri-${env.tag}`;
    this.runcRoots = {};
    for (const rt of RUNTIMES) this.runcRoots[rt] = path.join(this.dir, `runc-root-${rt}`);
    this.proc = null;
    env.ownCgroup(`/${this.namespace}`);
    env.ownCgroup(this.criCgroupParent);
    env.onCleanup(() => this.stop());
  }

  config() {
    const q = JSON.stringify;
    const cri = 'plugins."io.containerd.grpc.v1.cri"';
    const lines = [
      'version = 2',
      `root = ${q(this.root)}`,
      `state = ${q(this.state)}`,
      'oom_score = 0',
      'disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
      '',
      '[grpc]',
      `  address = ${q(this.address)}`,
      '[ttrpc]',
      `  address = ${q(this.address + '.ttrpc')}`,
      '[debug]',
      `  address = ${q(path.join(this.dir, 'debug.sock'))}`,
      '  level = "debug"',
      '[metrics]',
      '  address = ""',
      '',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${q(path.join(this.dir, 'opt'))}`,
      '[plugins."io.containerd.runtime.v1.linux"]',
      '  shim_debug = false',
      `[${cri}]`,
      `  sandbox_image = ${q(IMAGES.pause)}`,
      '  restrict_oom_score_adj = true',
      '  disable_apparmor = true',
      '  enable_selinux = false',
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      '  max_concurrent_downloads = 1',
      `  [${cri}.containerd]`,
      '    snapshotter = "overlayfs"',
      `    default_runtime_name = ${q(RUNTIMES[0])}`,
    ];
    for (const rt of RUNTIMES) {
      lines.push(
        `    [${cri}.containerd.runtimes.${rt}]`,
        '      runtime_type = "io.containerd.runc.v2"',
        `      [${cri}.containerd.runtimes.${rt}.options]`,
        `        BinaryName = ${q(this.env.wrappers[rt])}`,
        `        Root = ${q(this.runcRoots[rt])}`,
        `        SystemdCgroup = ${this.systemdCgroup}`,
      );
    }
    lines.push(
      `  [${cri}.cni]`,
      `    bin_dir = ${q(path.join(this.dir, 'cni', 'bin'))}`,
      `    conf_dir = ${q(path.join(this.dir, 'cni', 'net.d'))}`,
      '',
    );
    return lines.join('\n');
  }

  async start() {
    fs.mkdirSync(this.dir, { recursive: true });
    for (const d of ['cni/bin', 'cni/net.d', 'opt', 'fifo']) fs.mkdirSync(path.join(this.dir, d), { recursive: true });
    fs.writeFileSync(this.configPath, this.config());
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn('containerd', ['--config', this.configPath], { stdio: ['ignore', log, log], detached: false });
    fs.closeSync(log);
    this.exited = null;
    this.proc.on('exit', (code, sig) => {
      this.exited = { code, sig };
    });
    const end = Date.now() + 30000;
    for (;;) {
      if (this.exited) throw new Error(`containerd exited (${JSON.stringify(this.exited)}):\n${this.logTail()}`);
      if (fs.existsSync(this.address)) {
        const r = this.ctr(['version'], { timeout: 5000 });
        if (r.status === 0) break;
      }
      if (Date.now() > end) throw new Error(`containerd did not come up:\n${this.logTail()}`);
      await delay(100);
    }
  }

  logTail(n = 40) {
    return (readSafe(this.logPath) || '').split('\n').slice(-n).join('\n');
  }

  /** ctr with our address (and namespace unless opts.ns). Returns { status, signal, stdout, stderr }. */
  ctr(args, opts = {}) {
    return runCli('ctr', ['--address', this.address, '--namespace', opts.ns || this.namespace, ...args], opts, { cwd: this.dir });
  }

  /** ctr in the background: { child, done } (done resolves to ctr()'s result). */
  ctrAsync(args, opts = {}) {
    const child = spawn('ctr', ['--address', this.address, '--namespace', opts.ns || this.namespace, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: this.dir,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const done = new Promise((resolve) => {
      const timer = setTimeout(() => killQuiet(child.pid), opts.timeout || 60000);
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal, stdout, stderr });
      });
    });
    return { child, done };
  }

  /** The ctr command line (for a tmux pane). */
  ctrCommand(args, ns) {
    return ['ctr', '--address', this.address, '--namespace', ns || this.namespace, ...args].map(shq).join(' ');
  }

  /** Imports the test images (or the docker-archive `archive`) into namespace `ns` (default ours). */
  importImages(ns, archive = this.env.images()) {
    const r = this.ctr(['images', 'import', '--no-unpack=false', archive], { ns, timeout: 120000 });
    if (r.status !== 0) throw new Error(`ctr images import: ${r.stderr}${r.stdout}`);
    return r;
  }

  /** `ctr run` arguments selecting runtime `rt` through its wrapper, with a private runc root and fifo dir. */
  runtimeArgs(rt) {
    return ['--runc-binary', this.env.wrappers[rt], '--runc-root', this.runcRoots[rt], '--fifo-dir', this.fifoDir];
  }

  stop() {
    if (this.proc && !this.exited) {
      // tasks first: kill every container process in our cgroups, then the shims
      for (const pid of processesInCgroups([`/${this.namespace}`, this.criCgroupParent])) killQuiet(pid);
    }
    for (const pid of processesWithArg(this.address)) killQuiet(pid); // shims (-address <ours>)
    if (this.proc && !this.exited) {
      killQuiet(this.proc.pid, 'SIGTERM');
      const end = Date.now() + 5000;
      while (Date.now() < end && h.pidAlive(this.proc.pid)) sleepMs(20);
      killQuiet(this.proc.pid, 'SIGKILL');
    }
    this.proc = null;
  }

  /** A CRI client on our socket (see cri.js-like helpers below). */
  cri() {
    return new CriClient(this.address);
  }
}

// ---------------------------------------------------------------------------
// A minimal CRI v1 client (RuntimeService, ImageService) over grpc-js, from
// our own subset of the API (cri.proto).

class CriClient {
  constructor(address) {
    const grpc = require('@grpc/grpc-js');
    const loader = require('@grpc/proto-loader');
    const def = loader.loadSync(path.join(__dirname, 'cri.proto'), {
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def).runtime.v1;
    const creds = grpc.credentials.createInsecure();
    const target = `unix://${address}`;
    this.runtime = new pkg.RuntimeService(target, creds);
    this.image = new pkg.ImageService(target, creds);
  }

  _call(svc, method, req, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      svc[method](req, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) {
          err.message = `CRI ${method}: ${err.message}`;
          reject(err);
        } else resolve(res);
      });
    });
  }

  rt(method, req, timeoutMs) {
    return this._call(this.runtime, method, req, timeoutMs);
  }

  img(method, req, timeoutMs) {
    return this._call(this.image, method, req, timeoutMs);
  }

  close() {
    this.runtime.close();
    this.image.close();
  }
}

// ---------------------------------------------------------------------------
// podman

class Podman {
  /**
   * A private podman under env.base/podman: --root/--runroot/--tmpdir, a
   * storage.conf (overlay driver), a containers.conf with conmon, the cgroupfs
   * manager, the file events backend, and [engine.runtimes] entries named
   * after RUNTIMES pointing at the wrappers, all listed in
   * runtime_supports_json (so podman passes --log-format=json --log ...).
   * `cgroupManager`: "systemd" is podman's default on a systemd host.
   */
  constructor(env, { cgroupManager = 'cgroupfs' } = {}) {
    this.env = env;
    this.cgroupManager = cgroupManager;
    this.dir = path.join(env.base, 'podman');
    this.root = path.join(this.dir, 'root');
    this.runroot = path.join(env.base, 'prr'); // podman refuses a runroot longer than 50 characters
    this.tmpdir = path.join(this.dir, 'tmp');
    this.storageConf = path.join(this.dir, 'storage.conf');
    this.containersConf = path.join(this.dir, 'containers.conf');
    this.cgroupParent = `/tsrunc-e2e-podman-${env.tag}`;
    env.ownCgroup(this.cgroupParent);
    env.onCleanup(() => this.stop());
  }

  setup() {
    for (const d of [this.root, this.runroot, this.tmpdir]) fs.mkdirSync(d, { recursive: true });
    const q = JSON.stringify;
    fs.writeFileSync(this.storageConf, [
      '[storage]',
      'driver = "overlay"',
      `runroot = ${q(this.runroot)}`,
      `graphroot = ${q(this.root)}`,
      '[storage.options.overlay]',
      'mountopt = "nodev"',
      '',
    ].join('\n'));
    const runtimes = RUNTIMES.map((rt) => `${rt} = [${q(this.env.wrappers[rt])}]`);
    // podman's default rlimits (RLIMIT_NOFILE 1048576) cannot be set without CAP_SYS_RESOURCE when
    // the hard limit is lower (runc and tsrunc both fail then, see podman.test.js): default to the
    // current hard limit. Given only nofile, podman asks for RLIMIT_NPROC 1048576 too: set it to
    // what podman's own process has (32768) or the hard limit if lower.
    const hard = (name) => {
      const line = (readSafe('/proc/self/limits') || '').split('\n').find((l) => l.startsWith(name));
      const v = line ? line.slice(26).trim().split(/\s+/)[1] : 'unlimited';
      return v === 'unlimited' ? Infinity : Number(v);
    };
    this.nofileHard = hard('Max open files');
    const ulimits = [];
    if (this.nofileHard < 1048576) {
      ulimits.push(`nofile=${this.nofileHard}:${this.nofileHard}`);
      const nproc = Math.min(hard('Max processes'), 32768);
      ulimits.push(`nproc=${nproc}:${nproc}`);
    }
    fs.writeFileSync(this.containersConf, [
      '[containers]',
      'netns = "none"',
      'log_driver = "k8s-file"',
      `default_ulimits = ${q(ulimits)}`,
      '',
      '[engine]',
      `cgroup_manager = ${q(this.cgroupManager)}`,
      'events_logger = "file"',
      `events_logfile_path = ${q(path.join(this.dir, 'events.log'))}`,
      'conmon_path = ["/usr/bin/conmon"]',
      `tmp_dir = ${q(this.tmpdir)}`,
      `static_dir = ${q(path.join(this.root, 'libpod'))}`,
      `volume_path = ${q(path.join(this.root, 'volumes'))}`,
      `runtime = ${q(RUNTIMES[0])}`,
      `runtime_supports_json = ${q(['crun', 'runc', 'kata', 'runsc', 'youki', 'krun', ...RUNTIMES.filter((r) => r !== 'runc')])}`,
      '',
      '[engine.runtimes]',
      ...runtimes,
      '',
      '[network]',
      `network_config_dir = ${q(path.join(this.dir, 'networks'))}`,
      '',
    ].join('\n'));
  }

  envVars() {
    return {
      ...process.env,
      CONTAINERS_CONF: this.containersConf,
      CONTAINERS_STORAGE_CONF: this.storageConf,
      CONTAINERS_REGISTRIES_CONF: path.join(this.dir, 'registries.conf'),
    };
  }

  globalArgs() {
    return ['--root', this.root, '--runroot', this.runroot, '--tmpdir', this.tmpdir,
      '--cgroup-manager', this.cgroupManager, '--events-backend', 'file', '--storage-driver', 'overlay'];
  }

  /** podman with our private config; returns { status, signal, stdout, stderr }. */
  podman(args, opts = {}) {
    return runCli('podman', [...this.globalArgs(), ...args], opts, { cwd: this.dir, env: this.envVars() });
  }

  /** The podman command line with our config (for a tmux pane). */
  podmanCommand(args) {
    const envs = ['CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF'].map((k) => `${k}=${shq(this.envVars()[k])}`);
    return ['env', ...envs, ...['podman', ...this.globalArgs(), ...args].map(shq)].join(' ');
  }

  loadImages() {
    fs.writeFileSync(path.join(this.dir, 'registries.conf'), 'unqualified-search-registries = []\n');
    const r = this.podman(['load', '-i', this.env.images()], { timeout: 120000 });
    if (r.status !== 0) throw new Error(`podman load: ${r.stderr}${r.stdout}`);
    return r;
  }

  stop() {
    // containers first (with whatever runtime they used), then anything left in our cgroups
    try {
      this.podman(['rm', '-af', '-t', '0'], { timeout: 60000 });
    } catch {
      /* best effort */
    }
    for (const pid of processesInCgroups([this.cgroupParent])) killQuiet(pid);
    for (const pid of processesWithArg(this.dir)) killQuiet(pid); // conmon
  }
}

// ---------------------------------------------------------------------------
// Docker

class Docker {
  /**
   * A private dockerd (Debian's docker.io, 20.10) under env.base/docker, on the
   * private containerd `cd` (--containerd: never a system one it would find at
   * /run/containerd/containerd.sock): its own socket, data-root, exec-root,
   * pidfile and key file (else /etc/docker/key.json), the cgroupfs driver
   * under its own cgroup parent, and nothing of the host's network: no
   * iptables rules, no bridge, ip_forward left alone (dockerd sets it to 1 by
   * default). The runtimes are daemon.json `runtimes` entries named
   * `e2e-<rt>` (Docker reserves the name runc) pointing at the wrappers.
   */
  constructor(env, cd) {
    this.env = env;
    this.cd = cd;
    this.dir = path.join(env.base, 'docker');
    this.dataRoot = path.join(this.dir, 'data');
    this.execRoot = path.join(env.base, 'dx'); // dockerd's socket paths under it must stay short
    this.host = `unix://${path.join(this.dir, 'docker.sock')}`;
    this.configPath = path.join(this.dir, 'daemon.json');
    this.logPath = path.join(this.dir, 'dockerd.log');
    this.cliConfig = path.join(this.dir, 'cli');
    this.cgroupParent = `/tsrunc-e2e-docker-${env.tag}`;
    this.proc = null;
    env.ownCgroup(this.cgroupParent);
    env.onCleanup(() => this.stop());
  }

  /** The daemon.json `runtimes` name of runtime `rt`. */
  runtimeName(rt) {
    return `e2e-${rt}`;
  }

  config() {
    const runtimes = {};
    for (const rt of RUNTIMES) runtimes[this.runtimeName(rt)] = { path: this.env.wrappers[rt] };
    return {
      runtimes,
      'data-root': this.dataRoot,
      'exec-root': this.execRoot,
      pidfile: path.join(this.dir, 'docker.pid'),
      hosts: [this.host],
      containerd: this.cd.address,
      'deprecated-key-path': path.join(this.dir, 'key.json'),
      'storage-driver': 'overlay2',
      'exec-opts': ['native.cgroupdriver=cgroupfs'],
      'cgroup-parent': this.cgroupParent,
      iptables: false,
      'ip-forward': false,
      'ip-masq': false,
      bridge: 'none',
      'log-level': 'debug',
    };
  }

  async start() {
    for (const d of [this.dataRoot, this.execRoot, this.cliConfig]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(this.configPath, JSON.stringify(this.config(), null, 2));
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn('dockerd', ['--config-file', this.configPath], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.exited = null;
    this.proc.on('exit', (code, sig) => {
      this.exited = { code, sig };
    });
    const end = Date.now() + 60000;
    for (;;) {
      if (this.exited) throw new Error(`dockerd exited (${JSON.stringify(this.exited)}):\n${this.logTail()}`);
      if (this.docker(['version', '--format', '{{.Server.Version}}'], { timeout: 5000 }).status === 0) break;
      if (Date.now() > end) throw new Error(`dockerd did not come up:\n${this.logTail()}`);
      await delay(100);
    }
  }

  logTail(n = 40) {
    return (readSafe(this.logPath) || '').split('\n').slice(-n).join('\n');
  }

  envVars() {
    return { ...process.env, DOCKER_CONFIG: this.cliConfig };
  }

  /** Debian's docker CLI (/usr/bin/docker: the daemon's own version) on our socket: { status, signal, stdout, stderr }. */
  docker(args, opts = {}) {
    return runCli('/usr/bin/docker', ['-H', this.host, ...args], opts, { cwd: this.dir, env: this.envVars() });
  }

  /** The docker command line (for a tmux pane). */
  dockerCommand(args) {
    return ['env', `DOCKER_CONFIG=${shq(this.cliConfig)}`, ...['/usr/bin/docker', '-H', this.host, ...args].map(shq)].join(' ');
  }

  loadImages() {
    const r = this.docker(['load', '-i', this.env.images()], { timeout: 120000 });
    if (r.status !== 0) throw new Error(`docker load: ${r.stderr}${r.stdout}`);
    return r;
  }

  stop() {
    if (this.proc && !this.exited) {
      try {
        const ids = this.docker(['ps', '-aq'], { timeout: 20000 }).stdout.split('\n').filter(Boolean);
        if (ids.length) this.docker(['rm', '-f', ...ids], { timeout: 60000 });
      } catch {
        /* best effort */
      }
      for (const pid of processesInCgroups([this.cgroupParent])) killQuiet(pid);
      killQuiet(this.proc.pid, 'SIGTERM');
      const end = Date.now() + 15000;
      while (Date.now() < end && h.pidAlive(this.proc.pid)) sleepMs(20);
      killQuiet(this.proc.pid, 'SIGKILL');
    }
    this.proc = null;
  }
}

/**
 * `fn` (a test file's set-up of its daemons and images) run once, by the
 * first test that needs it; every later call waits for that run and fails
 * with its error, so each test reports why the set-up failed.
 */
function once(fn) {
  let done;
  return () => (done ??= fn());
}

/**
 * What `collect()` lists (things a removed container left behind), polled
 * every `step` ms until it lists nothing or `timeout` ms have passed: the
 * callers finish their clean-up just after the command returns.
 */
async function leftUntilGone(collect, { timeout = 5000, step = 100 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const left = collect();
    if (!left.length || Date.now() > end) return left;
    await delay(step);
  }
}

/** Polls `read()` every 100 ms until it returns `want`; throws `failure(last value)` after `timeout` ms. */
async function readUntil(read, want, failure, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    const got = read();
    if (got === want) return;
    if (Date.now() > end) throw failure(got);
    await delay(100);
  }
}

/** After the file's last test: everything its Env made goes, and what could not is said. */
function cleanUpAfter(test, name, getEnv) {
  test.after(() => {
    const env = getEnv();
    if (!env) return;
    const left = env.cleanup();
    if (left.length) console.error(`[e2e-callers] ${name}: cleanup could not remove:\n  ${left.join('\n  ')}`);
  });
}

module.exports = {
  once,
  cleanUpAfter,
  leftUntilGone,
  readUntil,
  RUNTIMES,
  RUNTIME_BINS,
  IMAGES,
  Env,
  Containerd,
  Podman,
  Docker,
  CriClient,
  buildImageArchive,
  wrapperScript,
  readCalls,
  formatCalls,
  crashedCalls,
  observationDiffs,
  closingTests,
  lastLogMsg,
  missingTools,
  which,
  median,
  delay,
  rand,
  shq,
  processesInCgroups,
  cgroupDirs,
  cleanupAll,
};
