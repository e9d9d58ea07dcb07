'use strict';
// --systemd-cgroup as runc answers it: a malformed linux.cgroupsPath, a bad
// slice or annotation, and (where systemd is not PID 1, as on the CI host)
// systemd not running are errors with runc's message that leave nothing
// behind. Where systemd runs, on cgroup v2 or v1 hybrid (the vm suite's
// systemd guests), the driver end to end: the transient scope and its properties, the cgroup
// files, update, pause, exec, events, delete and a create killed midway; each
// shown beside runc's for the same container when runc is there.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const units = require('../lib/units');
const { stopUnit } = units;

const test = suite('systemd');
const ctx = h.createContext('systemd');
h.install(test, ctx);

const SYSTEMD_RUNS = fs.existsSync('/run/systemd/system');
const V2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
const DRIVER = SYSTEMD_RUNS;
const NO_DRIVER = 'needs systemd as PID 1 (the vm suite\'s systemd guests run it, on cgroup v2 and v1 hybrid)';
const RUNC = spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim();

// what each cgroup version shows of RESOURCES: unit properties, and files as [hierarchy, file] (v2: hierarchy '')
const SHOWN = V2
  ? ['ActiveState', 'Slice', 'Delegate', 'MemoryMax', 'MemoryLow', 'MemorySwapMax', 'CPUWeight', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec', 'AllowedCPUs', 'TasksMax', 'IOWeight', 'DevicePolicy', 'TimeoutStopUSec']
  : ['ActiveState', 'Slice', 'Delegate', 'MemoryLimit', 'CPUShares', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec', 'AllowedCPUs', 'TasksMax', 'BlockIOWeight', 'DevicePolicy', 'TimeoutStopUSec'];
const FILES = V2
  ? [['', 'memory.max'], ['', 'memory.low'], ['', 'memory.swap.max'], ['', 'cpu.weight'], ['', 'cpu.max'], ['', 'cpuset.cpus'], ['', 'pids.max'], ['', 'io.weight']]
  : [['memory', 'memory.limit_in_bytes'], ['memory', 'memory.soft_limit_in_bytes'], ['memory', 'memory.memsw.limit_in_bytes'], ['cpu', 'cpu.shares'], ['cpu', 'cpu.cfs_quota_us'],
    ['cpu', 'cpu.cfs_period_us'], ['cpuset', 'cpuset.cpus'], ['pids', 'pids.max'], ['blkio', 'blkio.weight'], ['devices', 'devices.list']];
const EXPECTED_PROPS = V2
  ? { ActiveState: 'active', Slice: 'system.slice', Delegate: 'yes', MemoryMax: '67108864', MemoryLow: '33554432', MemorySwapMax: '67108864', CPUWeight: '20', CPUQuotaPerSecUSec: '200ms', TasksMax: '40', AllowedCPUs: '0', DevicePolicy: 'strict', TimeoutStopUSec: '7s' }
  : { ActiveState: 'active', Slice: 'system.slice', Delegate: 'yes', MemoryLimit: '67108864', CPUShares: '512', CPUQuotaPerSecUSec: '200ms', TasksMax: '40', AllowedCPUs: '0', DevicePolicy: 'strict', TimeoutStopUSec: '7s' };
const EXPECTED_FILES = V2
  ? { 'memory.max': '67108864', 'memory.low': '33554432', 'memory.swap.max': '67108864', 'cpu.weight': '20', 'cpu.max': '20000 100000', 'cpuset.cpus': '0', 'pids.max': '40' }
  : { 'memory.limit_in_bytes': '67108864', 'memory.soft_limit_in_bytes': '33554432', 'cpu.shares': '512', 'cpu.cfs_quota_us': '20000', 'cpu.cfs_period_us': '100000', 'cpuset.cpus': '0', 'pids.max': '40' };

/** The container's directory in the hierarchy of `controller` ('' on v2). */
function hierarchyDir(controller) {
  if (V2) return '/sys/fs/cgroup';
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep > 0 && f[sep + 1] === 'cgroup' && f[sep + 3].split(',').includes(controller)) return f[4];
  }
  return `/sys/fs/cgroup/${controller}`;
}

