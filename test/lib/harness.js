'use strict';
// End-to-end test harness. The runtime under test is a parameter:
//   TSRUNC_TEST_RUNTIME=/usr/sbin/runc node node_modules/uvu/bin.js test/e2e
// runs the same suite against runc (the reference), the default is this repo's
// bin/tsrunc.
//
// Each test file makes one context (`createContext(name)`): a private temp dir
// under /tmp holding the runtime's --root, the bundles and scratch files.
// `install(test, ctx)` hooks cleanup into uvu so it runs after every test, pass
// or fail: `delete --force` of every id the test made, SIGKILL of any process
// still tied to its bundles or cgroups, lazy unmount of anything under the temp
// dir, rmdir of cgroup dirs, removal of private tmux servers and helpers. The
// same cleanup runs on process exit and on SIGINT/SIGTERM, so an aborted run
// leaves the machine clean too.
const fs = require('fs');
const path = require('path');
const os = require('os');
const crypto = require('crypto');
const { spawn, spawnSync } = require('child_process');
const assert = require('uvu/assert');
const { copyRootfs, PROJECT } = require('./rootfs');

const RUNTIME = path.resolve(process.env.TSRUNC_TEST_RUNTIME || path.join(PROJECT, 'bin', 'tsrunc'));
/** Basename of the runtime binary: tsrunc-specific assertions are keyed off it. */
const RUNTIME_NAME = path.basename(RUNTIME);
const IS_TSRUNC = RUNTIME_NAME === 'tsrunc';
const IS_RUNC = RUNTIME_NAME === 'runc';
const DEFAULT_TIMEOUT = 30000;

const rand = (n = 3) => crypto.randomBytes(n).toString('hex');
const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// config.json defaults: what `runc spec` writes (runc 1.1.5), except that the
// process does not get a terminal unless asked for, runs `sleep 100` by default
// and the hostname is ours.

