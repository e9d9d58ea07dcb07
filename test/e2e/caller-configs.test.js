'use strict';
// Real config.json files captured from containerd (CRI and ctr) and podman
// (/work/shared/fixtures/caller-configs), run the way those callers run a
// runtime (see /work/shared/notes/callers.md): the same global flags, cwd and
// environment, then create, start, state, kill, delete.
//
// Adapted to this machine only where they cannot work as captured:
//  - bind-mount sources (under /var/lib/containerd, /run/containers, ...) are
//    replaced by temp files/dirs;
//  - an absolute root.path (podman's overlay "merged" dir) is replaced by the
//    bundle's rootfs; a relative one ("rootfs") is kept;
//  - namespace paths (/proc/2248/ns/ipc, the CRI sandbox's) point to a helper
//    `unshare --ipc --uts --net sleep` process;
//  - the last component of linux.cgroupsPath gets a unique suffix, so two runs
//    of the suite on one host cannot collide. The cgroup dirs the runtime
//    makes must be gone after delete; parents that did not exist before the
//    test (/kubepods/podtest, /default, /libpod_parent) are removed by cleanup.
// Terminal configs get a --console-socket receiver (python3, SCM_RIGHTS), as
// containerd's shim and conmon do.
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');

const FIXTURES = require('../lib/shared').shared('fixtures/caller-configs');
const test = suite('caller-configs');
const ctx = h.createContext('callers');
h.install(test, ctx);

const FILE_DESTINATIONS = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/run/.containerenv']);
const NS_FLAG = { ipc: '--ipc', uts: '--uts', network: '--net', mount: '--mount', cgroup: '--cgroup' };
const NS_FILE = { ipc: 'ipc', uts: 'uts', network: 'net', mount: 'mnt', cgroup: 'cgroup', pid: 'pid', user: 'user' };

