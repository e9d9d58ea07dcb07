'use strict';
// File descriptors and working directories that cross from the host into a
// container: the CVE-2024-21626 class. runc leaked an fd of the host's
// /sys/fs/cgroup into its init; an image with WORKDIR /proc/self/fd/7 then
// started with its cwd on the host, outside the rootfs, from where ".." walks
// the host's tree. tsrunc's stages are forks of Node: Node's own fds (epoll,
// eventfd, pipes), the channel, the state dir fd and whatever the caller left
// open are all there until the process execs. The attacks:
// - process.cwd (config.json, exec --cwd, exec --process) = /proc/self/fd/N:
//   the container process must never start with a cwd outside its rootfs;
//   seen from inside (the kernel's getcwd says "(unreachable)", a marker file
//   that exists only beside the runtime's state is reachable through "..")
//   and from the host (/proc/<pid>/cwd is not the same directory as that path
//   under /proc/<pid>/root). A refused start must leave nothing behind.
// - --preserve-fds N beyond the fds the caller passed: the container must
//   never get one of the runtime's own fds.
// - the init waiting for `start` must not hold the caller's fds (a flock the
//   caller released stays held otherwise).
// Every test runs against the tsrunc copy and against runc 1.1.5 (the
// reference; see KNOWN_RUNC for what runc itself gets wrong here).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const lib = require('./lib');
const { skip } = require('../lib/skip');

const FDS = Array.from({ length: 23 }, (_, i) => i + 3); // 3..25

// Measured with runc 1.1.5+ds1-1+deb12u1: --preserve-fds N hands the
// container runc's own fds 3..3+N-1 when they are open (fd 3 is a directory
// fd of the host's /sys/fs/cgroup: the fd of CVE-2024-21626, then epoll and
// pipes); from N = 5 it fails: "unable to stat preserved-fd 4 (of N): stat
// /proc/self/fd/7: no such file or directory".
const RUNC_PRESERVE = "--preserve-fds 1..4 without caller fds gives the container runc's own fds (3 = the host's /sys/fs/cgroup)";
const KNOWN_RUNC = {
  'run --preserve-fds N (1, 4, 20) when the caller passed only stdio: the container never gets a runtime fd; 20 is refused': RUNC_PRESERVE,
  'exec --preserve-fds N (1, 4, 20) when the caller passed only stdio: the container never gets a runtime fd; 20 is refused': RUNC_PRESERVE,
};

/** The payload's report: { cwd, marker, dotdot }. */
function cwdReport(text) {
  const get = (k) => (new RegExp(`^${k}=(.*)$`, 'm').exec(text) || [])[1];
  return { cwd: get('cwd'), marker: get('marker'), dotdot: get('dotdot') };
}

/**
 * Where the process `pid` (the cwd payload, holding) really is. Returns the
 * problems: a cwd outside its root seen from inside or from the host.
 */
function cwdProblems(pid, text) {
  const problems = [];
  const r = cwdReport(text);
  if (!r.cwd || r.cwd.startsWith('(unreachable)')) problems.push(`inside, getcwd is ${JSON.stringify(r.cwd)}`);
  if (r.marker !== 'none') problems.push(`inside, the host's marker file is reachable: ${r.marker} (.. holds ${(r.dotdot || '').slice(0, 100)}...)`);
  // from the host: the link reads the path as seen from the process's root when the cwd is in its tree
  const link = fs.readlinkSync(`/proc/${pid}/cwd`);
  if (h.statId(`/proc/${pid}/root${link}`) !== h.statId(`/proc/${pid}/cwd`)) problems.push(`from the host, /proc/${pid}/cwd is ${link}, not in the container's root`);
  return problems;
}

/** The fds payload's report: [{ fd, dev, ino, link }]. */
function fdReport(text) {
  return text.split('\n').map((l) => /^fd=(\d+) dev=(\S+) ino=(\S+) link=(.*)$/.exec(l)).filter(Boolean)
    .map((m) => ({ fd: Number(m[1]), dev: m[2], ino: m[3], link: m[4] }));
}

const cwdPayload = () => lib.payload('cwd');
const fdsPayload = () => lib.payload('fds');