function defaultConfig() {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['sleep', '100'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps], ambient: [...caps] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'e2e',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

// ---------------------------------------------------------------------------
// /proc and /sys helpers

function readlinkSafe(p) {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

function readSafe(p) {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

function pids() {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

function pidAlive(pid) {
  const st = readSafe(`/proc/${pid}/stat`);
  if (st === undefined) return false;
  return !/^\d+ \(.*\) Z /s.test(st); // a zombie is gone for our purposes
}

function unescapeMountinfo(s) {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points in this process's mount namespace at or under `dir`, deepest first. */
function mountsUnder(dir) {
  const out = [];
  for (const line of (readSafe('/proc/self/mountinfo') || '').split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = unescapeMountinfo(f[4]);
    if (mp === dir || mp.startsWith(dir + '/')) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Mount points of the cgroup hierarchies (v1 controllers and/or the v2 tree). */
function cgroupHierarchies() {
  const out = new Set();
  for (const line of (readSafe('/proc/self/mountinfo') || '').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype === 'cgroup' || fstype === 'cgroup2') out.add(unescapeMountinfo(line.split(' ')[4]));
  }
  return [...out];
}

/**
 * Directories under the cgroup hierarchies whose name passes `match`, down to
 * `maxDepth` levels; `intoMatches: false` does not look below a match.
 */
function cgroupDirsWhere(match, maxDepth = 8, { intoMatches = true } = {}) {
  const found = [];
  const walk = (dir, depth) => {
    let ents;
    try {
      ents = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      const hit = match(e.name);
      if (hit) found.push(p);
      if ((intoMatches || !hit) && depth < maxDepth) walk(p, depth + 1);
    }
  };
  for (const h of cgroupHierarchies()) walk(h, 1);
  return found;
}

/** Directories under the cgroup hierarchies whose name is `name`. */
function cgroupDirsNamed(name, maxDepth = 8) {
  return cgroupDirsWhere((n) => n === name, maxDepth);
}

/** For an absolute cgroupsPath: the matching directory in every hierarchy that exists. */
function cgroupDirsAt(cgroupsPath) {
  if (!cgroupsPath || !cgroupsPath.startsWith('/')) return [];
  return cgroupHierarchies().map((h) => path.join(h, cgroupsPath)).filter((p) => fs.existsSync(p));
}

function rmCgroupDir(dir) {
  // children first, then kill whatever is still inside, then rmdir
  let ents = [];
  try {
    ents = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of ents) if (e.isDirectory()) rmCgroupDir(path.join(dir, e.name));
  for (let i = 0; i < 50; i++) {
    const procs = (readSafe(path.join(dir, 'cgroup.procs')) || '').split('\n').filter(Boolean).map(Number);
    for (const p of procs) killQuiet(p, 'SIGKILL');
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      if (e.code === 'ENOENT') return;
      sleepMs(20);
    }
  }
}

// ---------------------------------------------------------------------------
// network devices and namespaces of the tests (iproute2)

/** Is there a network device `name` in this process's network namespace? */
function linkExists(name) {
  return spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore', timeout: 10000 }).status === 0;
}

function netnsExists(name) {
  return fs.existsSync(`/run/netns/${name}`);
}

/**
 * Deletes the named network namespaces (the kernel destroys the virtual
 * devices in them once nothing holds them) and the devices of these names
 * left on the host (a veth's peer goes with it).
 */
function removeNetThings(links, netns) {
  for (const n of netns) if (netnsExists(n)) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore', timeout: 10000 });
  for (const l of links) if (linkExists(l)) spawnSync('ip', ['link', 'del', 'dev', l], { stdio: 'ignore', timeout: 10000 });
}

function killQuiet(pid, sig = 'SIGKILL') {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

function statId(p) {
  try {
    const st = fs.statSync(p);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Processes tied to a container: cwd or root inside the bundle (host view),
 * root being the bundle's rootfs directory (after pivot_root the link reads
 * "/", so compare the inode), or a cgroup path naming the id / cgroupsPath.
 */
function processesOf({ ids = [], bundles = [], cgroupsPaths = [] }) {
  const rootIds = new Set(bundles.map((b) => statId(path.join(b, 'rootfs'))).filter(Boolean));
  const found = [];
  for (const pid of pids()) {
    if (pid === process.pid) continue;
    let why;
    for (const which of ['cwd', 'root']) {
      const l = readlinkSafe(`/proc/${pid}/${which}`);
      if (l && bundles.some((b) => l === b || l.startsWith(b + '/'))) why = `${which} ${l}`;
    }
    if (!why && rootIds.size && rootIds.has(statId(`/proc/${pid}/root`))) why = 'root is the bundle rootfs';
    if (!why && (ids.length || cgroupsPaths.length)) {
      const cg = readSafe(`/proc/${pid}/cgroup`) || '';
      for (const line of cg.split('\n')) {
        const p = line.split(':').slice(2).join(':');
        if (!p) continue;
        if (ids.some((id) => p === `/${id}` || p.endsWith(`/${id}`) || p.includes(`/${id}/`))) why = `cgroup ${p}`;
        if (cgroupsPaths.some((c) => c && (p === c || p.startsWith(c + '/')))) why = `cgroup ${p}`;
      }
    }
    if (why && pidAlive(pid)) {
      const cmd = (readSafe(`/proc/${pid}/cmdline`) || '').split('\0').join(' ').trim();
      found.push({ pid, why, cmd });
    }
  }
  return found;
}

// ---------------------------------------------------------------------------
// Python console-socket receiver: accepts one connection on a unix socket,
// takes the pty master from the SCM_RIGHTS message (payload is the pty name),
// optionally sets a window size, and copies everything the container writes
// to an output file until the slave side is closed.

const CONSOLE_RECEIVER_PY = String.raw`
import array, fcntl, os, socket, struct, sys, termios
sock_path, out_path, rows, cols = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path)
srv.listen(1)
open(out_path + '.listening', 'w').close()
conn, _ = srv.accept()
fds = array.array('i')
msg, anc, flags, addr = conn.recvmsg(4096, socket.CMSG_SPACE(16 * fds.itemsize))
for level, typ, data in anc:
    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
        fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
with open(out_path + '.meta', 'w') as f:
    f.write('payload=%s\nfds=%d\n' % (msg.decode('utf8', 'replace'), len(fds)))
if not fds:
    sys.exit(2)
master = fds[0]
if rows and cols:
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
open(out_path + '.ready', 'w').close()
with open(out_path, 'ab', buffering=0) as out:
    while True:
        try:
            b = os.read(master, 4096)
        except OSError:
            break
        if not b:
            break
        out.write(b)
open(out_path + '.done', 'w').close()
`;

// ---------------------------------------------------------------------------
// Contexts

const contexts = new Set();

const tmuxSocketPath = (name) => path.join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid()}`, name);

class Tmux {
  constructor(ctx, { width = 100, height = 30 } = {}) {
    this.ctx = ctx;
    this.sock = `tsrunc-e2e-${process.pid}-${rand()}`;
    this.target = 'main';
    this.n = 0;
    // the pane runs dash with the prompt "host$ " (waitFor(/^host\$ /m) to sync);
    // set on its command line: a login-like start would reset it from /etc/profile
    const env = { ...process.env };
    delete env.TMUX;
    const r = spawnSync('tmux', ['-L', this.sock, '-f', '/dev/null', 'new-session', '-d', '-s', this.target,
      '-x', String(width), '-y', String(height), '-c', ctx.base, "env PS1='host$ ' ENV= /bin/sh -i"], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
    ctx._tmuxes.add(this);
    spawnSync('tmux', ['-L', this.sock, 'set-option', '-g', 'history-limit', '5000']);
  }
  tmux(...args) {
    const r = spawnSync('tmux', ['-L', this.sock, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
  /** Types a line literally and presses Enter. */
  type(line) {
    this.tmux('send-keys', '-t', this.target, '-l', line);
    this.tmux('send-keys', '-t', this.target, 'Enter');
  }
  keys(...keys) {
    this.tmux('send-keys', '-t', this.target, ...keys);
  }
  capture() {
    return this.tmux('capture-pane', '-p', '-J', '-t', this.target, '-S', '-5000');
  }
  clearHistory() {
    this.tmux('clear-history', '-t', this.target);
  }
  resize(width, height) {
    this.tmux('resize-window', '-t', this.target, '-x', String(width), '-y', String(height));
  }
  paneSize() {
    const [w, h] = this.tmux('display-message', '-p', '-t', this.target, '#{pane_width} #{pane_height}').trim().split(' ').map(Number);
    return { width: w, height: h };
  }
  async waitFor(re, timeout = 15000, what = String(re)) {
    const end = Date.now() + timeout;
    let text = '';
    for (;;) {
      text = this.capture();
      const m = re.exec(text);
      if (m) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} in the tmux pane:\n${text.replace(/\n+$/, '')}`);
      await delay(50);
    }
  }
  /** Runs a shell command line in whatever shell has the pane, returns its output lines (CR-free). */
  async cmd(line, timeout = 15000) {
    const n = ++this.n;
    // typed as B<n>"" so the echoed command line never matches the output marker
    this.type(`echo @@B${n}""; ${line}; echo @@E${n}""`);
    await this.waitFor(new RegExp(`^@@E${n}\\s*$`, 'm'), timeout, `the end of "${line}"`);
    const text = this.capture();
    const m = new RegExp(`^@@B${n}\\s*\\n([\\s\\S]*?)^@@E${n}\\s*$`, 'm').exec(text);
    if (!m) throw new Error(`could not find the output of "${line}" in:\n${text}`);
    return m[1].replace(/\r/g, '').replace(/[ \t]+$/gm, '').replace(/\n$/, '');
  }
  kill() {
    spawnSync('tmux', ['-L', this.sock, 'kill-server'], { stdio: 'ignore' });
    fs.rmSync(tmuxSocketPath(this.sock), { force: true }); // tmux 3.3 leaves it behind
    this.ctx._tmuxes.delete(this);
  }
}

class Context {
  constructor(name) {
    this.name = name;
    sweepStale();
    // the pid in the name lets a later run clean up after one killed with SIGKILL
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), `tsrunc-e2e-${name}-${process.pid}-`));
    this.root = path.join(this.base, 'state');
    fs.mkdirSync(this.root);
    this.runtime = RUNTIME;
    this.runtimeName = RUNTIME_NAME;
    this._ids = new Set();
    this._bundles = new Set();
    this._cgroupsPaths = new Map(); // cgroupsPath -> dirs (in every hierarchy) that did not exist before
    this._procs = new Set();
    this._tmuxes = new Set();
    this._links = new Set(); // network device names a test made or will make on the host
    this._netns = new Set(); // named network namespaces (ip netns add)
    this._finished = false;
    this._n = 0;
    contexts.add(this);
  }

  /** A fresh, unique container id (cgroup dirs are named after it, so it must be unique host-wide). */
  id(prefix = 'c') {
    const id = `${prefix}-${rand()}`;
    this._ids.add(id);
    return id;
  }

  /** Registers an id given from outside (e.g. parsed from output) for cleanup. */
  trackId(id) {
    this._ids.add(id);
  }

  /** A scratch path under the context's temp dir (not created). */
  tmp(name = 'f') {
    return path.join(this.base, `${name}-${++this._n}-${rand(2)}`);
  }

  /** Writes a scratch file per string of `contents`, opens each read-only, returns fn(fds) and closes them (to pass as extraFds). */
  withOpenFiles(contents, fn) {
    const fds = contents.map((c) => {
      const p = this.tmp('fd');
      fs.writeFileSync(p, c);
      return fs.openSync(p, 'r');
    });
    try {
      return fn(fds);
    } finally {
      fds.forEach((fd) => fs.closeSync(fd));
    }
  }

  /** A bundle running `sh -c script` (writable rootfs) with `edit(config)` applied; `opts` as makeBundle's. */
  shBundle(script, edit, opts = {}) {
    return this.makeBundle({
      args: ['sh', '-c', script],
      readonly: false,
      ...opts,
      edit: (c) => {
        if (edit) edit(c);
        return c;
      },
    });
  }

  /**
   * Makes a bundle: a temp dir with a fresh busybox rootfs and a config.json.
   * opts: args, terminal, hostname, env (array replaces; object adds/overrides),
   * cwd, readonly, mounts (replace), extraMounts (append), annotations,
   * namespaces, cgroupsPath, edit(config) for anything else, config (a whole
   * object to use instead of the defaults), rawConfig (text written verbatim),
   * noConfig, noRootfs.
   */
  makeBundle(opts = {}) {
    const dir = path.join(this.base, `bundle-${++this._n}-${rand(2)}`);
    fs.mkdirSync(dir);
    this._bundles.add(dir);
    const rootfs = path.join(dir, 'rootfs');
    if (!opts.noRootfs) copyRootfs(rootfs);
    let config = opts.config ? JSON.parse(JSON.stringify(opts.config)) : defaultConfig();
    const p = config.process || (config.process = {});
    if (opts.args) p.args = opts.args;
    if (opts.terminal !== undefined) p.terminal = opts.terminal;
    if (opts.cwd !== undefined) p.cwd = opts.cwd;
    if (Array.isArray(opts.env)) p.env = opts.env;
    else if (opts.env) {
      const env = new Map((p.env || []).map((e) => [e.split('=')[0], e]));
      for (const [k, v] of Object.entries(opts.env)) env.set(k, `${k}=${v}`);
      p.env = [...env.values()];
    }
    if (opts.hostname !== undefined) config.hostname = opts.hostname;
    if (opts.readonly !== undefined) config.root.readonly = opts.readonly;
    if (opts.mounts) config.mounts = opts.mounts;
    if (opts.extraMounts) config.mounts = [...(config.mounts || []), ...opts.extraMounts];
    if (opts.annotations) config.annotations = opts.annotations;
    if (opts.namespaces) config.linux.namespaces = opts.namespaces;
    if (opts.cgroupsPath) config.linux.cgroupsPath = opts.cgroupsPath;
    if (opts.edit) config = opts.edit(config) || config;
    const configPath = path.join(dir, 'config.json');
    if (opts.rawConfig !== undefined) fs.writeFileSync(configPath, opts.rawConfig);
    else if (!opts.noConfig) fs.writeFileSync(configPath, JSON.stringify(config, null, '\t'));
    if (config.linux && config.linux.cgroupsPath) this.trackCgroupsPath(config.linux.cgroupsPath);
    return { dir, rootfs, configPath, config };
  }

  /** Rewrites a bundle's config.json. */
  writeConfig(bundle, config) {
    bundle.config = config;
    fs.writeFileSync(bundle.configPath, JSON.stringify(config, null, '\t'));
    if (config.linux && config.linux.cgroupsPath) this.trackCgroupsPath(config.linux.cgroupsPath);
  }

  /**
   * A fresh network device name (15 bytes at most, the kernel's limit) for a
   * device the test makes with `ip link add`: cleanup deletes whatever the
   * host still has of that name, even when the test failed.
   */
  netdevName(prefix = 'tsr') {
    const name = `${prefix}${rand(3)}`.slice(0, 15);
    this._links.add(name);
    this._trackForSweep({ link: name });
    return name;
  }

  /** A new named network namespace (`ip netns add`): { name, path }. Cleanup deletes it, and with it every virtual device in it. */
  netns() {
    const name = `tsrunc-e2e-${process.pid}-${rand()}`;
    this._netns.add(name);
    this._trackForSweep({ netns: name });
    const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
    return { name, path: `/run/netns/${name}` };
  }

  _trackForSweep(entry) {
    try {
      fs.appendFileSync(path.join(this.base, '.netdevs'), JSON.stringify(entry) + '\n');
    } catch {
      /* best effort */
    }
  }

  /** Remembers which dirs of an absolute cgroupsPath do not exist yet, so cleanup removes exactly those. */
  trackCgroupsPath(cgroupsPath) {
    if (!cgroupsPath.startsWith('/') || this._cgroupsPaths.has(cgroupsPath)) return;
    const missing = [];
    for (const h of cgroupHierarchies()) {
      let rel = '';
      for (const part of cgroupsPath.split('/').filter(Boolean)) {
        rel += '/' + part;
        const d = path.join(h, rel);
        if (!fs.existsSync(d)) missing.push(d);
      }
    }
    this._cgroupsPaths.set(cgroupsPath, missing);
    // for sweepStale(), should this process die without cleaning up
    try {
      fs.appendFileSync(path.join(this.base, '.cgroups'), JSON.stringify({ cgroupsPath, missing }) + '\n');
    } catch {
      /* best effort */
    }
  }

  _stdio(opts) {
    const files = [];
    const open = (p, flags) => {
      const fd = fs.openSync(p, flags);
      files.push(fd);
      return fd;
    };
    let stdin;
    if (opts.input !== undefined) {
      const inPath = this.tmp('stdin');
      fs.writeFileSync(inPath, opts.input);
      stdin = open(inPath, 'r');
      fs.unlinkSync(inPath);
    } else {
      stdin = open('/dev/null', 'r');
    }
    // stdout/stderr are files, not pipes: a container that inherits them
    // (create, run -d without a terminal) must not keep us waiting for EOF.
    // opts.stdoutPath/stderrPath: caller-owned files (kept), for output a
    // container writes after the runtime has returned.
    const outPath = opts.stdoutPath || this.tmp('stdout');
    const errPath = opts.stderrPath || this.tmp('stderr');
    const out = open(outPath, opts.stdoutPath ? 'a+' : 'w+');
    const err = open(errPath, opts.stderrPath ? 'a+' : 'w+');
    const keep = [opts.stdoutPath, opts.stderrPath].filter(Boolean);
    const stdio = [stdin, out, err, ...(opts.extraFds || [])];
    return { stdio, files, outPath, errPath, keep };
  }

  _args(args, opts) {
    return opts.noRoot ? args : ['--root', this.root, ...args];
  }

  /** [file, argv] that start the runtime: directly, or as `sh -c opts.sh sh RUNTIME ARGS...` (the script ends with `exec "$@"`). */
  _command(args, opts) {
    const argv = this._args(args, opts);
    return opts.sh ? ['/bin/sh', ['-c', opts.sh, 'sh', this.runtime, ...argv]] : [this.runtime, argv];
  }

  /**
   * Runs the runtime synchronously with --root <private dir>. Returns
   * { status, signal, stdout, stderr, error }. opts: input (stdin text),
   * timeout (ms), cwd, env, extraFds (fds 3.. in the child), noRoot, sh (a
   * sh script that prepares and then runs the runtime with `exec "$@"`, so
   * the runtime has the shell's pid, $$: `export LISTEN_PID=$$; exec "$@"`).
   */
  rt(args, opts = {}) {
    const io = this._stdio(opts);
    try {
      const [file, argv] = this._command(args, opts);
      const r = spawnSync(file, argv, {
        stdio: io.stdio,
        timeout: opts.timeout || DEFAULT_TIMEOUT,
        killSignal: 'SIGKILL',
        cwd: opts.cwd || this.base,
        env: opts.env || process.env,
      });
      return {
        status: r.status,
        signal: r.signal,
        error: r.error,
        stdout: fs.readFileSync(io.outPath, 'utf8'),
        stderr: fs.readFileSync(io.errPath, 'utf8'),
      };
    } finally {
      for (const fd of io.files) fs.closeSync(fd);
      for (const p of [io.outPath, io.errPath]) if (!io.keep.includes(p)) fs.rmSync(p, { force: true });
    }
  }

  /** Like rt(), but returns at once: { child, done } where done resolves to rt()'s result. */
  rtAsync(args, opts = {}) {
    const io = this._stdio(opts);
    const [file, argv] = this._command(args, opts);
    const child = spawn(file, argv, {
      stdio: io.stdio,
      cwd: opts.cwd || this.base,
      env: opts.env || process.env,
    });
    this._procs.add(child);
    for (const fd of io.files) fs.closeSync(fd);
    const timeout = opts.timeout || DEFAULT_TIMEOUT;
    const done = new Promise((resolve) => {
      const timer = setTimeout(() => killQuiet(child.pid), timeout);
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve({ status: null, signal: null, error, stdout: '', stderr: '' });
      });
      child.on('exit', (status, signal) => {
        clearTimeout(timer);
        this._procs.delete(child);
        const res = {
          status,
          signal,
          stdout: fs.readFileSync(io.outPath, 'utf8'),
          stderr: fs.readFileSync(io.errPath, 'utf8'),
        };
        for (const p of [io.outPath, io.errPath]) if (!io.keep.includes(p)) fs.rmSync(p, { force: true });
        resolve(res);
      });
    });
    return { child, done };
  }

  /** Spawns a helper process (not the runtime) that cleanup kills. */
  spawnHelper(cmd, args, opts = {}) {
    const child = spawn(cmd, args, { stdio: 'ignore', ...opts });
    this._procs.add(child);
    child.on('exit', () => this._procs.delete(child));
    return child;
  }

  /** Parsed `state` of a container, or null when the runtime says it does not exist. */
  state(id) {
    const r = this.rt(['state', id]);
    if (r.status !== 0) return null;
    return JSON.parse(r.stdout);
  }

  /** Polls `state` until the status is `status` (null: until it does not exist). */
  async waitStatus(id, status, timeout = 10000) {
    const end = Date.now() + timeout;
    let s;
    for (;;) {
      s = this.state(id);
      if ((s ? s.status : null) === status) return s;
      if (Date.now() > end) throw new Error(`container ${id}: status ${s ? s.status : 'missing'}, expected ${status}`);
      await delay(50);
    }
  }

  waitStatusSync(id, status, timeout = 10000) {
    const end = Date.now() + timeout;
    for (;;) {
      const s = this.state(id);
      if ((s ? s.status : null) === status) return s;
      if (Date.now() > end) throw new Error(`container ${id}: status ${s ? s.status : 'missing'}, expected ${status}`);
      sleepMs(50);
    }
  }

  tmux(opts) {
    return new Tmux(this, opts);
  }

  /** Starts the console-socket receiver; returns { socket, output(), ready(), done(), meta() }. */
  consoleReceiver({ rows = 24, cols = 80 } = {}) {
    const script = path.join(this.base, 'console-receiver.py');
    if (!fs.existsSync(script)) fs.writeFileSync(script, CONSOLE_RECEIVER_PY);
    const socket = this.tmp('console.sock');
    const out = this.tmp('console.out');
    const child = this.spawnHelper('python3', [script, socket, out, String(rows), String(cols)], { stdio: ['ignore', 'ignore', 'inherit'] });
    const waitFile = async (p, timeout) => {
      const end = Date.now() + timeout;
      while (!fs.existsSync(p)) {
        if (Date.now() > end) throw new Error(`console receiver: ${path.basename(p)} did not appear`);
        await delay(20);
      }
    };
    return {
      socket,
      child,
      listening: () => waitFile(out + '.listening', 10000),
      ready: (t = 10000) => waitFile(out + '.ready', t),
      done: (t = 10000) => waitFile(out + '.done', t),
      output: () => readSafe(out) || '',
      meta: () => readSafe(out + '.meta') || '',
    };
  }

  /**
   * What a container left behind: state dir entry, mounts under the bundle,
   * cgroup dirs named after the id (or at its cgroupsPath), processes tied to
   * the bundle or its cgroups. Returns a list of strings (empty: clean).
   */
  leftoversOf({ id, bundle, cgroupsPath } = {}) {
    const problems = [];
    const bdir = bundle && (typeof bundle === 'string' ? bundle : bundle.dir);
    const cgp = cgroupsPath || (bundle && bundle.config && bundle.config.linux && bundle.config.linux.cgroupsPath);
    if (id && fs.existsSync(path.join(this.root, id))) problems.push(`state dir entry ${path.join(this.root, id)}`);
    if (bdir) for (const m of mountsUnder(bdir)) problems.push(`mount ${m}`);
    if (id) for (const d of cgroupDirsNamed(id)) problems.push(`cgroup dir ${d}`);
    if (cgp) for (const d of cgroupDirsAt(cgp)) problems.push(`cgroup dir ${d} (cgroupsPath)`);
    for (const p of processesOf({ ids: id ? [id] : [], bundles: bdir ? [bdir] : [], cgroupsPaths: cgp ? [cgp] : [] })) {
      problems.push(`process ${p.pid} (${p.cmd}): ${p.why}`);
    }
    return problems;
  }

  /** Asserts the container left nothing behind (see leftoversOf). */
  leftovers(what) {
    const problems = this.leftoversOf(what);
    assert.equal(problems, [], `left behind by ${what.id || ''}:\n  ${problems.join('\n  ')}`);
  }

  /**
   * Removes everything the tests of this context made so far. Safe to call any
   * number of times; never throws. Returns what could not be removed.
   */
  cleanup() {
    const errors = [];
    const step = (what, fn) => {
      try {
        fn();
      } catch (e) {
        errors.push(`${what}: ${e && e.message}`);
      }
    };
    for (const t of [...this._tmuxes]) step('tmux', () => t.kill());
    for (const c of [...this._procs]) step('helper', () => killQuiet(c.pid, 'SIGKILL'));
    const ids = [...this._ids];
    const bundles = [...this._bundles];
    const cgroupsPaths = [...this._cgroupsPaths.keys()];
    for (const id of ids) {
      if (fs.existsSync(path.join(this.root, id))) step(`delete ${id}`, () => this.rt(['delete', '--force', id], { timeout: 15000 }));
    }
    // anything still tied to our bundles/ids/cgroups
    step('processes', () => {
      for (let i = 0; i < 3; i++) {
        const procs = processesOf({ ids, bundles, cgroupsPaths });
        if (!procs.length) break;
        for (const p of procs) killQuiet(p.pid, 'SIGKILL');
        const end = Date.now() + 3000;
        while (Date.now() < end && procs.some((p) => pidAlive(p.pid))) sleepMs(20);
      }
    });
    for (const id of ids) {
      if (fs.existsSync(path.join(this.root, id))) {
        step(`delete ${id}`, () => this.rt(['delete', '--force', id], { timeout: 15000 }));
        step(`state dir ${id}`, () => fs.rmSync(path.join(this.root, id), { recursive: true, force: true }));
      }
    }
    step('mounts', () => {
      for (const m of mountsUnder(this.base)) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    });
    for (const id of ids) step(`cgroups ${id}`, () => cgroupDirsNamed(id).forEach(rmCgroupDir));
    for (const [cgp, missing] of this._cgroupsPaths) {
      step(`cgroups ${cgp}`, () => {
        cgroupDirsAt(cgp).forEach(rmCgroupDir);
        // parents this test caused to exist, deepest first, only if empty
        for (const d of [...missing].sort((a, b) => b.length - a.length)) {
          try {
            fs.rmdirSync(d);
          } catch {
            /* gone, or in use by someone else */
          }
        }
      });
    }
    step('bundles', () => {
      for (const b of bundles) if (!mountsUnder(b).length) fs.rmSync(b, { recursive: true, force: true });
    });
    const links = [...this._links];
    const netns = [...this._netns];
    step('network', () => removeNetThings(links, netns));
    // what is still there after all that
    const left = [];
    for (const id of ids) {
      const l = this.leftoversOf({ id });
      left.push(...l);
    }
    for (const b of bundles) left.push(...mountsUnder(b).map((m) => `mount ${m}`));
    for (const cgp of cgroupsPaths) left.push(...cgroupDirsAt(cgp).map((d) => `cgroup dir ${d}`));
    left.push(...processesOf({ ids, bundles, cgroupsPaths }).map((p) => `process ${p.pid} (${p.cmd}): ${p.why}`));
    left.push(...links.filter(linkExists).map((l) => `network device ${l}`), ...netns.filter(netnsExists).map((n) => `network namespace ${n}`));
    this._links.clear();
    this._netns.clear();
    this._ids.clear();
    this._bundles.clear();
    this._cgroupsPaths.clear();
    return [...errors, ...new Set(left)];
  }

  /** cleanup() + removal of the context's temp dir. */
  finish() {
    if (this._finished) return [];
    const left = this.cleanup();
    if (!mountsUnder(this.base).length) fs.rmSync(this.base, { recursive: true, force: true });
    else left.push(`mounts remain under ${this.base}`);
    this._finished = true;
    contexts.delete(this);
    return left;
  }
}

