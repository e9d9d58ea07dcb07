'use strict';
// Docker (Debian's docker.io 20.10: dockerd, containerd-shim-runc-v2) driving
// tsrunc and runc as daemon.json `runtimes`, selected with `docker run
// --runtime`: run --rm, run -d + exec, run -it in a terminal (tmux), logs,
// stop, kill, pause/unpause, and a failing start whose error must reach
// docker's output. Every test runs once per runtime (E2E_CALLERS_RUNTIMES,
// default "tsrunc,runc"); the expected values are runc 1.1.5's, and the last
// test compares what the two runtimes showed.
//
// dockerd is private (lib.js: Docker): its own socket, data-root, exec-root
// and cgroup parent, on a private containerd (lib.js: Containerd), with no
// bridge, no iptables rules and ip_forward left alone. The runtimes are
// reached through logging wrappers, so a failure message lists every runtime
// call the shim made.
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const L = require('./lib');

const test = suite('docker');

let env;
let cd;
let dk;

const setup = L.once(async () => {
  const missing = L.missingTools(['dockerd', '/usr/bin/docker', 'containerd', 'containerd-shim-runc-v2', 'tmux']);
  if (missing.length) throw new Error(`not installed: ${missing.join(', ')} (apt-get install docker.io containerd tmux)`);
  env = new L.Env('docker');
  cd = new L.Containerd(env);
  dk = new L.Docker(env, cd);
  await cd.start();
  await dk.start();
  dk.loadImages();
});

L.cleanUpAfter(test, 'docker', () => env);

const observed = {};
function observe(rt, key, value) {
  const text = JSON.stringify(value)
    .replace(/\b[0-9a-f]{64}\b/g, '<id>')
    .replace(/\b[a-z]+-(tsrunc|runc)-[0-9a-f]{6}\b/g, '<name>')
    .replace(/(tsrunc|runc) create failed: /g, '');
  (observed[rt] = observed[rt] || {})[key] = text;
}

/**
 * docker's stderr without the lines that are about this host or docker's CLI, not the runtime: the
 * warning that ip_forward is off (the daemon does not turn it on here), and the CLI's "error waiting
 * for container: context canceled" that `docker run` prints at random after a failed start.
 */
function dockerStderr(s) {
  return s.split('\n').filter((l) => !/^WARNING: IPv4 forwarding is disabled/.test(l) && !/level=error msg="error waiting for container: context canceled"/.test(l)).join('\n');
}

