'use strict';
// containerd (1.6, containerd-shim-runc-v2) driving tsrunc and runc: ctr run /
// exec / ps / pause / resume / kill / delete / --tty, a failing start, and the
// CRI API (pod sandbox, container, ExecSync, UpdateContainerResources, stop,
// remove) through containerd's gRPC socket. Every test runs once per runtime
// (E2E_CALLERS_RUNTIMES, default "tsrunc,runc"); the expected values are
// runc 1.1.5's, and the last test compares what the two runtimes showed.
//
// A private containerd (lib.js: Containerd) runs for the whole file; the
// runtimes are reached through logging wrappers, so a failure message lists
// every runtime call containerd made (argv, exit code, output, --log).
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const L = require('./lib');

const test = suite('containerd');

let env;
let cd;
let cri;

/** Starts containerd and imports the images once; every test awaits it (a failure fails each test with the reason). */
const setup = L.once(async () => {
  const missing = L.missingTools(['containerd', 'ctr', 'containerd-shim-runc-v2', 'tmux']);
  if (missing.length) throw new Error(`not installed: ${missing.join(', ')} (apt-get install containerd tmux)`);
  env = new L.Env('containerd');
  cd = new L.Containerd(env);
  await cd.start();
  cd.importImages();
  cd.importImages('k8s.io');
});

test.after(() => {
  if (cri) cri.close();
  if (env) {
    const left = env.cleanup();
    if (left.length) console.error(`[e2e-callers] containerd: cleanup could not remove:\n  ${left.join('\n  ')}`);
  }
});

// what each runtime showed, compared at the end: observed[rt][key] = value
const observed = {};
function observe(rt, key, value) {
  // ids and runtime names differ by design: replace them
  const text = JSON.stringify(value)
    .replace(/\b[a-z]+-(tsrunc|runc)-[0-9a-f]{6}\b/g, '<id>')
    .replace(/\b[0-9a-f]{64}\b/g, '<id>')
    .replace(/(tsrunc|runc) create failed: /g, '')
    .replace(/ {2,}/g, ' ');
  (observed[rt] = observed[rt] || {})[key] = text;
}