/**
 * Temp dirs of test runs that died: os.tmpdir()/<prefix>-<name>-<pid>-<6 chars>
 * whose pid is gone (never this process's).
 */
function deadRunDirs(prefix) {
  let ents = [];
  try {
    ents = fs.readdirSync(os.tmpdir());
  } catch {
    return [];
  }
  const re = new RegExp(`^${prefix}-.+-(\\d+)-[A-Za-z0-9]{6}$`);
  return ents
    .map((e) => [e, re.exec(e)])
    .filter(([, m]) => m && Number(m[1]) !== process.pid && !fs.existsSync(`/proc/${m[1]}`))
    .map(([e]) => path.join(os.tmpdir(), e));
}

let swept = false;
/**
 * Once per process: removes what earlier runs that died without cleaning up
 * (SIGKILL, a CI timeout) left: temp dirs /tmp/tsrunc-e2e-<name>-<pid>-* whose
 * pid is gone, their containers (delete --force by the state dirs found,
 * then any process tied to their bundles or ids), mounts and cgroup dirs.
 */
function sweepStale() {
  if (swept) return;
  swept = true;
  // private tmux servers of dead runs
  const tmuxDir = path.dirname(tmuxSocketPath('x'));
  for (const sock of fs.existsSync(tmuxDir) ? fs.readdirSync(tmuxDir) : []) {
    const m = /^tsrunc-e2e-(\d+)-[0-9a-f]+$/.exec(sock);
    if (m && !fs.existsSync(`/proc/${m[1]}`)) {
      spawnSync('tmux', ['-L', sock, 'kill-server'], { stdio: 'ignore', timeout: 5000 });
      fs.rmSync(path.join(tmuxDir, sock), { force: true });
    }
  }
  for (const base of deadRunDirs('tsrunc-e2e')) {
    try {
      const root = path.join(base, 'state');
      const ids = fs.existsSync(root) ? fs.readdirSync(root) : [];
      const bundles = fs.readdirSync(base).filter((n) => n.startsWith('bundle-')).map((n) => path.join(base, n));
      for (const id of ids) spawnSync(RUNTIME, ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 15000 });
      const procs = processesOf({ ids, bundles });
      for (const p of procs) killQuiet(p.pid, 'SIGKILL');
      // until they are gone: then nothing of theirs holds the mounts, cgroup dirs and files removed below
      const end = Date.now() + 3000;
      while (Date.now() < end && procs.some((p) => pidAlive(p.pid))) sleepMs(20);
      for (const mp of mountsUnder(base)) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
      for (const id of ids) cgroupDirsNamed(id).forEach(rmCgroupDir);
      const net = (readSafe(path.join(base, '.netdevs')) || '').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      removeNetThings(net.filter((e) => e.link).map((e) => e.link), net.filter((e) => e.netns).map((e) => e.netns));
      const tracked = (readSafe(path.join(base, '.cgroups')) || '').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      for (const { cgroupsPath, missing } of tracked) {
        cgroupDirsAt(cgroupsPath).forEach(rmCgroupDir);
        for (const d of [...missing].sort((a, b) => b.length - a.length)) {
          try {
            fs.rmdirSync(d);
          } catch {
            /* gone or in use */
          }
        }
      }
      if (!mountsUnder(base).length) fs.rmSync(base, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
}

function createContext(name) {
  return new Context(name);
}

/** Hooks a context's cleanup into a uvu suite: after each test (a failure to clean fails the test) and at the end. */
function install(test, ctx) {
  test.after.each(() => {
    const left = ctx.cleanup();
    if (left.length) throw new Error(`cleanup could not remove:\n  ${left.join('\n  ')}`);
  });
  test.after(() => {
    const left = ctx.finish();
    if (left.length) console.error(`[e2e] ${ctx.name}: cleanup could not remove:\n  ${left.join('\n  ')}`);
  });
}

function finishAll() {
  for (const c of [...contexts]) {
    try {
      c.finish();
    } catch {
      /* best effort */
    }
  }
}
process.on('exit', finishAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    finishAll();
    process.exit(128 + os.constants.signals[sig]);
  });
}