lib.suites('fds-cwd', (test, ctx, runtime) => {
  let marker;
  /** A file beside the runtime's state (ctx.base/host-marker-*): a container must never reach it. */
  function hostMarker() {
    if (!marker) {
      marker = `host-marker-${h.rand()}`;
      fs.writeFileSync(path.join(ctx.base, marker), '');
    }
    return marker;
  }

  function payloadBundle(args, edit) {
    const b = ctx.makeBundle({ args, readonly: false, edit });
    lib.installPayload(b, cwdPayload());
    lib.installPayload(b, fdsPayload());
    return b;
  }

  const setCwd = (b, cwd) => {
    const c = JSON.parse(JSON.stringify(b.config));
    c.process.cwd = cwd;
    ctx.writeConfig(b, c);
  };

  /** The cwd payload of a started container or exec'd process has printed and holds. */
  const holding = (out) => lib.waitFor(() => /^holding$/m.test(lib.readText(out)), () => `the process to report its cwd, got:\n${lib.readText(out)}`);

  /** A refused start: exit 1 and nothing left behind. */
  function refused(r, id, b, what) {
    assert.is(r.status, 1, `${what}: a refused start exits 1 (status ${r.status}, stderr ${r.stderr})`);
    ctx.leftovers({ id, bundle: b });
  }

  /** Runs one `run -d`/`create`+`start` with cwd /proc/self/fd/N; returns the problems. */
  async function startWithCwd(b, n, how, opts = {}) {
    setCwd(b, `/proc/self/fd/${n}`);
    const id = ctx.id('prb');
    const out = ctx.tmp('cwd.out');
    const what = `${how} with process.cwd /proc/self/fd/${n}`;
    if (how === 'run') {
      const r = ctx.rt(['run', '-d', '--bundle', b.dir, id], { stdoutPath: out, ...opts });
      if (r.status !== 0) return refused(r, id, b, what) || [];
    } else {
      const r = ctx.rt(['create', '--bundle', b.dir, id], { stdoutPath: out, ...opts });
      if (r.status !== 0) return refused(r, id, b, what) || [];
      const s = ctx.rt(['start', id]);
      assert.is(s.status, 0, `${what}: start: ${s.stderr}`);
    }
    await holding(out);
    const problems = cwdProblems(ctx.state(id).pid, lib.readText(out)).map((p) => `${what}: ${p}`);
    const d = ctx.rt(['delete', '--force', id]);
    assert.is(d.status, 0, `delete --force: ${d.stderr}`);
    return problems;
  }

  const noProblems = (problems, what) => assert.ok(!problems.length,
    `${what} (CVE-2024-21626 class: the process must start in its rootfs or not at all):\n  ${problems.join('\n  ')}`);

  // CVE-2024-21626: a working directory through a leaked fd
  test('run: process.cwd /proc/self/fd/N (N = 3..25) never starts the process outside its rootfs', async () => {
    const b = payloadBundle(['/cwd', hostMarker(), 'hold']);
    const problems = [];
    for (const n of FDS) problems.push(...await startWithCwd(b, n, 'run'));
    noProblems(problems, 'run');
  });

  test('run: process.cwd /proc/self/fd/3 with a host directory the caller left open as fd 3', async () => {
    // a careless caller's fd, not passed with --preserve-fds: the runtime must close it before chdir
    const b = payloadBundle(['/cwd', hostMarker(), 'hold']);
    const dir = fs.openSync(ctx.base, 'r');
    try {
      noProblems(await startWithCwd(b, 3, 'run', { extraFds: [dir] }), 'run with a caller dir fd');
    } finally {
      fs.closeSync(dir);
    }
  });

  test('create + start: process.cwd /proc/self/fd/N (N = 3..25) never starts the process outside its rootfs', async () => {
    const b = payloadBundle(['/cwd', hostMarker(), 'hold']);
    const problems = [];
    for (const n of FDS) problems.push(...await startWithCwd(b, n, 'create'));
    noProblems(problems, 'create + start');
  });

  /** exec of the cwd payload into a running container; the caller holds a host directory as fd 3. */
  async function execWithCwd(useProcessFile) {
    const b = payloadBundle(['sleep', '1000']);
    const id = ctx.id('prb');
    const r0 = ctx.rt(['run', '-d', '--bundle', b.dir, id]);
    assert.is(r0.status, 0, `run -d: ${r0.stderr}`);
    const init = ctx.state(id).pid;
    const dir = fs.openSync(ctx.base, 'r');
    const problems = [];
    try {
      for (const n of FDS) {
        const cwd = `/proc/self/fd/${n}`;
        const out = ctx.tmp('cwd.out');
        const pidFile = ctx.tmp('exec.pid');
        let args;
        if (useProcessFile) {
          const pf = ctx.tmp('process.json');
          fs.writeFileSync(pf, JSON.stringify({ ...b.config.process, args: ['/cwd', hostMarker(), 'hold'], cwd }));
          args = ['exec', '--process', pf, '--detach', '--pid-file', pidFile, id];
        } else {
          args = ['exec', '--cwd', cwd, '--detach', '--pid-file', pidFile, id, '/cwd', hostMarker(), 'hold'];
        }
        const what = useProcessFile ? `exec --process with cwd ${cwd}` : `exec --cwd ${cwd}`;
        const r = ctx.rt(args, { stdoutPath: out, extraFds: [dir] });
        if (r.status !== 0) {
          // refused: no process left in the container (runc exits 255 here)
          assert.not.ok(fs.existsSync(pidFile), `${what}: refused, yet a pid file was written`);
          const ps = ctx.rt(['ps', '--format', 'json', id]);
          assert.equal(JSON.parse(ps.stdout), [init], `${what}: refused, yet processes remain in the container`);
          continue;
        }
        await holding(out);
        const pid = Number(lib.readText(pidFile));
        problems.push(...cwdProblems(pid, lib.readText(out)).map((p) => `${what}: ${p}`));
        process.kill(pid, 'SIGKILL');
        await lib.waitFor(() => !h.pidAlive(pid), `the exec'd process ${pid} to die`);
      }
    } finally {
      fs.closeSync(dir);
    }
    return problems;
  }

  test('exec --cwd /proc/self/fd/N (N = 3..25), the caller holding a host directory as fd 3: never outside the rootfs', async () => {
    noProblems(await execWithCwd(false), 'exec --cwd');
  });

  test('exec --process with cwd /proc/self/fd/N (N = 3..25), the caller holding a host directory as fd 3: never outside the rootfs', async () => {
    noProblems(await execWithCwd(true), 'exec --process');
  });

  // CVE-2024-21626 class: fds the runtime hands over that the caller never passed
  /**
   * `--preserve-fds n` when the caller passed only stdio: refused (exit
   * `failStatus`, an error naming the flag, nothing left), or the container
   * has only 0, 1, 2. n = 20 (past every fd the runtime has) must be
   * refused. Returns the problems.
   */
  function preserveWithoutFds(cmd, n, failStatus) {
    const what = `${cmd} --preserve-fds ${n} (only stdio from the caller)`;
    const b = payloadBundle(cmd === 'run' ? ['/fds'] : ['sleep', '1000']);
    const id = ctx.id('prb');
    let r;
    if (cmd === 'run') {
      r = ctx.rt(['run', '--preserve-fds', String(n), '--bundle', b.dir, id]);
    } else {
      const r0 = ctx.rt(['run', '-d', '--bundle', b.dir, id]);
      assert.is(r0.status, 0, `run -d: ${r0.stderr}`);
      r = ctx.rt(['exec', '--preserve-fds', String(n), id, '/fds']);
    }
    if (r.status === 0) {
      assert.ok(/^fds end$/m.test(r.stdout), `${what}: the payload did not finish:\n${r.stdout}`);
      const extra = fdReport(r.stdout).filter((f) => f.fd > 2);
      const problems = [];
      if (extra.length) problems.push(`${what}: the container got fds the caller never passed: ${extra.map((f) => `${f.fd} -> ${f.link}`).join(', ')}`);
      if (n === 20) problems.push(`${what}: ran (status 0); must be refused like runc 1.1.5 ("unable to stat preserved-fd ...")`);
      return problems;
    }
    assert.is(r.status, failStatus, `${what}: refused with status ${failStatus}; stderr: ${r.stderr}`);
    const msg = h.errorMessage(r.stderr);
    assert.match(msg, runtime === 'tsrunc' ? /--preserve-fds/ : /preserved-fd/, `${what}: the error names the flag`);
    if (cmd === 'run') ctx.leftovers({ id, bundle: b });
    return [];
  }

  const noFdProblems = (problems) => assert.ok(!problems.length,
    `--preserve-fds beyond the caller's fds (CVE-2024-21626 class: a container must never get a runtime fd):\n  ${problems.join('\n  ')}`);

  test('run --preserve-fds N (1, 4, 20) when the caller passed only stdio: the container never gets a runtime fd; 20 is refused', () => {
    noFdProblems([1, 4, 20].flatMap((n) => preserveWithoutFds('run', n, 1)));
  });

  test('exec --preserve-fds N (1, 4, 20) when the caller passed only stdio: the container never gets a runtime fd; 20 is refused', () => {
    // runc's exec exits 255 when it fails
    noFdProblems([1, 4, 20].flatMap((n) => preserveWithoutFds('exec', n, 255)));
  });

  /** `--preserve-fds 2` with two real files as fds 3 and 4: exactly 0..4, and 3, 4 are those files. */
  function preserveTwo(cmd) {
    const files = [ctx.tmp('preserved-a'), ctx.tmp('preserved-b')];
    for (const f of files) fs.writeFileSync(f, 'x');
    const fds = files.map((f) => fs.openSync(f, 'r'));
    try {
      const b = payloadBundle(['/fds']);
      const id = ctx.id('prb');
      let r;
      if (cmd === 'run') {
        r = ctx.rt(['run', '--preserve-fds', '2', '--bundle', b.dir, id], { extraFds: fds });
      } else {
        const c = JSON.parse(JSON.stringify(b.config));
        c.process.args = ['sleep', '1000'];
        ctx.writeConfig(b, c);
        const r0 = ctx.rt(['run', '-d', '--bundle', b.dir, id]);
        assert.is(r0.status, 0, `run -d: ${r0.stderr}`);
        r = ctx.rt(['exec', '--preserve-fds', '2', id, '/fds'], { extraFds: fds });
      }
      const what = `${cmd} --preserve-fds 2`;
      assert.is(r.status, 0, `${what}: ${r.stderr}`);
      const seen = fdReport(r.stdout);
      assert.equal(seen.map((f) => f.fd), [0, 1, 2, 3, 4], `${what}: the container's fds:\n${r.stdout}`);
      for (const [i, f] of files.entries()) {
        const st = fs.statSync(f);
        const got = seen.find((s) => s.fd === 3 + i);
        assert.is(`${got.dev}:${got.ino}`, `${st.dev}:${st.ino}`, `${what}: fd ${3 + i} is the caller's ${f} (${got.link})`);
      }
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
  }

  test('run --preserve-fds 2 with two files from the caller: the container has exactly fds 0-4, 3 and 4 the caller\'s', () => {
    preserveTwo('run');
  });

  test('exec --preserve-fds 2 with two files from the caller: the process has exactly fds 0-4, 3 and 4 the caller\'s', () => {
    preserveTwo('exec');
  });

  // the init waiting for start keeps what it inherited: the caller's fds must be gone right after fork
  test('create: the init waiting for start does not hold the caller\'s fds (a flock the caller released is free)', () => {
    // the caller holds a flock on a file it passes as fd 3, without --preserve-fds
    const lockFile = ctx.tmp('lock');
    const fd = fs.openSync(lockFile, 'w');
    let closed = false;
    try {
      const lock = spawnSync('flock', ['--exclusive', '--nonblock', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
      if (lock.error && lock.error.code === 'ENOENT') {
        skip('flock(1) (util-linux) is not installed');
        return;
      }
      assert.is(lock.status, 0, `flock of the caller's file: ${lock.stderr}`);
      const b = payloadBundle(['/fds']);
      const id = ctx.id('prb');
      const r = ctx.rt(['create', '--bundle', b.dir, id], { extraFds: [fd] });
      assert.is(r.status, 0, `create: ${r.stderr}`);
      fs.closeSync(fd);
      closed = true;
      const other = spawnSync('flock', ['--exclusive', '--nonblock', lockFile, 'true'], { encoding: 'utf8' });
      const init = ctx.state(id).pid;
      const holders = fs.readdirSync(`/proc/${init}/fd`)
        .map((n) => `${n} -> ${fs.readlinkSync(`/proc/${init}/fd/${n}`)}`)
        .filter((l) => l.endsWith(lockFile));
      assert.is(other.status, 0, `the caller closed its fd after create, yet its flock is still held: the waiting init keeps the caller's fds (${holders.join(', ') || 'no fd of the init names the file'})`);
      assert.equal(holders, [], 'the waiting init holds the caller\'s file');
    } finally {
      if (!closed) fs.closeSync(fd);
    }
  });
}, { knownRunc: KNOWN_RUNC });