const show = (r) => `exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Fails with the runtime calls containerd made, for context. */
function explain(rt, msg) {
  const short = (t) => t.split(env.base).join('<tmp>');
  return short(`${msg}\nlast runtime calls (${rt}):\n${L.formatCalls(env.calls(rt).slice(-12))}\ncontainerd log:\n${cd.logTail(12)}`);
}

function ctrOk(rt, args, what) {
  const r = cd.ctr(args);
  assert.is(r.status, 0, explain(rt, `${what || `ctr ${args.join(' ')}`}: ${show(r)}`));
  return r;
}

function newId(rt, what) {
  return `${what}-${rt}-${L.rand()}`;
}

/** ctr task ls as { id: { pid, status } }. */
function tasks() {
  const r = cd.ctr(['task', 'ls']);
  const out = {};
  for (const line of r.stdout.split('\n').slice(1)) {
    const [id, pid, status] = line.trim().split(/\s+/);
    if (id) out[id] = { pid: Number(pid), status };
  }
  return out;
}

async function waitTaskStatus(rt, id, status, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    const t = tasks()[id];
    if ((t ? t.status : null) === status) return t;
    if (Date.now() > end) throw new Error(explain(rt, `task ${id}: status ${t ? t.status : 'none'}, expected ${status}`));
    await L.delay(50);
  }
}

/** The rootfs of a ctr container as the host sees it (overlay mounted by the shim). */
/** Kills the task, waits until it stopped, deletes it and its container (test cleanup: never throws). */
async function removeTask(rt, id) {
  cd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
  await waitTaskStatus(rt, id, 'STOPPED').catch(() => {});
  cd.ctr(['task', 'delete', id]);
  cd.ctr(['containers', 'rm', id]);
}

function rootfsOf(id, ns = cd.namespace) {
  return path.join(cd.state, 'io.containerd.runtime.v2.task', ns, id, 'rootfs');
}

async function waitFile(p, timeout = 15000) {
  const end = Date.now() + timeout;
  while (!fs.existsSync(p)) {
    if (Date.now() > end) throw new Error(`${p} did not appear`);
    await L.delay(50);
  }
}

/** Runs ctr `args` in a fresh tmux pane (100x30); resolves once the container's prompt "ctr# " shows. */
async function inPane(rt, args) {
  const rcFile = env.tmp('rc');
  const tm = env.ctx.tmux({ width: 100, height: 30 });
  await tm.waitFor(/^host\$ /m, 10000, 'the host shell prompt');
  tm.type(`${cd.ctrCommand(args)}; echo RC=$? > ${rcFile}`);
  await tm.waitFor(/^ctr# /m, 30000, 'the container shell prompt').catch((e) => {
    throw new Error(explain(rt, e.message));
  });
  const rc = async (timeout = 20000) => {
    const end = Date.now() + timeout;
    for (;;) {
      const t = fs.existsSync(rcFile) ? fs.readFileSync(rcFile, 'utf8') : '';
      if (/^RC=\d+\n$/.test(t)) return Number(t.slice(3));
      if (Date.now() > end) throw new Error(explain(rt, `ctr did not exit; pane:\n${tm.capture()}`));
      await L.delay(50);
    }
  };
  return { tm, rc };
}

/** What a removed ctr container left behind: the runtime's state dir, cgroup dirs, processes, mounts. */
function leftovers(rt, id, ns = cd.namespace, cgroupRel = `/${ns}/${id}`) {
  const left = [];
  const stateDir = path.join(cd.runcRoots[rt], ns, id);
  if (fs.existsSync(stateDir)) left.push(`runtime state dir ${stateDir}`);
  for (const d of L.cgroupDirs(cgroupRel)) left.push(`cgroup dir ${d}`);
  for (const p of L.processesInCgroups([cgroupRel])) left.push(`process ${p} in ${cgroupRel}`);
  const taskDir = path.join(cd.state, 'io.containerd.runtime.v2.task', ns, id);
  for (const m of h.mountsUnder(taskDir)) left.push(`mount ${m}`);
  return left;
}

async function assertNoLeftovers(rt, id, ns, cgroupRel) {
  // the shim removes the bundle (and unmounts the rootfs) right after delete returns
  const left = await L.leftUntilGone(() => leftovers(rt, id, ns, cgroupRel), { step: 50 });
  assert.equal(left, [], explain(rt, `left behind by ${id}:\n  ${left.join('\n  ')}`));
}

const callsFor = (rt, id, sub) => env.callsFor(rt, id, sub);

for (const rt of L.RUNTIMES) {
  test(`${rt}: ctr run --rm: the output and exit code of sh -c 'echo hi; exit 3'; create/start/delete as the shim calls them; nothing left`, async () => {
    await setup();
    const id = newId(rt, 'rm');
    const r = cd.ctr(['run', '--rm', ...cd.runtimeArgs(rt), L.IMAGES.busybox, id, 'sh', '-c', 'echo hi; echo to-stderr >&2; exit 3']);
    assert.is(r.status, 3, explain(rt, show(r)));
    assert.is(r.stdout, 'hi\n');
    assert.is(r.stderr, 'to-stderr\n');
    const subs = callsFor(rt, id).map((c) => `${c.sub}:${c.rc}`);
    assert.equal(subs.slice(0, 2), ['create:0', 'start:0'], explain(rt, 'create then start'));
    assert.ok(subs.includes('delete:0'), explain(rt, 'delete succeeded'));
    const create = callsFor(rt, id, 'create')[0];
    assert.ok(create.argv.includes('--pid-file') && create.argv.includes('--bundle'), explain(rt, 'create flags'));
    assert.is(create.cwd, path.join(cd.state, 'io.containerd.runtime.v2.task', cd.namespace, id), 'cwd is the bundle');
    observe(rt, 'run --rm', { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: subs });
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: ctr run -d, then ctr task exec: output and exit code, cwd, the container's mount namespace; exec --process --detach`, async () => {
    await setup();
    const id = newId(rt, 'exec');
    ctrOk(rt, ['run', '-d', ...cd.runtimeArgs(rt), L.IMAGES.busybox, id, 'sleep', '1000']);
    try {
      await waitTaskStatus(rt, id, 'RUNNING');
      const r = cd.ctr(['task', 'exec', '--exec-id', 'x', '--fifo-dir', cd.fifoDir, id, 'sh', '-c', 'echo out; echo err >&2; cat /proc/1/cmdline | tr "\\0" " "; echo; exit 5']);
      assert.is(r.status, 5, explain(rt, show(r)));
      assert.is(r.stdout, 'out\nsleep 1000 \n');
      assert.is(r.stderr, 'err\n');
      const ex = callsFor(rt, id, 'exec');
      assert.is(ex.length, 1, explain(rt, 'one exec call'));
      assert.is(ex[0].rc, 0);
      assert.ok(ex[0].argv.includes('--detach') && ex[0].argv.includes('--process'), explain(rt, 'exec --process --detach'));
      // an exec in the container's environment: its mount namespace, the cwd asked for
      const r2 = cd.ctr(['task', 'exec', '--exec-id', 'y', '--fifo-dir', cd.fifoDir, '--cwd', '/tmp', id, 'sh', '-c', 'pwd; readlink /proc/1/ns/mnt; readlink /proc/self/ns/mnt']);
      assert.is(r2.status, 0, explain(rt, show(r2)));
      const [cwd, mnt1, mntSelf] = r2.stdout.trim().split('\n');
      assert.is(cwd, '/tmp');
      assert.is(mntSelf, mnt1, 'the exec joined the container mount namespace');
      observe(rt, 'exec', { r: [r.status, r.stdout, r.stderr], r2: [cwd, mntSelf === mnt1] });
    } finally {
      await removeTask(rt, id);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: ctr task ps lists the host PIDs of the init and of an exec'd process`, async () => {
    await setup();
    const id = newId(rt, 'ps');
    ctrOk(rt, ['run', '-d', ...cd.runtimeArgs(rt), L.IMAGES.busybox, id, 'sleep', '1000']);
    const bg = cd.ctrAsync(['task', 'exec', '--exec-id', 'bg', '--fifo-dir', cd.fifoDir, id, 'sleep', '999']);
    try {
      const init = (await waitTaskStatus(rt, id, 'RUNNING')).pid;
      const cgroupProcs = () => {
        const dir = L.cgroupDirs(`/${cd.namespace}/${id}`).find((d) => d.includes('/pids/')) || L.cgroupDirs(`/${cd.namespace}/${id}`)[0];
        return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
      };
      const cmdOf = (p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      const cmdOrGone = (p) => {
        try {
          return cmdOf(p);
        } catch {
          return '(gone)';
        }
      };
      // the exec'd process is in the cgroup before it has exec'd `sleep 999` (runc init, tsrunc's child): wait for the sleep
      const end = Date.now() + 15000;
      while (!cgroupProcs().some((p) => cmdOrGone(p) === 'sleep 999')) {
        if (Date.now() > end) throw new Error(explain(rt, `the exec'd sleep 999 did not start; in the cgroup: ${cgroupProcs().map((p) => `${p} ${cmdOrGone(p)}`).join(', ')}`));
        await L.delay(50);
      }
      const r = ctrOk(rt, ['task', 'ps', id]);
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[0], /^PID\s+INFO$/);
      const listed = lines.slice(1).map((l) => Number(l.trim().split(/\s+/)[0])).sort((a, b) => a - b);
      assert.equal(listed, cgroupProcs(), 'ctr task ps lists the processes of the container cgroup');
      assert.ok(listed.includes(init), 'the init is listed');
      const cmds = listed.map(cmdOf).sort();
      assert.equal(cmds, ['sleep 1000', 'sleep 999']);
      const ps = callsFor(rt, id, 'ps').pop();
      assert.ok(ps.argv.includes('--format') && ps.argv.includes('json'), explain(rt, 'ps --format json'));
      assert.equal(JSON.parse(ps.stdout).sort((a, b) => a - b), listed, 'ps prints a JSON array of host PIDs');
      observe(rt, 'ps', { header: lines[0], n: listed.length, cmds });
    } finally {
      cd.ctr(['task', 'kill', '--all', '-s', 'SIGKILL', id]);
      await waitTaskStatus(rt, id, 'STOPPED').catch(() => {});
      await bg.done;
      cd.ctr(['task', 'delete', id]);
      cd.ctr(['containers', 'rm', id]);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: ctr task pause / resume: PAUSED with a frozen cgroup, then RUNNING again`, async () => {
    await setup();
    const id = newId(rt, 'pause');
    ctrOk(rt, ['run', '-d', ...cd.runtimeArgs(rt), L.IMAGES.busybox, id, 'sleep', '1000']);
    try {
      await waitTaskStatus(rt, id, 'RUNNING');
      const freezer = path.join('/sys/fs/cgroup/freezer', cd.namespace, id, 'freezer.state');
      ctrOk(rt, ['task', 'pause', id]);
      assert.is(tasks()[id].status, 'PAUSED', explain(rt, 'after pause'));
      if (fs.existsSync(freezer)) assert.is(fs.readFileSync(freezer, 'utf8').trim(), 'FROZEN');
      const ex = cd.ctr(['task', 'exec', '--exec-id', 'p', '--fifo-dir', cd.fifoDir, id, 'true']);
      assert.is.not(ex.status, 0, 'no exec into a paused container');
      ctrOk(rt, ['task', 'resume', id]);
      assert.is(tasks()[id].status, 'RUNNING', explain(rt, 'after resume'));
      if (fs.existsSync(freezer)) assert.is(fs.readFileSync(freezer, 'utf8').trim(), 'THAWED');
      const r = ctrOk(rt, ['task', 'exec', '--exec-id', 'q', '--fifo-dir', cd.fifoDir, id, 'echo', 'thawed']);
      assert.is(r.stdout, 'thawed\n');
      assert.equal(callsFor(rt, id).filter((c) => c.sub === 'pause' || c.sub === 'resume').map((c) => `${c.sub}:${c.rc}`), ['pause:0', 'resume:0']);
      observe(rt, 'pause', { exec: ex.status !== 0 ? `fails: ${ex.stderr.replace(/[0-9a-f]{6}/g, 'X').trim()}` : 'ok' });
    } finally {
      await removeTask(rt, id);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: ctr task kill (SIGTERM, trapped: exit 7), kill --all -s SIGKILL, kill of a stopped task, task delete`, async () => {
    await setup();
    const id = newId(rt, 'kill');
    ctrOk(rt, ['run', '-d', ...cd.runtimeArgs(rt), L.IMAGES.busybox, id, 'sh', '-c',
      'trap "exit 7" TERM; touch /tmp/ready; while :; do sleep 0.1; done']);
    await waitFile(path.join(rootfsOf(id), 'tmp', 'ready'));
    ctrOk(rt, ['task', 'kill', id]);
    await waitTaskStatus(rt, id, 'STOPPED');
    const k = cd.ctr(['task', 'kill', id]);
    const del = cd.ctr(['task', 'delete', id]);
    assert.is(del.status, 0, explain(rt, show(del)));
    assert.match(del.stdout + del.stderr, /exit code 7|7/, 'task delete reports the exit status 7');
    const kill15 = callsFor(rt, id, 'kill')[0];
    assert.equal(kill15.argv.slice(-2), [id, '15'], explain(rt, 'kill <id> 15'));
    assert.is(kill15.rc, 0);
    ctrOk(rt, ['containers', 'rm', id]);
    await assertNoLeftovers(rt, id);
    observe(rt, 'kill TERM', { killStopped: [k.status, k.stderr.replace(/time="[^"]*" /g, '')], del: [del.status, del.stdout, del.stderr.replace(/time="[^"]*" /g, '')] });

    // --all with SIGKILL reaches the exec'd processes too
    const id2 = newId(rt, 'killall');
    ctrOk(rt, ['run', '-d', ...cd.runtimeArgs(rt), L.IMAGES.busybox, id2, 'sleep', '1000']);
    const bg = cd.ctrAsync(['task', 'exec', '--exec-id', 'bg', '--fifo-dir', cd.fifoDir, id2, 'sleep', '998']);
    try {
      await waitTaskStatus(rt, id2, 'RUNNING');
      const end = Date.now() + 15000;
      // in the cgroup is not enough: the exec'd process must have become `sleep 998`, the process the test says is killed
      const cmdOrGone = (p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        } catch {
          return '(gone)';
        }
      };
      const inCgroup = () => L.processesInCgroups([`/${cd.namespace}/${id2}`]);
      while (!inCgroup().some((p) => cmdOrGone(p) === 'sleep 998')) {
        if (Date.now() > end) throw new Error(explain(rt, `the exec'd sleep 998 did not start; in the cgroup: ${inCgroup().map((p) => `${p} ${cmdOrGone(p)}`).join(', ')}`));
        await L.delay(50);
      }
      ctrOk(rt, ['task', 'kill', '--all', '-s', 'SIGKILL', id2]);
      await waitTaskStatus(rt, id2, 'STOPPED');
      const bgr = await bg.done;
      assert.is(bgr.status, 137, `the exec'd sleep was killed: ${show(bgr)}`);
      const killAll = callsFor(rt, id2, 'kill').find((c) => c.argv.includes('--all'));
      assert.ok(killAll, explain(rt, 'kill --all call'));
      assert.equal(killAll.argv.slice(-2), [id2, '9']);
      assert.is(killAll.rc, 0, explain(rt, 'kill --all of a running container'));
      const del2 = cd.ctr(['task', 'delete', id2]);
      assert.is(del2.status, 0, explain(rt, show(del2)));
      observe(rt, 'kill --all', { bg: bgr.status, del: [del2.status, del2.stdout, del2.stderr.replace(/time="[^"]*" /g, '')] });
    } finally {
      cd.ctr(['task', 'kill', '--all', '-s', 'SIGKILL', id2]);
      await bg.done;
      cd.ctr(['task', 'delete', id2]);
      cd.ctr(['containers', 'rm', id2]);
    }
    await assertNoLeftovers(rt, id2);
  });

  test(`${rt}: ctr run --tty in a terminal (tmux): tty is /dev/pts/0, the pane's size, exit 3 is ctr's exit code`, async () => {
    await setup();
    const id = newId(rt, 'tty');
    const { tm, rc } = await inPane(rt, ['run', '--tty', '--rm', ...cd.runtimeArgs(rt), '--env', 'PS1=ctr# ', L.IMAGES.busybox, id, 'sh']);
    assert.is(await tm.cmd('tty'), '/dev/pts/0');
    assert.is(await tm.cmd('stty size'), '30 100', 'the window size of the pane');
    assert.is(await tm.cmd('cat /proc/1/comm'), 'sh');
    tm.type('exit 3');
    assert.is(await rc(), 3);
    const create = callsFor(rt, id, 'create')[0];
    assert.ok(create && create.argv.includes('--console-socket'), explain(rt, 'create --console-socket'));
    tm.kill();
    await assertNoLeftovers(rt, id);
    observe(rt, 'run --tty', 'RC=3');
  });

  test(`${rt}: ctr task exec --tty in a terminal (tmux): a shell on /dev/pts/0 beside the init, exit 4 is ctr's exit code`, async () => {
    await setup();
    const id = newId(rt, 'etty');
    ctrOk(rt, ['run', '-d', ...cd.runtimeArgs(rt), L.IMAGES.busybox, id, 'sleep', '1000']);
    try {
      await waitTaskStatus(rt, id, 'RUNNING');
      const { tm, rc } = await inPane(rt, ['task', 'exec', '--tty', '--exec-id', 'sh', '--fifo-dir', cd.fifoDir, id, 'env', 'PS1=ctr# ', 'sh']);
      assert.is(await tm.cmd('tty'), '/dev/pts/0');
      assert.is(await tm.cmd('cat /proc/1/cmdline | tr "\\0" " "; echo'), 'sleep 1000');
      assert.is(await tm.cmd('stty size'), '30 100');
      tm.type('exit 4');
      assert.is(await rc(), 4);
      const ex = callsFor(rt, id, 'exec').pop();
      assert.ok(ex && ex.argv.includes('--console-socket') && ex.argv.includes('--detach'), explain(rt, 'exec --console-socket --detach'));
      tm.kill();
      observe(rt, 'exec --tty', 'RC=4');
    } finally {
      await removeTask(rt, id);
    }
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: the container's cgroups: /<namespace>/<id> in every hierarchy, the v2 (unified) one of a hybrid host included`, async () => {
    await setup();
    const id = newId(rt, 'cg');
    const r = cd.ctr(['run', '--rm', ...cd.runtimeArgs(rt), L.IMAGES.busybox, id, 'cat', '/proc/self/cgroup']);
    assert.is(r.status, 0, explain(rt, show(r)));
    const want = `/${cd.namespace}/${id}`;
    const lines = r.stdout.trim().split('\n');
    observe(rt, 'cgroups', lines.map((l) => l.replace(want, '<path>')));
    const wrong = lines.filter((l) => l.split(':').slice(2).join(':') !== want);
    // runc 1.1.5 on a cgroup v1 hybrid host also puts the container in the unified hierarchy ("0::/<ns>/<id>")
    assert.equal(wrong, [], `every line of /proc/self/cgroup names ${want}:\n${r.stdout}`);
    await assertNoLeftovers(rt, id);
  });

  test(`${rt}: a failing start (the image's entrypoint does not exist): ctr shows the runtime's error, nothing is left`, async () => {
    await setup();
    const id = newId(rt, 'broken');
    const r = cd.ctr(['run', '--rm', ...cd.runtimeArgs(rt), L.IMAGES.broken, id]);
    assert.is(r.status, 1, explain(rt, show(r)));
    // runc: ctr: failed to create shim task: OCI runtime create failed: runc create failed: unable to start
    // container process: exec: "/no/such/binary": stat /no/such/binary: no such file or directory: unknown
    assert.match(r.stderr, /^ctr: failed to create shim task: OCI runtime create failed: /, explain(rt, show(r)));
    assert.match(r.stderr, /exec: "\/no\/such\/binary": stat \/no\/such\/binary: no such file or directory: unknown\n$/, explain(rt, show(r)));
    const create = callsFor(rt, id, 'create')[0];
    assert.is(create.rc, 1);
    const msg = L.lastLogMsg(create.log);
    assert.ok(msg && r.stderr.includes(msg), explain(rt, `the message of the runtime's --log (${msg}) is what ctr shows`));
    const left = cd.ctr(['containers', 'ls', '-q']).stdout.split('\n');
    assert.not.ok(left.includes(id), 'ctr removed the container');
    await assertNoLeftovers(rt, id);
    observe(rt, 'broken', r.stderr.replace(/runc create failed: |tsrunc create failed: /, ''));
  });

  test(`${rt}: CRI: pod sandbox, container, ExecSync, UpdateContainerResources, StopContainer, remove; runtime calls as runc answers them`, async () => {
    await setup();
    if (!cri) cri = cd.cri();
    const uid = L.rand(8);
    const podCgroup = `${cd.criCgroupParent}/pod${uid}`;
    const logDir = env.tmp('podlogs');
    fs.mkdirSync(logDir);
    const nsOpts = { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' };
    const sandboxConfig = {
      metadata: { name: `pod-${rt}`, uid, namespace: 'default', attempt: 0 },
      hostname: '', // a host-network pod has no UTS namespace, so no hostname (see the next test)
      log_directory: logDir,
      linux: { cgroup_parent: podCgroup, security_context: { namespace_options: nsOpts } },
    };
    const version = await cri.rt('Version', { version: 'v1' });
    assert.is(version.runtime_name, 'containerd');
    const { pod_sandbox_id: podId } = await cri.rt('RunPodSandbox', { config: sandboxConfig, runtime_handler: rt }).catch((e) => {
      throw new Error(explain(rt, e.message));
    });
    let containerId;
    let containerIdSeen;
    try {
      const ps = await cri.rt('PodSandboxStatus', { pod_sandbox_id: podId });
      assert.is(ps.status.state, 'SANDBOX_READY');
      assert.is(ps.status.runtime_handler, rt);
      ({ container_id: containerId } = await cri.rt('CreateContainer', {
        pod_sandbox_id: podId,
        sandbox_config: sandboxConfig,
        config: {
          metadata: { name: 'main', attempt: 0 },
          image: { image: L.IMAGES.busybox },
          command: ['sh', '-c', 'echo started; exec sleep 1000'],
          envs: [{ key: 'GREETING', value: 'hello' }],
          log_path: 'main.log',
          linux: { resources: { memory_limit_in_bytes: 128 * 1024 * 1024 }, security_context: { namespace_options: nsOpts } },
        },
      }));
      containerIdSeen = containerId;
      await cri.rt('StartContainer', { container_id: containerId }).catch((e) => {
        throw new Error(explain(rt, e.message));
      });
      let st = (await cri.rt('ContainerStatus', { container_id: containerId })).status;
      assert.is(st.state, 'CONTAINER_RUNNING', explain(rt, JSON.stringify(st)));

      const ex = await cri.rt('ExecSync', { container_id: containerId, cmd: ['sh', '-c', 'echo $GREETING; echo oops >&2; exit 4'], timeout: 20 });
      assert.is(ex.stdout.toString(), 'hello\n');
      assert.is(ex.stderr.toString(), 'oops\n');
      assert.is(ex.exit_code, 4);

      const cg = (sub, file) => `cat /sys/fs/cgroup/${sub}/${file}`;
      const before = await cri.rt('ExecSync', { container_id: containerId, cmd: ['sh', '-c', cg('memory', 'memory.limit_in_bytes')], timeout: 20 });
      assert.is(before.stdout.toString(), `${128 * 1024 * 1024}\n`, 'the memory limit at create');
      await cri.rt('UpdateContainerResources', {
        container_id: containerId,
        linux: { memory_limit_in_bytes: 64 * 1024 * 1024, cpu_shares: 512, cpu_period: 100000, cpu_quota: 50000 },
      }).catch((e) => {
        throw new Error(explain(rt, e.message));
      });
      const after = await cri.rt('ExecSync', {
        container_id: containerId,
        cmd: ['sh', '-c', `${cg('memory', 'memory.limit_in_bytes')}; ${cg('cpu', 'cpu.shares')}; ${cg('cpu', 'cpu.cfs_quota_us')}`],
        timeout: 20,
      });
      assert.is(after.stdout.toString(), `${64 * 1024 * 1024}\n512\n50000\n`, explain(rt, 'the limits after UpdateContainerResources'));
      const upd = env.calls(rt).filter((c) => c.sub === 'update').pop();
      assert.ok(upd && upd.argv.includes('--resources') && upd.argv.includes('-'), explain(rt, 'update --resources -'));
      assert.is(JSON.parse(upd.stdin).memory.limit, 64 * 1024 * 1024, 'LinuxResources JSON on stdin');

      await cri.rt('StopContainer', { container_id: containerId, timeout: 2 });
      st = (await cri.rt('ContainerStatus', { container_id: containerId })).status;
      assert.is(st.state, 'CONTAINER_EXITED');
      assert.is(st.exit_code, 137, 'sleep ignores SIGTERM: killed after the grace period');
      assert.is(fs.readFileSync(path.join(logDir, 'main.log'), 'utf8').split('\n')[0].replace(/^\S+ /, ''), 'stdout F started');
      await cri.rt('RemoveContainer', { container_id: containerId });
      containerId = null;
      await cri.rt('StopPodSandbox', { pod_sandbox_id: podId });
      await cri.rt('RemovePodSandbox', { pod_sandbox_id: podId });

      observe(rt, 'cri', { exec: [ex.stdout.toString(), ex.stderr.toString(), ex.exit_code], after: after.stdout.toString(), exit: st.exit_code });
    } finally {
      if (containerId) await cri.rt('RemoveContainer', { container_id: containerId }).catch(() => {});
      await cri.rt('StopPodSandbox', { pod_sandbox_id: podId }).catch(() => {});
      await cri.rt('RemovePodSandbox', { pod_sandbox_id: podId }).catch(() => {});
    }
    await assertNoLeftovers(rt, podId, 'k8s.io', `${podCgroup}/${podId}`);
    await assertNoLeftovers(rt, containerIdSeen, 'k8s.io', `${podCgroup}/${containerIdSeen}`);
    // every runtime call answered as runc answers it (kill --all of a stopped container: exit 0)
    const killAll = env.calls(rt).filter((c) => c.sub === 'kill' && c.argv.includes('--all'));
    assert.ok(killAll.length >= 1, explain(rt, 'CRI sends kill --all 9'));
    for (const c of killAll) {
      assert.is(c.rc, 0, explain(rt, `runc exits 0 for kill --all of a container that has stopped (its cgroup still exists); got ${c.rc}: ${c.argv.join(' ')}\n  stderr: ${c.stderr}`));
    }
  });

  test(`${rt}: CRI: a failing start (missing executable) and a refused sandbox (hostname without a UTS namespace) report the runtime's error`, async () => {
    await setup();
    if (!cri) cri = cd.cri();
    const uid = L.rand(8);
    const podCgroup = `${cd.criCgroupParent}/pod${uid}`;
    const nsOpts = { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' };
    const sandboxConfig = {
      metadata: { name: `bad-${rt}`, uid, namespace: 'default', attempt: 0 },
      hostname: 'has-a-name',
      log_directory: env.tmp('podlogs'),
      linux: { cgroup_parent: podCgroup, security_context: { namespace_options: nsOpts } },
    };
    fs.mkdirSync(sandboxConfig.log_directory);
    // runc: "failed to create containerd task: failed to create shim task: OCI runtime create failed:
    // runc create failed: unable to set hostname without a private UTS namespace: unknown"
    const err = await cri.rt('RunPodSandbox', { config: sandboxConfig, runtime_handler: rt }).then(() => null, (e) => e);
    assert.ok(err, explain(rt, 'RunPodSandbox with a hostname and host network must fail'));
    assert.match(err.details, /^failed to create containerd task: failed to create shim task: OCI runtime create failed: .*hostname.*UTS namespace/i, err.details);
    observe(rt, 'cri hostname', 'refused');

    sandboxConfig.hostname = '';
    sandboxConfig.metadata.attempt = 1;
    const { pod_sandbox_id: podId } = await cri.rt('RunPodSandbox', { config: sandboxConfig, runtime_handler: rt });
    try {
      const { container_id: cid } = await cri.rt('CreateContainer', {
        pod_sandbox_id: podId,
        sandbox_config: sandboxConfig,
        config: { metadata: { name: 'broken' }, image: { image: L.IMAGES.broken }, log_path: 'broken.log', linux: { security_context: { namespace_options: nsOpts } } },
      });
      const e2 = await cri.rt('StartContainer', { container_id: cid }).then(() => null, (e) => e);
      assert.ok(e2, 'StartContainer of a missing executable fails');
      // runc: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed:
      // unable to start container process: exec: "/no/such/binary": stat /no/such/binary: no such file or directory: unknown
      assert.match(e2.details, /OCI runtime create failed: .*exec: "\/no\/such\/binary": stat \/no\/such\/binary: no such file or directory: unknown$/, explain(rt, e2.details));
      await cri.rt('RemoveContainer', { container_id: cid });
      await assertNoLeftovers(rt, cid, 'k8s.io', `${podCgroup}/${cid}`);
      observe(rt, 'cri broken', e2.details.replace(/runc create failed: |tsrunc create failed: /, ''));
    } finally {
      await cri.rt('StopPodSandbox', { pod_sandbox_id: podId }).catch(() => {});
      await cri.rt('RemovePodSandbox', { pod_sandbox_id: podId }).catch(() => {});
    }
    await assertNoLeftovers(rt, podId, 'k8s.io', `${podCgroup}/${podId}`);
  });
}

L.closingTests(test, { made: 'containerd', through: 'containerd', setup, calls: (rt) => env.calls(rt), explain, observed });

test.run();