// ---------------------------------------------------------------------------
// Output helpers

/** Parses runc's (logrus) text log lines: time="..." level=error msg="..." */
function parseTextLog(text) {
  const lines = text.split('\n').filter(Boolean);
  return lines.map((line) => {
    const m = /^time="([^"]+)" level=(\w+) msg=("(?:[^"\\]|\\.)*"|\S*)(.*)$/.exec(line);
    if (!m) return { raw: line };
    const msg = m[3].startsWith('"') ? JSON.parse(m[3]) : m[3];
    return { time: m[1], level: m[2], msg, rest: m[4], raw: line };
  });
}

/** The message of a failed command's stderr, which must be exactly one text log line. */
function errorMessage(stderr) {
  const entries = parseTextLog(stderr);
  assert.is(entries.length, 1, `stderr should be one log line, got:\n${stderr}`);
  assert.ok(entries[0].level, `stderr is not a text log line (time="..." level=error msg="..."):\n${stderr}`);
  assert.is(entries[0].level, 'error');
  return entries[0].msg;
}

const RFC3339_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/;

/** State JSON text exactly as runc prints it: 2-space indent, runc's key order, no trailing newline. */
function stateText(s) {
  const o = { ociVersion: s.ociVersion, id: s.id, pid: s.pid, status: s.status, bundle: s.bundle, rootfs: s.rootfs, created: s.created };
  if (s.annotations) o.annotations = s.annotations;
  o.owner = s.owner;
  return JSON.stringify(o, null, 2);
}

module.exports = {
  RUNTIME,
  RUNTIME_NAME,
  IS_TSRUNC,
  IS_RUNC,
  PROJECT,
  defaultConfig,
  createContext,
  install,
  parseTextLog,
  errorMessage,
  stateText,
  RFC3339_SECONDS,
  mountsUnder,
  unescapeMountinfo,
  statId,
  deadRunDirs,
  cgroupDirsNamed,
  cgroupDirsWhere,
  cgroupDirsAt,
  cgroupHierarchies,
  processesOf,
  pidAlive,
  linkExists,
  delay,
  sleepMs,
  rand,
};
