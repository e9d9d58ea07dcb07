'use strict';
// Attacks on the runtime's own processes from inside a container: the
// CVE-2019-5736 class. While `exec` (or `run`/`create` joining an existing
// PID namespace) runs, a forked stage of the runtime sits in the container's
// PID namespace before it execs the user's process; after `create`, the
// container's init waits there for `start`. A root process in the container
// with the same uid and capabilities may open such a process's
// /proc/<pid>/exe (the host's runtime binary: CVE-2019-5736 overwrote runc
// through it), read its environ (the caller's environment), readlink its fds,
// cwd and root (host paths), and ptrace it, unless the process is
// non-dumpable. The payload (payloads/probe.c) tries all of that on every
// runtime process it can see; see its header for the report it prints.
//
// Every test runs against the tsrunc copy and against runc 1.1.5 (the
// reference; see KNOWN_RUNC for what runc itself gets wrong here).
const fs = require('fs');
const path = require('path');
const assert = require('uvu/assert');
const lib = require('./lib');
const a = require('./attack');

// A test must have seen this many runtime stages before it may pass, and
// gives up after MAX_TRIES runtime calls.
const MIN_SEEN = 5;
const MAX_TRIES = 40;

// Measured with runc 1.1.5+ds1-1+deb12u1 (Debian 12): its init, made with only
// new namespaces, stays dumpable while it waits for `start` (nsexec makes it
// non-dumpable only when it joins namespaces). Its /proc/1/exe is the runc
// binary itself, seen through a read-only bind mount, so the write fails
// (EROFS); the rest is open.
const RUNC_WAITING_INIT = 'the waiting runc init is dumpable: /proc/1/exe (the runc binary; the write fails with EROFS), '
  + 'its fds (host paths in the state dir), cwd, root and ptrace are open to the container';
const KNOWN_RUNC = {
  'create: the init waiting for start is sealed from a container that joins its PID namespace': RUNC_WAITING_INIT,
  'create: the init waiting for start is sealed from a process exec\'d into the created container': RUNC_WAITING_INIT,
};

const probe = () => lib.payload('probe');
const dumpable = () => lib.payload('dumpable');

