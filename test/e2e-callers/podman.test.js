'use strict';
// podman (4.3, conmon) driving tsrunc and runc: run --rm, run -d + exec,
// exec -it and run -it in a terminal (tmux), stop, kill, pause/unpause,
// update --memory, rm -f, and failing starts whose error must reach podman's
// output. Every test runs once per runtime (E2E_CALLERS_RUNTIMES, default
// "tsrunc,runc"); the expected values are runc 1.1.5's, and the last test
// compares what the two runtimes showed.
//
// podman is private (lib.js: Podman): --root/--runroot/--tmpdir under a temp
// dir, the cgroupfs manager, the file events backend, no network. The
// runtimes are named in containers.conf ([engine.runtimes] tsrunc/runc = the
// logging wrappers) and listed in runtime_supports_json, so podman and conmon
// pass --log-format=json --log <file> to them; `--runtime <path>` (plain
// flags) is used too.
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const L = require('./lib');

const test = suite('podman');

let env;
let pm;

const setup = L.once(async () => {
  const missing = L.missingTools(['podman', 'conmon', 'tmux']);
  if (missing.length) throw new Error(`not installed: ${missing.join(', ')} (apt-get install podman conmon tmux)`);
  env = new L.Env('podman');
  pm = new L.Podman(env);
  pm.setup();
  pm.loadImages();
});

L.cleanUpAfter(test, 'podman', () => env);

const observed = {};
function observe(rt, key, value) {
  const text = JSON.stringify(value)
    .replace(/\b[0-9a-f]{64}\b/g, '<id>')
    .replace(/\b[a-z]+-(tsrunc|runc)-[0-9a-f]{6}\b/g, '<name>')
    .replace(/Error: (tsrunc|runc): /g, 'Error: <rt>: ')
    .replace(/(tsrunc|runc) create failed: /g, '');
  (observed[rt] = observed[rt] || {})[key] = text;
}