const show = (r) => `exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

function explain(rt, msg) {
  const short = (t) => t.split(env.base).join('<tmp>');
  return short(`${msg}\nlast runtime calls (${rt}):\n${L.formatCalls(env.calls(rt).slice(-12))}\ndockerd log:\n${dk.logTail(12)}`);
}

/** docker ... with stderr cleaned (dockerStderr). */
function docker(args, opts) {
  const r = dk.docker(args, opts);
  return { ...r, stderr: dockerStderr(r.stderr) };
}

function dockerOk(rt, args, what) {
  const r = docker(args);
  assert.is(r.status, 0, explain(rt, `${what || `docker ${args.join(' ')}`}: ${show(r)}`));
  return r;
}

/** `docker run` options selecting runtime `rt`. */
function runOpts(rt) {
  return ['--runtime', dk.runtimeName(rt)];
}

function newName(rt, what) {
  return `${what}-${rt}-${L.rand()}`;
}

/** `docker run -d` of `cmd`; returns the container id. */
function runDetached(rt, name, cmd, extra = []) {
  return dockerOk(rt, ['run', '-d', '--name', name, ...runOpts(rt), ...extra, L.IMAGES.busybox, ...cmd]).stdout.trim();
}

function inspect(rt, name, format) {
  const r = docker(['inspect', '--format', format, name]);
  assert.is(r.status, 0, explain(rt, show(r)));
  return r.stdout.trim();
}

function waitStatus(rt, name, want, timeout = 15000) {
  return L.readUntil(() => inspect(rt, name, '{{.State.Status}}'), want, (s) => new Error(explain(rt, `${name}: status ${s}, expected ${want}`)), timeout);
}

const callsFor = (rt, id, sub) => env.callsFor(rt, id, sub);

/** The runtime's state dir of container `id`: the --root dockerd's shim passed (under dockerd's exec-root). */
function stateDirOf(rt, id) {
  const c = callsFor(rt, id).find((x) => x.argv.includes('--root'));
  if (!c) return null;
  const root = c.argv[c.argv.indexOf('--root') + 1];
  assert.ok(root.startsWith(dk.execRoot + path.sep), explain(rt, `the runtime's --root ${root} is under dockerd's exec-root`));
  return path.join(root, id);
}

/** What a removed container left behind: the runtime's state dir, cgroup dirs, processes, mounts of its bundle. */
async function assertNoLeftovers(rt, id) {
  const cg = `${dk.cgroupParent}/${id}`;
  const stateDir = stateDirOf(rt, id);
  const bundle = path.join(cd.state, 'io.containerd.runtime.v2.task', 'moby', id);
  const left = await L.leftUntilGone(() => [
    ...(stateDir && fs.existsSync(stateDir) ? [`runtime state dir ${stateDir}`] : []),
    ...L.cgroupDirs(cg).map((d) => `cgroup dir ${d}`),
    ...L.processesInCgroups([cg]).map((p) => `process ${p} in ${cg}`),
    ...h.mountsUnder(bundle).map((m) => `mount ${m}`),
  ]);
  assert.equal(left, [], explain(rt, `left behind by ${id}:\n  ${left.join('\n  ')}`));
}

function rmForce(name) {
  docker(['rm', '-f', name]);
}

/** Runs docker `args` in a tmux pane (100x30); resolves once the prompt "ctr# " shows. */
async function inPane(rt, args) {
  const rcFile = env.tmp('rc');
  const tm = env.ctx.tmux({ width: 100, height: 30 });
  await tm.waitFor(/^host\$ /m, 10000, 'the host shell prompt');
  tm.type(`${dk.dockerCommand(args)}; echo RC=$? > ${rcFile}`);
  await tm.waitFor(/^ctr# /m, 30000, 'the container shell prompt').catch((e) => {
    throw new Error(explain(rt, `${e.message}\npane:\n${tm.capture()}`));
  });
  const rc = async (timeout = 20000) => {
    const end = Date.now() + timeout;
    for (;;) {
      const t = fs.existsSync(rcFile) ? fs.readFileSync(rcFile, 'utf8') : '';
      if (/^RC=\d+\n$/.test(t)) return Number(t.slice(3));
      if (Date.now() > end) throw new Error(explain(rt, `docker did not exit; pane:\n${tm.capture()}`));
      await L.delay(50);
    }
  };
  return { tm, rc };
}

for (const rt of L.RUNTIMES) {
  test(`${rt}: docker run --rm --runtime: output and exit code of sh -c 'echo hi; exit 3'; create/start/delete as the shim calls them; nothing left`, async () => {
    await setup();
    const cid = env.tmp('cid');
    const r = docker(['run', '--rm', '--cidfile', cid, ...runOpts(rt), L.IMAGES.busybox, 'sh', '-c', 'echo hi; echo to-stderr >&2; exit 3']);
    assert.is(r.status, 3, explain(rt, show(r)));
    assert.is(r.stdout, 'hi\n');
    assert.is(r.stderr, 'to-stderr\n');
    const id = fs.readFileSync(cid, 'utf8').trim();
    const subs = callsFor(rt, id).map((c) => `${c.sub}:${c.rc}`);
    assert.equal(subs.slice(0, 2), ['create:0', 'start:0'], explain(rt, 'create then start'));
    assert.ok(subs.includes('delete:0'), explain(rt, 'delete succeeded'));
    const create = callsFor(rt, id, 'create')[0];
    assert.ok(create.argv.includes('--pid-file') && create.argv.includes('--bundle'), explain(rt, 'create --bundle --pid-file'));
    const config = JSON.parse(create.config);
    assert.is(config.linux.cgroupsPath, `${dk.cgroupParent}/${id}`, 'dockerd\'s cgroup parent');
    await assertNoLeftovers(rt, id);
    observe(rt, 'run --rm', [r.status, r.stdout, r.stderr, subs]);
  });

  test(`${rt}: docker run -d, then exec: output, exit code, -w, -e, -u; exec of a missing executable`, async () => {
    await setup();
    const name = newName(rt, 'exec');
    const id = runDetached(rt, name, ['sleep', '1000']);
    try {
      await waitStatus(rt, name, 'running');
      assert.is(inspect(rt, name, '{{.HostConfig.Runtime}}'), dk.runtimeName(rt));
      const r = docker(['exec', name, 'sh', '-c', 'echo out; echo err >&2; cat /proc/1/cmdline | tr "\\0" " "; echo; exit 5']);
      assert.is(r.status, 5, explain(rt, show(r)));
      assert.is(r.stdout, 'out\nsleep 1000 \n');
      assert.is(r.stderr, 'err\n');
      const r2 = dockerOk(rt, ['exec', '-w', '/tmp', '-e', 'GREETING=hello', '-u', 'nobody', name, 'sh', '-c', 'pwd; echo $GREETING; id']);
      assert.is(r2.stdout, '/tmp\nhello\nuid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n');
      const ex = callsFor(rt, id, 'exec');
      assert.is(ex.length, 2, explain(rt, 'the shim runs exec once per docker exec'));
      assert.ok(ex.every((c) => c.argv.includes('--process') && c.argv.includes('--detach') && c.rc === 0), explain(rt, 'exec --process --detach'));
      // runc: OCI runtime exec failed: exec failed: unable to start container process: exec: "/no/such":
      // stat /no/such: no such file or directory: unknown (on stdout, exit 126)
      const bad = docker(['exec', name, '/no/such']);
      assert.is(bad.status, 126, explain(rt, show(bad)));
      assert.is(bad.stdout, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "/no/such": stat /no/such: no such file or directory: unknown\r\n', explain(rt, show(bad)));
      const badCall = callsFor(rt, id, 'exec').pop();
      assert.is(badCall.rc, 255, explain(rt, 'the runtime\'s exec of a missing executable exits 255 as runc\'s does'));
      observe(rt, 'exec', [r.status, r.stdout, r.stderr, r2.stdout, bad.status, bad.stdout, bad.stderr, badCall.rc]);
    } finally {
      rmForce(name);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: docker run -it --rm in a terminal (tmux): /dev/pts/0, the pane's size, sh is PID 1, exit 3`, async () => {
    await setup();
    const cid = env.tmp('cid');
    const { tm, rc } = await inPane(rt, ['run', '-it', '--rm', '--cidfile', cid, ...runOpts(rt), '-e', 'PS1=ctr# ', L.IMAGES.busybox, 'sh']);
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

  test(`${rt}: docker logs: the container's stdout and stderr apart; inspect shows its exit code`, async () => {
    await setup();
    const name = newName(rt, 'logs');
    const id = runDetached(rt, name, ['sh', '-c', 'echo one; echo two >&2; echo three; exit 6']);
    try {
      const w = dockerOk(rt, ['wait', name]);
      assert.is(w.stdout, '6\n');
      assert.is(inspect(rt, name, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 6');
      const r = dockerOk(rt, ['logs', name]);
      assert.is(r.stdout, 'one\nthree\n');
      assert.is(r.stderr, 'two\n');
      observe(rt, 'logs', [w.stdout, r.stdout, r.stderr]);
    } finally {
      rmForce(name);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: docker stop: SIGTERM (trapped: exit 7), then SIGKILL after the timeout (137)`, async () => {
    await setup();
    const name = newName(rt, 'stop');
    const id = runDetached(rt, name, ['sh', '-c', 'trap "echo got TERM; exit 7" TERM; touch /tmp/ready; while :; do sleep 0.1; done']);
    const name2 = newName(rt, 'stop');
    const id2 = runDetached(rt, name2, ['sleep', '1000']);
    try {
      const end = Date.now() + 15000;
      while (docker(['exec', name, 'test', '-e', '/tmp/ready']).status !== 0) {
        if (Date.now() > end) throw new Error(explain(rt, 'the trap was not set'));
        await L.delay(100);
      }
      dockerOk(rt, ['stop', '-t', '10', name]);
      assert.is(inspect(rt, name, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 7');
      assert.is(dockerOk(rt, ['logs', name]).stdout, 'got TERM\n');
      const kill15 = callsFor(rt, id, 'kill');
      assert.ok(kill15.some((c) => c.argv.slice(-2).join(' ') === `${id} 15` && c.rc === 0), explain(rt, 'kill <id> 15'));

      const t0 = Date.now();
      const r = dockerOk(rt, ['stop', '-t', '1', name2]);
      assert.ok(Date.now() - t0 < 10000, 'stopped after the 1 s timeout');
      assert.is(inspect(rt, name2, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
      assert.ok(callsFor(rt, id2, 'kill').some((c) => c.argv.slice(-1)[0] === '9' && c.rc === 0), explain(rt, 'kill <id> 9'));
      observe(rt, 'stop', [r.stdout, r.stderr]);
    } finally {
      rmForce(name);
      rmForce(name2);
    }
    await assertNoLeftovers(rt, id);
    await assertNoLeftovers(rt, id2);
  });

  test(`${rt}: docker kill (SIGKILL: 137), kill -s TERM (trapped: 7), kill of a stopped container`, async () => {
    await setup();
    const name = newName(rt, 'kill');
    const id = runDetached(rt, name, ['sleep', '1000']);
    const name2 = newName(rt, 'kill');
    const id2 = runDetached(rt, name2, ['sh', '-c', 'trap "exit 7" TERM; touch /tmp/ready; while :; do sleep 0.1; done']);
    try {
      await waitStatus(rt, name, 'running');
      dockerOk(rt, ['kill', name]);
      await waitStatus(rt, name, 'exited');
      assert.is(inspect(rt, name, '{{.State.ExitCode}}'), '137');
      const again = docker(['kill', name]);
      assert.is(again.status, 1, show(again));
      assert.match(again.stderr, /is not running/);

      const end = Date.now() + 15000;
      while (docker(['exec', name2, 'test', '-e', '/tmp/ready']).status !== 0) {
        if (Date.now() > end) throw new Error(explain(rt, 'the trap was not set'));
        await L.delay(100);
      }
      dockerOk(rt, ['kill', '-s', 'TERM', name2]);
      await waitStatus(rt, name2, 'exited');
      assert.is(inspect(rt, name2, '{{.State.ExitCode}}'), '7');
      assert.ok(callsFor(rt, id2, 'kill').some((c) => c.argv.slice(-1)[0] === '15' && c.rc === 0), explain(rt, 'kill <id> 15'));
      observe(rt, 'kill', [again.status, again.stderr.replace(id, '<id>')]);
    } finally {
      rmForce(name);
      rmForce(name2);
    }
    await assertNoLeftovers(rt, id);
    await assertNoLeftovers(rt, id2);
  });

  test(`${rt}: docker pause / unpause: paused with a frozen cgroup, no exec while paused, running again`, async () => {
    await setup();
    const name = newName(rt, 'pause');
    const id = runDetached(rt, name, ['sleep', '1000']);
    try {
      await waitStatus(rt, name, 'running');
      dockerOk(rt, ['pause', name]);
      assert.is(inspect(rt, name, '{{.State.Status}}'), 'paused');
      const freezer = path.join('/sys/fs/cgroup/freezer', dk.cgroupParent, id, 'freezer.state');
      if (fs.existsSync(path.dirname(freezer))) assert.is(fs.readFileSync(freezer, 'utf8').trim(), 'FROZEN');
      const ex = docker(['exec', name, 'true']);
      assert.is(ex.status, 1, show(ex));
      assert.match(ex.stderr, /is paused, unpause the container before exec/);
      dockerOk(rt, ['unpause', name]);
      assert.is(inspect(rt, name, '{{.State.Status}}'), 'running');
      if (fs.existsSync(path.dirname(freezer))) assert.is(fs.readFileSync(freezer, 'utf8').trim(), 'THAWED');
      assert.is(dockerOk(rt, ['exec', name, 'echo', 'thawed']).stdout, 'thawed\n');
      assert.equal(callsFor(rt, id).filter((c) => c.sub === 'pause' || c.sub === 'resume').map((c) => `${c.sub}:${c.rc}`), ['pause:0', 'resume:0']);
      observe(rt, 'pause', [ex.status, ex.stderr.replace(name, '<name>')]);
    } finally {
      rmForce(name);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: a failing start (the image's entrypoint does not exist): docker shows the runtime's error, exit 127`, async () => {
    await setup();
    // runc: docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create
    // failed: unable to start container process: exec: "/no/such/binary": stat /no/such/binary: no such file or
    // directory: unknown.
    const cid = env.tmp('cid');
    const r = docker(['run', '--rm', '--cidfile', cid, ...runOpts(rt), L.IMAGES.broken]);
    assert.is(r.status, 127, explain(rt, show(r)));
    assert.match(r.stderr, new RegExp(`^docker: Error response from daemon: failed to create shim task: OCI runtime create failed: (${rt} create failed: )?unable to start container process: exec: "/no/such/binary": stat /no/such/binary: no such file or directory: unknown\\.\\n`), explain(rt, show(r)));
    const id = fs.readFileSync(cid, 'utf8').trim();
    const create = callsFor(rt, id, 'create')[0];
    assert.is(create.rc, 1, explain(rt, 'create fails with exit 1'));
    assert.ok(create.argv.includes('--log-format') && create.argv.includes('json'), explain(rt, 'the shim asks for JSON logs'));
    const msg = L.lastLogMsg(create.log);
    assert.ok(msg && r.stderr.includes(msg), explain(rt, `docker shows the msg of the runtime's JSON log (${msg})`));
    await assertNoLeftovers(rt, id);
    observe(rt, 'broken', [r.status, r.stderr.split('\n')[0]]);
  });
}

L.closingTests(test, { made: "dockerd's shim", through: 'docker', setup, calls: (rt) => env.calls(rt), explain, observed });

test.run();