lib.suites('proc-probe', (test, ctx, runtime) => {
  /** A running container whose process is `probe loop`; its report goes to `out`. */
  async function probeContainer(secret, extra = {}) {
    const b = ctx.makeBundle({ args: a.probeArgs(ctx, 'loop', secret), readonly: false, ...extra });
    lib.installPayload(b, probe());
    lib.installPayload(b, dumpable());
    const id = ctx.id('prb');
    const out = ctx.tmp('probe.out');
    const r = ctx.rt(['run', '-d', '--bundle', b.dir, id], { stdoutPath: out });
    assert.is(r.status, 0, `run -d: ${r.stderr}`);
    await lib.waitFor(() => /^probe ready/m.test(lib.readText(out)), 'the probe to start');
    return { b, id, out, pid: ctx.state(id).pid };
  }

  /** Tells the probe the runtime is idle and waits for its last word. */
  async function finishProbe(b, out) {
    fs.writeFileSync(path.join(b.rootfs, 'probe-done'), '');
    await lib.waitFor(() => /^probe (done|timeout)/m.test(lib.readText(out)), 'the probe to finish', 15000);
    return lib.readText(out);
  }

  /**
   * Calls oneTry(i) until the probe has reported MIN_SEEN stages (or
   * MAX_TRIES calls), then checks that it got nothing from any of them and
   * did not write into the runtime's binary.
   */
  async function attackLoop(what, secret, oneTry, extra) {
    const guard = a.guardCopy(ctx);
    try {
      const c = await probeContainer(secret, extra);
      let tries = 0;
      while (tries < MAX_TRIES && a.parseStages(lib.readText(c.out)).length < MIN_SEEN) await oneTry(c, tries++);
      const text = await finishProbe(c.b, c.out);
      a.assertStagesSealed(guard, text, MIN_SEEN, `${what} (${tries} calls)`);
      return { ...c, tries };
    } finally {
      guard.restore();
    }
  }

  // a detached process is killed with the container if the probe ends first: wait for its line
  const outputLines = (file, n, what) => lib.waitFor(() => lib.readText(file).split('\n').filter(Boolean).length >= n,
    () => `${n} lines of output from ${what}, got:\n${lib.readText(file)}`);

  const dumpableOk = (text, n, what) => {
    const lines = text.replace(/\r/g, '').split('\n').filter(Boolean);
    assert.equal(lines, Array(n).fill('dumpable=1'), `${what}: the container's process must be dumpable again after execve (PR_GET_DUMPABLE 1)`);
  };

  // CVE-2019-5736 class, the stages of exec and run: a probe in the container scans /proc while the runtime runs
  test('exec: a process in the container cannot get into the exec stage', async () => {
    const secret = a.newSecret();
    let outputs = '';
    const c = await attackLoop('exec', secret, async (cont) => {
      const r = ctx.rt(['exec', cont.id, '/dumpable'], { env: a.envWith(secret) });
      assert.is(r.status, 0, `exec: ${r.stderr}`);
      outputs += r.stdout;
    });
    dumpableOk(outputs, c.tries, 'exec');
  });

  test('exec --detach: a process in the container cannot get into the exec stage', async () => {
    const secret = a.newSecret();
    const out = ctx.tmp('dumpable.out');
    const c = await attackLoop('exec --detach', secret, async (cont, i) => {
      const r = ctx.rt(['exec', '--detach', cont.id, '/dumpable'], { env: a.envWith(secret), stdoutPath: out });
      assert.is(r.status, 0, `exec --detach: ${r.stderr}`);
      await outputLines(out, i + 1, 'exec --detach');
    });
    dumpableOk(lib.readText(out), c.tries, 'exec --detach');
  });

  test('exec --tty: a process in the container cannot get into the exec stage', async () => {
    // attached with a terminal: the runtime needs a real one on its stdin
    const secret = a.newSecret();
    const term = ctx.tmux();
    let outputs = '';
    const batch = 5;
    const c = await attackLoop('exec --tty', secret, async (cont) => {
      const one = `TSRUNC_SECRET=${secret} '${ctx.runtime}' --root '${ctx.root}' exec --tty ${cont.id} /dumpable`;
      outputs += `${await term.cmd(`for i in ${Array.from({ length: batch }, (_, i) => i + 1).join(' ')}; do ${one}; done`, 30000)}\n`;
    });
    term.kill();
    dumpableOk(outputs, c.tries * batch, 'exec --tty');
  });

  test('exec --tty --detach --console-socket: a process in the container cannot get into the exec stage', async () => {
    const secret = a.newSecret();
    let outputs = '';
    const c = await attackLoop('exec --tty --detach', secret, async (cont) => {
      const recv = ctx.consoleReceiver();
      await recv.listening();
      const r = ctx.rt(['exec', '--tty', '--detach', '--console-socket', recv.socket, cont.id, '/dumpable'], { env: a.envWith(secret) });
      assert.is(r.status, 0, `exec --tty --detach: ${r.stderr}`);
      await recv.done();
      outputs += recv.output();
    });
    dumpableOk(outputs, c.tries, 'exec --tty --detach');
  });

  test('exec --process FILE --detach --pid-file F (as containerd and podman call it): a process in the container cannot get into the exec stage', async () => {
    const secret = a.newSecret();
    const out = ctx.tmp('dumpable.out');
    let processFile;
    const c = await attackLoop('exec --process --detach --pid-file', secret, async (cont, i) => {
      if (!processFile) {
        // the container's own process with other args, capabilities included, as containerd writes it
        processFile = ctx.tmp('process.json');
        fs.writeFileSync(processFile, JSON.stringify({ ...cont.b.config.process, args: ['/dumpable'] }));
      }
      const pidFile = ctx.tmp('exec.pid');
      const r = ctx.rt(['exec', '--process', processFile, '--detach', '--pid-file', pidFile, cont.id], { env: a.envWith(secret), stdoutPath: out });
      assert.is(r.status, 0, `exec --process --detach --pid-file: ${r.stderr}`);
      assert.ok(Number(lib.readText(pidFile)) > 0, 'the pid file holds the process');
      await outputLines(out, i + 1, 'exec --process');
    });
    dumpableOk(lib.readText(out), c.tries, 'exec --process');
  });

  test('run of a container that joins the PID namespace of a running one: its init is sealed from the first container', async () => {
    // the new container's init sits in the joined namespace from fork to execve
    const secret = a.newSecret();
    let outputs = '';
    let joiner;
    const c = await attackLoop('run (joining a PID namespace)', secret, async (cont) => {
      if (!joiner) {
        joiner = ctx.makeBundle({
          args: ['/dumpable'],
          readonly: false,
          edit: (cfg) => {
            cfg.linux.namespaces = cfg.linux.namespaces.map((n) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${cont.pid}/ns/pid` } : n));
          },
        });
        lib.installPayload(joiner, dumpable());
      }
      const r = ctx.rt(['run', '--bundle', joiner.dir, ctx.id('prb')], { env: a.envWith(secret) });
      assert.is(r.status, 0, `run: ${r.stderr}`);
      outputs += r.stdout;
    });
    dumpableOk(outputs, c.tries, 'run');
  });

  // CVE-2019-5736 class, the init made by create: it waits for start as a process of the runtime, in the
  // container's PID namespace, for as long as the caller likes
  /**
   * A container created with `secret` in the runtime's environment, its init
   * waiting for `start`; edit(config) applies to its bundle.
   */
  function createdContainer(secret, edit) {
    const b = ctx.makeBundle({ args: ['sleep', '1000'], readonly: false, edit });
    lib.installPayload(b, probe());
    const id = ctx.id('prb');
    const r = ctx.rt(['create', '--bundle', b.dir, id], { env: a.envWith(secret) });
    assert.is(r.status, 0, `create: ${r.stderr}`);
    const s = ctx.state(id);
    assert.is(s.status, 'created');
    return { b, id, pid: s.pid };
  }

  /** `run -d` of a container in the PID namespace of `pid` whose process is `probe once`; returns { b, id, out }. */
  function joinerProbe(pid, secret) {
    const b = ctx.makeBundle({
      args: a.probeArgs(ctx, 'once', secret),
      readonly: false,
      edit: (cfg) => {
        cfg.linux.namespaces = cfg.linux.namespaces.map((n) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : n));
      },
    });
    lib.installPayload(b, probe());
    const out = ctx.tmp('probe.out');
    const id = ctx.id('prb');
    const r = ctx.rt(['run', '-d', '--bundle', b.dir, id], { stdoutPath: out });
    assert.is(r.status, 0, `run -d (joining the PID namespace): ${r.stderr}`);
    return { b, id, out };
  }

  /**
   * The probe reports on the waiting init (PID 1 of its namespace); then
   * `start` runs the container's process, and the probe, told the runtime is
   * idle, tries the CVE-2019-5736 write if it kept the init's exe.
   */
  async function attackWaitingInit(what, created, probeRootfs, out) {
    await lib.waitFor(() => a.parseStages(lib.readText(out)).length || /^probe (done|timeout)/m.test(lib.readText(out)), 'the probe to report on the waiting init');
    const r = ctx.rt(['start', created.id]);
    assert.is(r.status, 0, `start: ${r.stderr}`);
    fs.writeFileSync(path.join(probeRootfs, 'probe-done'), '');
    await lib.waitFor(() => /^probe (done|timeout)/m.test(lib.readText(out)), 'the probe to finish', 15000);
    const text = lib.readText(out);
    const stages = a.parseStages(text);
    assert.ok(stages.some((s) => s.pid === 1), `${what}: the probe did not see the waiting init (PID 1):\n${text}`);
    return text;
  }

  test('create: the init waiting for start is sealed from a container that joins its PID namespace', async () => {
    const secret = a.newSecret();
    const guard = a.guardCopy(ctx);
    try {
      const created = createdContainer(secret);
      const j = joinerProbe(created.pid, secret);
      const text = await attackWaitingInit('created init, from a joined container', created, j.b.rootfs, j.out);
      a.assertStagesSealed(guard, text, 1, 'created init, from a joined container');
    } finally {
      guard.restore();
    }
  });

  test('create: the init waiting for start is sealed from a process exec\'d into the created container', async () => {
    const secret = a.newSecret();
    const guard = a.guardCopy(ctx);
    try {
      const created = createdContainer(secret);
      const out = ctx.tmp('probe.out');
      const r = ctx.rt(['exec', '--detach', created.id, ...a.probeArgs(ctx, 'once', secret)], { stdoutPath: out });
      assert.is(r.status, 0, `exec --detach into the created container: ${r.stderr}`);
      const text = await attackWaitingInit('created init, from exec', created, created.b.rootfs, out);
      a.assertStagesSealed(guard, text, 1, 'created init, from exec');
    } finally {
      guard.restore();
    }
  });

  test('create with linux.seccomp: the init waiting for start already runs under the filter (Seccomp: 2, as runc 1.1.5), with and without noNewPrivileges', () => {
    // measured on runc 1.1.5: its waiting init shows "Seccomp: 2" in both cases
    const seen = [];
    for (const nnp of [true, false]) {
      const created = createdContainer(a.newSecret(), (cfg) => {
        cfg.process.noNewPrivileges = nnp;
        cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
      });
      const status = fs.readFileSync(`/proc/${created.pid}/status`, 'utf8');
      seen.push(`noNewPrivileges ${nnp}: ${(/^Seccomp:\s*(\d+)/m.exec(status) || [])[1]}`);
    }
    console.log(`[${runtime}] Seccomp of the init waiting for start: ${seen.join(', ')}`);
    assert.equal(seen, ['noNewPrivileges true: 2', 'noNewPrivileges false: 2'], 'the Seccomp: line of the waiting init\'s /proc/<pid>/status');
  });
}, { knownRunc: KNOWN_RUNC });