const show = (r) => `exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

function explain(rt, msg) {
  const short = (t) => t.split(env.base).join('<tmp>');
  return short(`${msg}\nlast runtime calls (${rt}):\n${L.formatCalls(env.calls(rt).slice(-12))}`);
}

/** podman --runtime <rt> ... */
function podman(rt, args, opts) {
  return pm.podman(['--runtime', rt, ...args], opts);
}

function podmanOk(rt, args, what) {
  const r = podman(rt, args);
  assert.is(r.status, 0, explain(rt, `${what || `podman ${args.join(' ')}`}: ${show(r)}`));
  return r;
}

/** Options every container gets: our cgroup parent (cleanup removes it). */
function runOpts() {
  return ['--cgroup-parent', pm.cgroupParent];
}

function newName(rt, what) {
  return `${what}-${rt}-${L.rand()}`;
}

/** `podman run -d` of `cmd`; returns the container id. */
function runDetached(rt, name, cmd, extra = []) {
  const r = podmanOk(rt, ['run', '-d', '--name', name, ...runOpts(), ...extra, L.IMAGES.busybox, ...cmd]);
  return r.stdout.trim();
}

function inspect(rt, name, format) {
  const r = podman(rt, ['inspect', '--format', format, name]);
  assert.is(r.status, 0, show(r));
  return r.stdout.trim();
}

function waitStatus(rt, name, want, timeout = 15000) {
  return L.readUntil(() => inspect(rt, name, '{{.State.Status}}'), want, (s) => new Error(explain(rt, `${name}: status ${s}, expected ${want}`)), timeout);
}

const callsFor = (rt, id, sub) => env.callsFor(rt, id, sub);

/** The runtime's state dir for a podman container: podman passes no --root, so the runtime's default. */
function stateDirOf(rt, id) {
  return path.join(rt === 'tsrunc' ? '/run/tsrunc' : `/run/${rt}`, id);
}

async function assertNoLeftovers(rt, id) {
  const cg = `${pm.cgroupParent}/libpod-${id}`;
  const left = await L.leftUntilGone(() => [
    ...(fs.existsSync(stateDirOf(rt, id)) ? [`runtime state dir ${stateDirOf(rt, id)}`] : []),
    ...L.cgroupDirs(cg).map((d) => `cgroup dir ${d}`),
    ...L.processesInCgroups([cg]).map((p) => `process ${p} in ${cg}`),
  ]);
  assert.equal(left, [], explain(rt, `left behind by ${id}:\n  ${left.join('\n  ')}`));
}

function rmForce(rt, name) {
  podman(rt, ['rm', '-f', '-t', '0', name]);
}

/** Runs podman `args` in a tmux pane (100x30); resolves once the prompt "ctr# " shows. */
async function inPane(rt, args) {
  const rcFile = env.tmp('rc');
  const tm = env.ctx.tmux({ width: 100, height: 30 });
  await tm.waitFor(/^host\$ /m, 10000, 'the host shell prompt');
  tm.type(`${pm.podmanCommand(['--runtime', rt, ...args])}; echo RC=$? > ${rcFile}`);
  await tm.waitFor(/^ctr# /m, 30000, 'the container shell prompt').catch((e) => {
    throw new Error(explain(rt, e.message));
  });
  const rc = async (timeout = 20000) => {
    const end = Date.now() + timeout;
    for (;;) {
      const t = fs.existsSync(rcFile) ? fs.readFileSync(rcFile, 'utf8') : '';
      if (/^RC=\d+\n$/.test(t)) return Number(t.slice(3));
      if (Date.now() > end) throw new Error(explain(rt, `podman did not exit; pane:\n${tm.capture()}`));
      await L.delay(50);
    }
  };
  return { tm, rc };
}

for (const rt of L.RUNTIMES) {
  test(`${rt}: podman run --rm: output and exit code of sh -c 'echo hi; exit 3', by name (JSON logs) and by path (plain logs); podman info names the runtime`, async () => {
    await setup();
    const cid = env.tmp('cid');
    const r = podman(rt, ['run', '--rm', '--cidfile', cid, ...runOpts(), L.IMAGES.busybox, 'sh', '-c', 'echo hi; echo to-stderr >&2; exit 3']);
    assert.is(r.status, 3, explain(rt, show(r)));
    assert.is(r.stdout, 'hi\n');
    assert.is(r.stderr, 'to-stderr\n');
    const id = fs.readFileSync(cid, 'utf8').trim();
    const create = callsFor(rt, id, 'create')[0];
    assert.ok(create, explain(rt, 'a create call'));
    assert.ok(create.argv.includes('--log-format=json'), explain(rt, 'a runtime in runtime_supports_json gets --log-format=json'));
    assert.ok(create.argv.includes('--pid-file'), explain(rt, 'create --pid-file'));
    const deletes = callsFor(rt, id, 'delete');
    assert.ok(deletes.length >= 1 && deletes.every((c) => c.rc === 0), explain(rt, 'delete --force succeeded'));
    await assertNoLeftovers(rt, id);
    observe(rt, 'run --rm', [r.status, r.stdout, r.stderr]);

    // by path, under a name that is not in runtime_supports_json: no JSON log flags
    const cid2 = env.tmp('cid');
    const r2 = pm.podman(['--runtime', env.plainWrappers[rt], 'run', '--rm', '--cidfile', cid2, ...runOpts(), L.IMAGES.busybox, 'sh', '-c', 'echo by-path; exit 4']);
    assert.is(r2.status, 4, explain(rt, show(r2)));
    assert.is(r2.stdout, 'by-path\n');
    const id2 = fs.readFileSync(cid2, 'utf8').trim();
    const create2 = callsFor(rt, id2, 'create')[0];
    assert.not.ok(create2.argv.some((a) => a.startsWith('--log-format')), explain(rt, 'a runtime not in runtime_supports_json gets no --log-format'));
    await assertNoLeftovers(rt, id2);

    const info = podman(rt, ['info', '--format', '{{.Host.OCIRuntime.Name}}|{{.Host.OCIRuntime.Version}}']);
    assert.is(info.status, 0, show(info));
    const [name, version] = info.stdout.trim().split('|');
    assert.is(name, rt);
    assert.match(version, new RegExp(`^${rt} version \\d+\\.\\d+\\.\\d+`), `podman shows the runtime's --version: ${version}`);
  });

  test(`${rt}: podman run -d, then exec: output, exit code, -w, -e, -u; exec of a missing executable`, async () => {
    await setup();
    const name = newName(rt, 'exec');
    const id = runDetached(rt, name, ['sleep', '1000']);
    try {
      await waitStatus(rt, name, 'running');
      const r = podman(rt, ['exec', name, 'sh', '-c', 'echo out; echo err >&2; cat /proc/1/cmdline | tr "\\0" " "; echo; exit 5']);
      assert.is(r.status, 5, explain(rt, show(r)));
      assert.is(r.stdout, 'out\nsleep 1000 \n');
      assert.is(r.stderr, 'err\n');
      const r2 = podmanOk(rt, ['exec', '-w', '/tmp', '-e', 'GREETING=hello', '-u', 'nobody', name, 'sh', '-c', 'pwd; echo $GREETING; id']);
      assert.is(r2.stdout, '/tmp\nhello\nuid=65534(nobody) gid=65534(nogroup)\n');
      const ex = callsFor(rt, id, 'exec');
      assert.ok(ex.length >= 2, explain(rt, 'conmon runs exec'));
      assert.ok(ex.every((c) => c.argv.includes('--process') && c.argv.includes('--detach') && c.argv.includes('--log-format=json')), explain(rt, 'exec --process --detach with JSON logs'));
      // runc: Error: runc: exec failed: unable to start container process: exec: "/no/such": stat /no/such:
      // no such file or directory: OCI runtime attempted to invoke a command that was not found (exit 127)
      const bad = podman(rt, ['exec', name, '/no/such']);
      assert.is(bad.status, 127, explain(rt, show(bad)));
      assert.match(bad.stderr, new RegExp(`^Error: ${rt}: (exec failed: )?unable to start container process: exec: "/no/such": stat /no/such: no such file or directory: OCI runtime attempted to invoke a command that was not found\\n$`), explain(rt, show(bad)));
      const badCall = callsFor(rt, id, 'exec').pop();
      observe(rt, 'exec', [r.status, r.stdout, r.stderr, r2.stdout, bad.status, bad.stderr, badCall.rc]);
      // runc exec exits 255 when it cannot start the process (conmon does not show it, but it is the runtime's answer)
      assert.is(badCall.rc, 255, explain(rt, 'the runtime\'s exec of a missing executable exits 255 as runc\'s does'));
    } finally {
      rmForce(rt, name);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: podman exec -it in a terminal (tmux): /dev/pts/0, the pane's size, exit 4 is podman's exit code`, async () => {
    await setup();
    const name = newName(rt, 'eit');
    const id = runDetached(rt, name, ['sleep', '1000']);
    try {
      await waitStatus(rt, name, 'running');
      const { tm, rc } = await inPane(rt, ['exec', '-it', '-e', 'PS1=ctr# ', name, 'sh']);
      assert.is(await tm.cmd('tty'), '/dev/pts/0');
      assert.is(await tm.cmd('stty size'), '30 100');
      assert.is(await tm.cmd('cat /proc/1/cmdline | tr "\\0" " "; echo'), 'sleep 1000');
      tm.type('exit 4');
      assert.is(await rc(), 4);
      const ex = callsFor(rt, id, 'exec').pop();
      assert.ok(ex && ex.argv.includes('--tty') && ex.argv.includes('--console-socket'), explain(rt, 'exec --tty --console-socket'));
      tm.kill();
      observe(rt, 'exec -it', 'RC=4');
    } finally {
      rmForce(rt, name);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: podman run -it --rm in a terminal (tmux): /dev/pts/0, the pane's size, sh is PID 1, exit 3`, async () => {
    await setup();
    const cid = env.tmp('cid');
    const { tm, rc } = await inPane(rt, ['run', '-it', '--rm', '--cidfile', cid, ...runOpts(), '-e', 'PS1=ctr# ', L.IMAGES.busybox, 'sh']);
    assert.is(await tm.cmd('tty'), '/dev/pts/0');
    assert.is(await tm.cmd('stty size'), '30 100');
    assert.is(await tm.cmd('cat /proc/1/comm'), 'sh');
    tm.type('exit 3');
    assert.is(await rc(), 3);
    const id = fs.readFileSync(cid, 'utf8').trim();
    const create = callsFor(rt, id, 'create')[0];
    assert.ok(create && create.argv.includes('--console-socket'), explain(rt, 'create --console-socket'));
    tm.kill();
    await assertNoLeftovers(rt, id);
    observe(rt, 'run -it', 'RC=3');
  });

  test(`${rt}: podman stop: SIGTERM (trapped: exit 7), then SIGKILL after the timeout (137)`, async () => {
    await setup();
    const name = newName(rt, 'stop');
    const id = runDetached(rt, name, ['sh', '-c', 'trap "exit 7" TERM; touch /tmp/ready; while :; do sleep 0.1; done']);
    const name2 = newName(rt, 'stop');
    const id2 = runDetached(rt, name2, ['sleep', '1000']);
    try {
      // wait for the trap: /tmp/ready inside the container
      const end = Date.now() + 15000;
      while (podman(rt, ['exec', name, 'test', '-e', '/tmp/ready']).status !== 0) {
        if (Date.now() > end) throw new Error(explain(rt, 'the trap was not set'));
        await L.delay(100);
      }
      podmanOk(rt, ['stop', '-t', '10', name]);
      assert.is(inspect(rt, name, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 7');
      const kill15 = callsFor(rt, id, 'kill')[0];
      assert.equal(kill15 && kill15.argv.slice(-2), [id, '15'], explain(rt, 'kill <id> 15'));

      const t0 = Date.now();
      const r = podmanOk(rt, ['stop', '-t', '1', name2]);
      assert.ok(Date.now() - t0 < 10000, 'stopped after the 1 s timeout');
      assert.is(inspect(rt, name2, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
      assert.ok(callsFor(rt, id2, 'kill').some((c) => c.argv.slice(-1)[0] === '9' && c.rc === 0), explain(rt, 'kill <id> 9'));
      observe(rt, 'stop', [r.stdout, r.stderr.replace(/time="[^"]*" /, '')]);
    } finally {
      rmForce(rt, name);
      rmForce(rt, name2);
    }
    await assertNoLeftovers(rt, id);
    await assertNoLeftovers(rt, id2);
  });

  test(`${rt}: podman kill (SIGKILL: 137), kill -s TERM (trapped: 7), kill of a stopped container`, async () => {
    await setup();
    const name = newName(rt, 'kill');
    const id = runDetached(rt, name, ['sleep', '1000']);
    try {
      await waitStatus(rt, name, 'running');
      podmanOk(rt, ['kill', name]);
      await waitStatus(rt, name, 'exited');
      assert.is(inspect(rt, name, '{{.State.ExitCode}}'), '137');
      const again = podman(rt, ['kill', name]);
      assert.is(again.status, 125, show(again));
      assert.match(again.stderr, /can only kill running containers/);

      // a new container under the same name, whose sh traps TERM
      podmanOk(rt, ['rm', '-f', '-t', '0', name]);
      const id2 = runDetached(rt, name, ['sh', '-c', 'trap "exit 7" TERM; touch /tmp/ready; while :; do sleep 0.1; done']);
      const end = Date.now() + 15000;
      while (podman(rt, ['exec', name, 'test', '-e', '/tmp/ready']).status !== 0) {
        if (Date.now() > end) throw new Error(explain(rt, 'the trap was not set'));
        await L.delay(100);
      }
      podmanOk(rt, ['kill', '-s', 'TERM', name]);
      await waitStatus(rt, name, 'exited');
      assert.is(inspect(rt, name, '{{.State.ExitCode}}'), '7');
      assert.ok(callsFor(rt, id2, 'kill').some((c) => c.argv.slice(-1)[0] === '15' && c.rc === 0), explain(rt, 'kill <id> 15'));
      observe(rt, 'kill', [again.status, again.stderr.replace(id, '<id>')]);
      rmForce(rt, name);
      await assertNoLeftovers(rt, id2);
    } finally {
      rmForce(rt, name);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: podman pause / unpause: paused with a frozen cgroup, no exec while paused, running again`, async () => {
    await setup();
    const name = newName(rt, 'pause');
    const id = runDetached(rt, name, ['sleep', '1000']);
    try {
      await waitStatus(rt, name, 'running');
      podmanOk(rt, ['pause', name]);
      assert.is(inspect(rt, name, '{{.State.Status}}'), 'paused');
      const freezer = path.join('/sys/fs/cgroup/freezer', pm.cgroupParent, `libpod-${id}`, 'freezer.state');
      if (fs.existsSync(path.dirname(freezer))) assert.is(fs.readFileSync(freezer, 'utf8').trim(), 'FROZEN');
      const ex = podman(rt, ['exec', name, 'true']);
      assert.is.not(ex.status, 0, 'no exec into a paused container');
      podmanOk(rt, ['unpause', name]);
      assert.is(inspect(rt, name, '{{.State.Status}}'), 'running');
      if (fs.existsSync(path.dirname(freezer))) assert.is(fs.readFileSync(freezer, 'utf8').trim(), 'THAWED');
      assert.is(podmanOk(rt, ['exec', name, 'echo', 'thawed']).stdout, 'thawed\n');
      assert.equal(callsFor(rt, id).filter((c) => c.sub === 'pause' || c.sub === 'resume').map((c) => `${c.sub}:${c.rc}`), ['pause:0', 'resume:0']);
      observe(rt, 'pause', [ex.status, ex.stderr]);
    } finally {
      rmForce(rt, name);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: podman update --memory 64m: the container's memory limit changes (update --resources=<file>)`, async () => {
    await setup();
    const name = newName(rt, 'update');
    const id = runDetached(rt, name, ['sleep', '1000'], ['--memory', '128m']);
    try {
      await waitStatus(rt, name, 'running');
      const limit = () => podmanOk(rt, ['exec', name, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']).stdout.trim();
      assert.is(limit(), String(128 * 1024 * 1024));
      const r = podmanOk(rt, ['update', '--memory', '64m', name]);
      assert.is(limit(), String(64 * 1024 * 1024));
      const up = callsFor(rt, id, 'update').pop();
      assert.ok(up && up.argv.some((a) => a.startsWith('--resources=')), explain(rt, 'update --resources=<file>'));
      assert.is(up.rc, 0);
      observe(rt, 'update', [r.status, r.stdout.trim() === id]);
    } finally {
      rmForce(rt, name);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: podman rm -f of a running container: gone, nothing left`, async () => {
    await setup();
    const name = newName(rt, 'rmf');
    const id = runDetached(rt, name, ['sleep', '1000']);
    await waitStatus(rt, name, 'running');
    const r = podmanOk(rt, ['rm', '-f', '-t', '0', name]);
    assert.is(r.stdout.trim(), name);
    const ps = podmanOk(rt, ['ps', '-a', '--format', '{{.Names}}']);
    assert.not.ok(ps.stdout.split('\n').includes(name));
    assert.ok(callsFor(rt, id, 'delete').every((c) => c.rc === 0), explain(rt, 'delete calls succeed'));
    await assertNoLeftovers(rt, id);
    observe(rt, 'rm -f', [r.status]);
  });

  test(`${rt}: a container that exits by itself is cleaned up by conmon's exit command (podman container cleanup): delete --force with no PATH succeeds`, async () => {
    await setup();
    const name = newName(rt, 'exit');
    const id = runDetached(rt, name, ['sh', '-c', 'exit 6']);
    try {
      await waitStatus(rt, name, 'exited');
      assert.is(inspect(rt, name, '{{.State.ExitCode}}'), '6');
      const end = Date.now() + 15000;
      let del;
      while (!(del = callsFor(rt, id, 'delete').find((c) => c.rc !== null))) {
        if (Date.now() > end) throw new Error(explain(rt, 'no delete call from podman container cleanup'));
        await L.delay(100);
      }
      assert.ok(del.argv.includes('--force'), explain(rt, 'delete --force'));
      assert.not.ok(del.env.some((e) => e.startsWith('PATH=')), explain(rt, 'called with no PATH (as conmon\'s exit command runs it)'));
      assert.is(del.rc, 0, explain(rt, 'delete --force without PATH'));
      await assertNoLeftovers(rt, id);
      observe(rt, 'cleanup', [del.rc]);
    } finally {
      rmForce(rt, name);
    }
  });

  test(`${rt}: a failing start (the image's entrypoint does not exist): podman shows the runtime's error, with JSON logs and with plain logs`, async () => {
    await setup();
    // runc: Error: runc: runc create failed: unable to start container process: exec: "/no/such/binary": stat
    // /no/such/binary: no such file or directory: OCI runtime attempted to invoke a command that was not found
    const cid = env.tmp('cid');
    const r = podman(rt, ['run', '--rm', '--cidfile', cid, ...runOpts(), L.IMAGES.broken]);
    assert.is(r.status, 127, explain(rt, show(r)));
    assert.match(r.stderr, new RegExp(`^Error: ${rt}: (${rt} create failed: )?unable to start container process: exec: "/no/such/binary": stat /no/such/binary: no such file or directory: OCI runtime attempted to invoke a command that was not found\\n$`), explain(rt, show(r)));
    const id = fs.readFileSync(cid, 'utf8').trim();
    const create = callsFor(rt, id, 'create')[0];
    assert.ok(create.argv.includes('--log-format=json'), 'runtime_supports_json: --log-format=json');
    assert.is(create.rc, 1);
    const msg = L.lastLogMsg(create.log);
    assert.ok(msg && r.stderr.includes(msg), explain(rt, `podman shows the msg of the runtime's JSON log (${msg})`));
    await assertNoLeftovers(rt, id);
    observe(rt, 'broken (json)', [r.status, r.stderr]);

    const r2 = pm.podman(['--runtime', env.plainWrappers[rt], 'run', '--rm', ...runOpts(), L.IMAGES.broken]);
    assert.is(r2.status, 127, explain(rt, show(r2)));
    // without JSON logs podman shows the runtime's stderr, a text log line: Error: <path>: time="..." level=error
    // msg="runc create failed: unable to start container process: exec: \"/no/such/binary\": stat ...": OCI runtime ...
    assert.match(r2.stderr, /^Error: \S+: time="[^"]+" level=error msg=".*exec: \\"\/no\/such\/binary\\": stat \/no\/such\/binary: no such file or directory": OCI runtime attempted to invoke a command that was not found\n$/, explain(rt, show(r2)));
    observe(rt, 'broken (plain)', [r2.status, r2.stderr.replace(env.plainWrappers[rt], '<path>').replace(/time="[^"]+"/, 'time=<t>')]);
  });

  test(`${rt}: a failing start (an rlimit above the hard limit, no CAP_SYS_RESOURCE): podman says "operation not permitted", exit 126`, async () => {
    await setup();
    if (!(pm.nofileHard < 1048576)) return; // only where the hard limit is lower
    const cid = env.tmp('cid');
    const r = podman(rt, ['run', '--rm', '--cidfile', cid, ...runOpts(), '--ulimit', 'nofile=1048576:1048576', L.IMAGES.busybox, 'true']);
    observe(rt, 'rlimit', [r.status, /operation not permitted/i.test(r.stderr), r.stderr.replace(/^.*: /, '')]);
    // runc: Error: runc: runc create failed: unable to start container process: error during container init:
    // error setting rlimits for ready process: error setting rlimit type 7: operation not permitted: OCI permission denied
    assert.match(r.stderr, /operation not permitted.*: OCI permission denied\n$/i, explain(rt, `the errno of the failed setrlimit is EPERM: ${show(r)}`));
    assert.is(r.status, 126, explain(rt, show(r)));
    await assertNoLeftovers(rt, fs.readFileSync(cid, 'utf8').trim());
  });
}

L.closingTests(test, { made: 'podman', through: 'podman', setup, calls: (rt) => env.calls(rt), explain, observed });

test.run();