/** The cgroup of `pid` in the memory hierarchy (v1) or the unified one. */
function cgroupOf(pid) {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const line = V2 ? lines.find((l) => l.startsWith('0::')) : lines.find((l) => l.split(':')[1].split(',').includes('memory'));
  return line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

/** `systemctl show UNIT -p ...` as an object (LoadState not-found when there is no such unit). */
const unitShow = (unit, props = SHOWN) => units.unitShow(unit, props);

const unitGone = (unit) => unitShow(unit, []).LoadState === 'not-found';
/** The scope's directory in the hierarchy of `controller` (v2: the one directory). */
const scopeDir = (unit, controller = 'memory') => path.join(hierarchyDir(controller), 'system.slice', unit);
const readFile = (dir, f) => {
  try {
    return fs.readFileSync(path.join(dir, f), 'utf8').trim().split('\n').join(' | ');
  } catch {
    return '(none)';
  }
};
/** FILES as { file: value } for `unit`. */
const filesOf = (unit) => Object.fromEntries(FILES.map(([c, f]) => [f, readFile(scopeDir(unit, c || 'memory'), f)]));


const RESOURCES = {
  memory: { limit: 67108864, reservation: 33554432, swap: 134217728 },
  cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0' },
  pids: { limit: 40 },
  blockIO: { weight: 300 },
};

/** A detached `sleep` under the systemd driver with every resource set; returns what to check. */
function runWithDriver(rt, prefix, id, extraEdit) {
  const unit = `${prefix}-${id}.scope`;
  const b = ctx.makeBundle({
    args: ['sleep', '1000'],
    edit: (c) => {
      c.linux.cgroupsPath = `system.slice:${prefix}:${id}`;
      c.linux.resources = { ...c.linux.resources, ...JSON.parse(JSON.stringify(RESOURCES)) };
      c.annotations = { 'org.systemd.property.TimeoutStopSec': '7' };
      if (extraEdit) extraEdit(c);
    },
  });
  const r = rt(['--systemd-cgroup', 'run', '-d', '--bundle', b.dir, id]);
  assert.is(r.status, 0, r.stderr);
  return { b, unit, dir: scopeDir(unit), files: () => filesOf(unit) };
}

function refused(edit, message) {
  const b = ctx.makeBundle({ args: ['true'], edit });
  const id = ctx.id('sd');
  const r = ctx.rt(['--systemd-cgroup', 'run', '--bundle', b.dir, id]);
  assert.is(r.status, 1, `exit 1: ${r.stderr}`);
  const msg = h.errorMessage(r.stderr);
  if (message instanceof RegExp) assert.match(msg, message);
  else assert.ok(msg.endsWith(message), `"${msg}" ends with "${message}"`);
  ctx.leftovers({ id, bundle: b });
}

test('a cgroupsPath not of the form slice:prefix:name', () => {
  for (const p of ['bad', '/abs/path', 'a:b', 'a:b:c:d']) {
    refused((c) => { c.linux.cgroupsPath = p; }, `expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "${p}" instead`);
  }
});

test('a slice name systemd would refuse', () => {
  if (h.IS_RUNC) return skip('runc 1.1.5 checks the slice only once systemd runs');
  for (const s of ['foo', 'a--b.slice', '-a.slice', 'a/b.slice', '.slice']) {
    refused((c) => { c.linux.cgroupsPath = `${s}:p:n`; }, `invalid slice name: ${s}`);
  }
});

test('an org.systemd.property annotation runc refuses', () => {
  refused((c) => { c.annotations = { 'org.systemd.property.A1': 'true' }; }, 'annotation org.systemd.property.A1 name incorrect: too short');
  refused((c) => { c.annotations = { 'org.systemd.property.Foo_Bar': 'true' }; }, /annotation org\.systemd\.property\.Foo_Bar name incorrect: contains non-alphabetic character/);
  refused((c) => { c.annotations = { 'org.systemd.property.TimeoutStopSec': "'soon'" }; }, /annotation org\.systemd\.property\.TimeoutStopSec='soon' value parse error/);
});

test('systemd not running: runc\'s error, nothing made', () => {
  if (SYSTEMD_RUNS) return skip('systemd runs on this host (the vm suite\'s systemd guest covers the driver)');
  refused((c) => { c.linux.cgroupsPath = 'system.slice:tsrunc-test:sd1'; }, 'systemd not running on this host, cannot use systemd cgroups manager');
  refused(null, 'systemd not running on this host, cannot use systemd cgroups manager');
});

function driverTest(name, fn) {
  test(name, async () => {
    if (!DRIVER) return skip(NO_DRIVER);
    return fn();
  });
}

driverTest('run -d: a transient scope holds the init; resources are unit properties and cgroup files; delete removes the unit', () => {
  const id = ctx.id('sdrun');
  const { b, unit, dir, files: filesNow } = runWithDriver((a) => ctx.rt(a), h.IS_RUNC ? 'runc-test' : 'tsrunc-test', id);
  try {
    const pid = ctx.state(id).pid;
    assert.is(cgroupOf(pid), `/system.slice/${unit}`, 'the init is in the scope');
    if (!V2) {
      // every v1 hierarchy, those systemd does not manage too
      for (const l of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) assert.ok(l.endsWith(`/system.slice/${unit}`), l);
    }
    const props = unitShow(unit);
    const files = filesNow();
    assert.equal(Object.fromEntries(Object.keys(EXPECTED_PROPS).map((k) => [k, props[k]])), EXPECTED_PROPS);
    assert.equal(Object.fromEntries(Object.keys(EXPECTED_FILES).map((k) => [k, files[k]])), EXPECTED_FILES);
    // runc beside it, for the same config (for the record, and for what differs)
    if (!h.IS_RUNC && RUNC) {
      const rid = ctx.id('sdrunc');
      const asRunc = (a) => {
        const saved = ctx.runtime;
        ctx.runtime = RUNC;
        try {
          return ctx.rt(a);
        } finally {
          ctx.runtime = saved;
        }
      };
      const runc = runWithDriver(asRunc, 'runc-test', rid);
      try {
        const rp = unitShow(runc.unit);
        const rfiles = runc.files();
        const rows = [...SHOWN.map((p) => [p, props[p], rp[p]]), ...FILES.map(([, f]) => [f, files[f], rfiles[f]])];
        console.log(`\n[systemd] cgroup ${V2 ? 'v2' : 'v1 hybrid'}: ${unit} (tsrunc) beside ${runc.unit} (runc 1.1.5):\n${rows.map(([k, t, r]) => `  ${k.padEnd(20)} ${String(t).padEnd(24)} ${r}${t === r ? '' : '   <- differs'}`).join('\n')}`);
      } finally {
        asRunc(['delete', '--force', rid]);
        stopUnit(runc.unit);
      }
    }
    assert.is(ctx.rt(['kill', id, 'KILL']).status, 0);
    const end = Date.now() + 10000;
    while (ctx.state(id).status !== 'stopped' && Date.now() < end) h.sleepMs(20);
    const d = ctx.rt(['delete', id]);
    assert.is(d.status, 0, d.stderr);
    assert.ok(unitGone(unit), `${unit} is gone: ${JSON.stringify(unitShow(unit, ['ActiveState']))}`);
    for (const c of V2 ? [''] : ['memory', 'cpu', 'cpuset', 'pids', 'blkio', 'devices', 'freezer', 'net_cls', 'perf_event']) {
      const d = c ? scopeDir(unit, c) : dir;
      assert.not.ok(fs.existsSync(d), `${d} is gone`);
    }
    ctx.leftovers({ id, bundle: b });
  } finally {
    stopUnit(unit);
  }
});

driverTest('update changes the unit and the files; pause, resume, exec, ps and events --stats work on the scope', () => {
  const id = ctx.id('sdupd');
  const { unit, dir } = runWithDriver((a) => ctx.rt(a), h.IS_RUNC ? 'runc-test' : 'tsrunc-test', id);
  try {
    let r = ctx.rt(['update', '--memory', '104857600', '--memory-swap', '209715200', '--pids-limit', '50', '--cpu-quota', '30000', id]);
    assert.is(r.status, 0, r.stderr);
    const p = unitShow(unit);
    const f = filesOf(unit);
    if (V2) {
      assert.equal([p.MemoryMax, p.TasksMax, p.CPUQuotaPerSecUSec, p.DevicePolicy], ['104857600', '50', '300ms', 'strict']);
      assert.equal([f['memory.max'], f['pids.max'], f['cpu.max']], ['104857600', '50', '30000 100000']);
    } else {
      assert.equal([p.MemoryLimit, p.TasksMax, p.CPUQuotaPerSecUSec, p.DevicePolicy], ['104857600', '50', '300ms', 'strict']);
      assert.equal([f['memory.limit_in_bytes'], f['pids.max'], f['cpu.cfs_quota_us']], ['104857600', '50', '30000']);
    }
    assert.is(ctx.rt(['pause', id]).status, 0);
    assert.is(ctx.state(id).status, 'paused');
    if (V2) assert.match(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8'), /frozen 1/);
    else assert.is(readFile(scopeDir(unit, 'freezer'), 'freezer.state'), 'FROZEN');
    assert.is(ctx.rt(['resume', id]).status, 0);
    assert.is(ctx.state(id).status, 'running');
    r = ctx.rt(['exec', id, 'cat', '/proc/self/cgroup']);
    assert.is(r.status, 0, r.stderr);
    r = ctx.rt(['ps', '--format', 'json', id]);
    assert.is(JSON.parse(r.stdout).length, 1, r.stdout);
    r = ctx.rt(['events', '--stats', id]);
    assert.is(r.status, 0, r.stderr);
    const ev = JSON.parse(r.stdout);
    assert.is(ev.type, 'stats');
    assert.is(ev.data.pids.limit, 50);
    r = ctx.rt(['delete', '--force', id]);
    assert.is(r.status, 0, r.stderr);
    assert.ok(unitGone(unit));
  } finally {
    stopUnit(unit);
  }
});

driverTest('a create killed once the unit exists: delete --force stops the unit, and the id works again', () => {
  if (h.IS_RUNC) return skip('fault points are tsrunc\'s');
  const id = ctx.id('sdkill');
  const unit = `tsrunc-test-${id}.scope`;
  const b = ctx.makeBundle({ args: ['sleep', '1000'], edit: (c) => { c.linux.cgroupsPath = `system.slice:tsrunc-test:${id}`; } });
  try {
    const r = ctx.rt(['--systemd-cgroup', 'create', '--bundle', b.dir, id], { env: { ...process.env, TSRUNC_FAULT: 'create:in-cgroup' } });
    assert.is(r.signal, 'SIGKILL', `killed at the fault point: ${r.status} ${r.stderr}`);
    // the unit was made; its init dies with the killed create (parent-death signal), and systemd
    // may already have removed the emptied scope, or not yet
    const st = unitShow(unit, ['ActiveState']);
    assert.ok(st.LoadState === 'not-found' || ['active', 'deactivating', 'inactive'].includes(st.ActiveState), JSON.stringify(st));
    let d = ctx.rt(['delete', '--force', id]);
    assert.is(d.status, 0, d.stderr);
    assert.ok(unitGone(unit), 'delete --force stopped the unit');
    ctx.leftovers({ id, bundle: b });
    d = ctx.rt(['--systemd-cgroup', 'run', '-d', '--bundle', b.dir, id]);
    assert.is(d.status, 0, d.stderr);
    assert.is(ctx.rt(['delete', '--force', id]).status, 0);
    assert.ok(unitGone(unit));
  } finally {
    stopUnit(unit);
  }
});

driverTest('a unit of that name already there: an error naming it, nothing else made or removed', () => {
  if (h.IS_RUNC) return skip('runc 1.1.5 joins an existing unit');
  const id = ctx.id('sdexist');
  const unit = `tsrunc-test-${id}.scope`;
  // another scope of that name, holding a sleep
  spawnSync('sh', ['-c', `systemd-run --scope --unit=${unit} sleep 1000 >/dev/null 2>&1 &`]);
  try {
    const end = Date.now() + 10000;
    while (unitShow(unit, ['ActiveState']).ActiveState !== 'active' && Date.now() < end) h.sleepMs(20);
    const b = ctx.makeBundle({ args: ['true'], edit: (c) => { c.linux.cgroupsPath = `system.slice:tsrunc-test:${id}`; } });
    const r = ctx.rt(['--systemd-cgroup', 'run', '--bundle', b.dir, id]);
    assert.is(r.status, 1);
    assert.match(h.errorMessage(r.stderr), new RegExp(`unable to start unit "${unit.replace(/[.]/g, '\\.')}": the unit already exists`));
    assert.is(unitShow(unit, ['ActiveState']).ActiveState, 'active', 'the other unit is untouched');
    ctx.leftovers({ id, bundle: b });
  } finally {
    stopUnit(unit);
  }
});

driverTest('no cgroupsPath: <prefix>-<id>.scope in system.slice', () => {
  const id = ctx.id('sddef');
  const unit = `${h.IS_RUNC ? 'runc' : 'tsrunc'}-${id}.scope`;
  const b = ctx.makeBundle({ args: ['sleep', '1000'], edit: (c) => { delete c.linux.cgroupsPath; } });
  try {
    const r = ctx.rt(['--systemd-cgroup', 'run', '-d', '--bundle', b.dir, id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(cgroupOf(ctx.state(id).pid), `/system.slice/${unit}`);
    assert.is(ctx.rt(['delete', '--force', id]).status, 0);
    assert.ok(unitGone(unit));
  } finally {
    stopUnit(unit);
  }
});

driverTest('rootless: --systemd-cgroup as a user goes to that user\'s systemd; the scope is in the user\'s tree and delete removes it', () => {
  if (!V2) return skip('a user\'s systemd manager cannot delegate on cgroup v1 (runc refuses it too)');
  if (process.getuid() !== 0) return skip('needs root to make the test user');
  const uid = 2000 + Math.floor(Math.random() * 5000);
  const user = `tsrsd${uid}`;
  const id = ctx.id('sdrl');
  const unit = `${h.IS_RUNC ? 'runc' : 'tsrunc'}-${id}.scope`;
  const dir = fs.mkdtempSync('/tmp/tsrunc-sd-rootless-');
  const as = (cmd) => spawnSync('su', [user, '-s', '/bin/sh', '-c', `export XDG_RUNTIME_DIR=/run/user/${uid} DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/${uid}/bus; cd ${dir} && ${cmd}`], { encoding: 'utf8', timeout: 120000, killSignal: 'SIGKILL' });
  const rt = `${ctx.runtime} --root ${dir}/root`;
  const run = (cmd) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 120000, killSignal: 'SIGKILL' });
  try {
    let r = run(`useradd -M -u ${uid} ${user} && systemctl start user@${uid}.service`);
    assert.is(r.status, 0, `the test user and its systemd: ${r.stderr}`);
    fs.chmodSync(dir, 0o755);
    require('../lib/rootfs').copyRootfs(path.join(dir, 'rootfs'));
    r = run(`chown -R ${user}: ${dir}`);
    assert.is(r.status, 0, r.stderr);
    r = as(`${ctx.runtime} spec --rootless`);
    assert.is(r.status, 0, r.stderr);
    // the runtime's own rootless config (the user's ids mapped), running a sleep
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    Object.assign(config.process, { terminal: false, args: ['sleep', '1000'] });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    // the container's stdio: files, not this test's pipes
    r = as(`${rt} --systemd-cgroup run -d ${id} </dev/null >run.out 2>&1`);
    const runOut = () => fs.readFileSync(path.join(dir, 'run.out'), 'utf8');
    assert.is(r.status, 0, `rootless run -d: ${r.stderr}${runOut()}`);
    const st = JSON.parse(as(`${rt} state ${id}`).stdout);
    assert.ok(st.pid > 0, `the container runs: ${JSON.stringify(st)}\n${runOut()}`);
    const want = `/user.slice/user-${uid}.slice/user@${uid}.service/user.slice/${unit}`;
    assert.is(cgroupOf(st.pid), want, 'the init is in a scope of the user\'s systemd');
    assert.is(as(`systemctl --user show ${unit} -p ActiveState --value`).stdout.trim(), 'active');
    r = as(`${rt} delete --force ${id}`);
    assert.is(r.status, 0, r.stderr);
    assert.not.ok(fs.existsSync(path.join('/sys/fs/cgroup', want)), `${want} gone`);
    console.log(`\n[systemd] rootless ${h.RUNTIME_NAME}: ${unit} at ${want}; gone after delete --force`);
  } finally {
    as(`${rt} delete --force ${id}`);
    run(`systemctl stop user@${uid}.service; userdel ${user}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