const ok = (r, what) => assert.is(r.status, 0, `${what}: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

/** A helper process in new namespaces of `types`, standing in for the CRI sandbox's pause process. */
async function nsHolder(types) {
  const flags = types.map((t) => {
    if (!NS_FLAG[t]) throw new Error(`cannot make a ${t} namespace holder`);
    return NS_FLAG[t];
  });
  const child = ctx.spawnHelper('unshare', [...flags, 'sleep', '1000']);
  const end = Date.now() + 10000;
  for (;;) {
    const comm = (() => {
      try {
        return fs.readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    })();
    const differs = types.every((t) => {
      try {
        return fs.readlinkSync(`/proc/${child.pid}/ns/${NS_FILE[t]}`) !== fs.readlinkSync(`/proc/self/ns/${NS_FILE[t]}`);
      } catch {
        return false;
      }
    });
    if (comm === 'sleep' && differs) return child.pid;
    if (Date.now() > end) throw new Error('the namespace holder did not start');
    await h.delay(20);
  }
}

/** Makes a bundle from a fixture, adapted to this machine (see the header). */
async function fixtureBundle(file) {
  const orig = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));
  const b = ctx.makeBundle({ config: orig });
  const c = JSON.parse(JSON.stringify(orig));
  if (path.isAbsolute(c.root.path)) c.root.path = b.rootfs;
  const srcDir = path.join(ctx.base, `srcs-${path.basename(b.dir)}`);
  fs.mkdirSync(srcDir);
  c.mounts.forEach((m, i) => {
    const isBind = m.type === 'bind' || (m.options || []).some((o) => o === 'bind' || o === 'rbind');
    if (!isBind) return;
    const src = path.join(srcDir, `${i}-${path.basename(m.destination)}`);
    if (FILE_DESTINATIONS.has(m.destination)) fs.writeFileSync(src, `${m.destination} from the test\n`);
    else fs.mkdirSync(src);
    m.source = src;
  });
  const joined = (c.linux.namespaces || []).filter((n) => n.path);
  let holder;
  if (joined.length) {
    holder = await nsHolder(joined.map((n) => n.type));
    for (const n of joined) n.path = `/proc/${holder}/ns/${NS_FILE[n.type]}`;
  }
  if (c.linux.cgroupsPath) c.linux.cgroupsPath = `${c.linux.cgroupsPath}-e2e${h.rand()}`;
  ctx.writeConfig(b, c);
  return { b, c, holder };
}

/** The cgroup path of `pid` in the hierarchy of `controller` (v1), or the v2 path. */
function cgroupOf(pid, controller) {
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, ctrls, p] = line.split(':');
    if (ctrls !== undefined && ctrls.split(',').includes(controller)) return p;
  }
  return undefined;
}

/** Every directory of an absolute cgroupsPath (parents first) in every hierarchy. */
function cgroupChain(cgroupsPath) {
  const out = [];
  const parts = cgroupsPath.split('/').filter(Boolean);
  for (const root of h.cgroupHierarchies()) {
    for (let i = 1; i <= parts.length; i++) out.push(path.join(root, ...parts.slice(0, i)));
  }
  return out;
}

const subdirs = (d) => {
  try {
    return fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
};

const CALLERS = {
  // containerd-shim-runc-v2: global flags on every call, cwd = bundle
  containerd: (b) => ({
    global: ['--log', path.join(b.dir, 'log.json'), '--log-format', 'json'],
    pidFile: path.join(b.dir, 'init.pid'),
    cwd: b.dir,
    env: process.env,
    cleanupEnv: process.env,
  }),
  // conmon/podman: --log-format=json --log <userdata>/oci-log, cwd elsewhere,
  // _OCI_SYNCPIPE/_OCI_STARTPIPE set but not open, cleanup without PATH
  podman: (b) => {
    const env = { ...process.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' };
    const cleanupEnv = { ...process.env };
    delete cleanupEnv.PATH;
    return {
      global: ['--log-format=json', '--log', path.join(b.dir, 'oci-log')],
      pidFile: path.join(b.dir, 'pidfile'),
      cwd: ctx.base,
      env,
      cleanupEnv,
    };
  },
};

const fixtures = fs.existsSync(FIXTURES) ? fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort() : [];

test('the fixtures are there', () => {
  assert.ok(fixtures.length >= 6, `caller configs in ${FIXTURES}: ${fixtures.join(', ')}`);
});

for (const file of fixtures) {
  const caller = file.startsWith('podman') ? 'podman' : 'containerd';
  test(`${file}: create, start, state, kill, delete as ${caller} does`, async () => {
    const { b, c, holder } = await fixtureBundle(file);
    const call = CALLERS[caller](b);
    const id = ctx.id(file.replace(/\.json$/, '').replace(/^containerd-/, 'ctd-'));
    const rt = (args, opts = {}) => ctx.rt([...call.global, ...args], { cwd: call.cwd, env: call.env, ...opts });
    const cgp = c.linux.cgroupsPath;
    const tty = !!c.process.terminal;
    const madeByTest = cgp ? cgroupChain(cgp).filter((d) => !fs.existsSync(d)) : [];

    let receiver;
    const createArgs = ['create', '--bundle', b.dir, '--pid-file', call.pidFile];
    if (tty) {
      receiver = ctx.consoleReceiver({ rows: 24, cols: 80 });
      await receiver.listening();
      createArgs.push('--console-socket', receiver.socket);
    }
    let r = rt([...createArgs, id]);
    ok(r, 'create');
    assert.is(r.stdout, '');
    const pidText = fs.readFileSync(call.pidFile, 'utf8');
    assert.match(pidText, /^[1-9]\d*$/, `pid file ${JSON.stringify(pidText)}`);
    const pid = Number(pidText);

    let s = ctx.state(id);
    assert.is(s.status, 'created');
    assert.is(s.pid, pid);
    assert.is(s.bundle, b.dir);
    assert.is(s.rootfs, b.rootfs);
    if (c.annotations) assert.equal(s.annotations, c.annotations);

    // before start: namespaces, hostname, cgroup, environment are in place
    for (const n of c.linux.namespaces) {
      const own = fs.readlinkSync(`/proc/self/ns/${NS_FILE[n.type]}`);
      const its = fs.readlinkSync(`/proc/${pid}/ns/${NS_FILE[n.type]}`);
      if (n.path) assert.is(its, fs.readlinkSync(`/proc/${holder}/ns/${NS_FILE[n.type]}`), `joined ${n.type} namespace`);
      else assert.is.not(its, own, `new ${n.type} namespace`);
    }
    if (c.hostname) {
      const hn = require('child_process').spawnSync('nsenter', ['-t', String(pid), '-u', 'hostname'], { encoding: 'utf8' });
      assert.is(hn.stdout.trim(), c.hostname, 'hostname');
    }
    if (cgp) {
      for (const ctl of ['pids', 'memory', 'devices']) {
        const p = cgroupOf(pid, ctl);
        if (p !== undefined) assert.ok(p === cgp || p.endsWith(cgp), `${ctl} cgroup ${p} is ${cgp}`);
      }
    }

    if (tty) {
      await receiver.ready();
      assert.match(receiver.meta(), /^payload=\/dev\/ptmx\nfds=1\n$/, `console socket message: ${receiver.meta()}`);
    }

    r = rt(['start', id]);
    ok(r, 'start');
    assert.is(r.stdout, '');

    if (tty) {
      // `sh -c 'tty; stty size; [echo TERM=$TERM;] exit 3'`: reads the pty, exits
      await receiver.done(15000);
      const out = receiver.output().replace(/\r/g, '');
      assert.match(out, /^\/dev\/pts\/0\n24 80\n/, `terminal output: ${JSON.stringify(out)}`);
      if (c.process.args.join(' ').includes('TERM')) assert.match(out, /TERM=xterm\n/);
      s = await ctx.waitStatus(id, 'stopped');
    } else {
      s = ctx.state(id);
      assert.is(s.status, 'running');
      assert.is(s.pid, pid);
      assert.is(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), c.process.args.join('\0') + '\0');
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      for (const e of c.process.env) assert.ok(environ.includes(e), `${e} in the environment`);
      for (const rl of c.process.rlimits || []) {
        const limits = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
        const names = { RLIMIT_NOFILE: 'Max open files', RLIMIT_NPROC: 'Max processes' };
        if (!names[rl.type]) continue;
        const line = limits.split('\n').find((l) => l.startsWith(names[rl.type]));
        assert.match(line, new RegExp(`^${names[rl.type]}\\s+${rl.soft}\\s+${rl.hard}\\s`), rl.type);
      }
      // the caller's `kill <id> 9`
      r = rt(['kill', id, '9']);
      ok(r, 'kill 9');
      s = await ctx.waitStatus(id, 'stopped');
    }
    assert.is(s.pid, 0);
    // a stopped container: kill says "container not running" (the shim maps it to "process already finished")
    r = rt(['kill', id, '9']);
    assert.is(r.status, 1);
    assert.match(r.stdout + r.stderr, /container not running/);

    if (caller === 'containerd') {
      ok(rt(['delete', id]), 'delete');
      ok(rt(['delete', '--force', id]), 'delete --force of a deleted container');
    } else {
      ok(rt(['delete', '--force', id], { env: call.cleanupEnv }), 'delete --force without PATH');
    }
    ctx.leftovers({ id, bundle: b, cgroupsPath: cgp });
    if (cgp) {
      assert.equal(h.cgroupDirsAt(cgp), [], 'the cgroup dirs of cgroupsPath are gone');
      // cleanup removes the parents the runtime had to make; only another user could keep one
      const left = ctx.cleanup();
      assert.equal(left, [], 'cleanup');
      for (const d of madeByTest) {
        assert.ok(!fs.existsSync(d) || subdirs(d).length > 0, `cgroup dir ${d} removed by cleanup`);
      }
    }
  });
}

test.run();
