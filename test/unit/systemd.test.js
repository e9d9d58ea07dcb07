'use strict';
// The systemd cgroup driver's pure parts (runc's rules): linux.cgroupsPath as
// slice:prefix:name, slice expansion, resources as unit properties,
// org.systemd.property annotations; and the sd-bus client against a real
// dbus-daemon (a private bus this test starts: no systemd needed).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { test } = require('uvu');
const assert = require('uvu/assert');
const { skip } = require('../lib/skip');
const { systemdPlace, expandSlice } = require('../../dist/cgroups/systemd/unit-name.js');
const { resourceProperties, unitProperties, listToBits, deviceProperties } = require('../../dist/cgroups/systemd/properties.js');
const { annotationProperties, parseVariantText } = require('../../dist/cgroups/systemd/annotations.js');

const MAX = 0xffffffffffffffffn;
const props = (list) => Object.fromEntries(list.map(([n, v]) => [n, [v.sig, v.value]]));
const ctx2 = (extra = {}) => ({ version: 2, systemdVersion: 252, warn: () => undefined, ...extra });

test('cgroupsPath: runc\'s slice:prefix:name, its defaults and errors', () => {
  assert.equal(systemdPlace('system.slice:docker:abc', 'id', false), { slice: 'system.slice', unit: 'docker-abc.scope' });
  assert.equal(systemdPlace('kubepods-burstable-pod12.slice:cri-containerd:c1', 'id', false), { slice: 'kubepods-burstable-pod12.slice', unit: 'cri-containerd-c1.scope' });
  assert.equal(systemdPlace('machine.slice:libpod:x', 'id', false), { slice: 'machine.slice', unit: 'libpod-x.scope' });
  assert.equal(systemdPlace(undefined, 'c9', false), { slice: 'system.slice', unit: 'tsrunc-c9.scope' });
  assert.equal(systemdPlace('', 'c9', true), { slice: 'user.slice', unit: 'tsrunc-c9.scope' });
  assert.equal(systemdPlace(':p:n', 'id', false), { slice: 'system.slice', unit: 'p-n.scope' });
  assert.equal(systemdPlace('system.slice::n', 'id', false), { slice: 'system.slice', unit: 'n.scope' });
  assert.equal(systemdPlace('system.slice:p:pod1.slice', 'id', false), { slice: 'system.slice', unit: 'pod1.slice' });
  for (const bad of ['x', 'a:b', 'a:b:c:d', '/a/b']) {
    assert.throws(() => systemdPlace(bad, 'id', false), new RegExp(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "${bad}" instead`));
  }
  assert.throws(() => systemdPlace('a.slice:p:', 'id', false), /the name part/);
  assert.throws(() => systemdPlace('nope:p:n', 'id', false), /invalid slice name: nope/);
});

test('expandSlice: systemd\'s nesting of dashed slice names', () => {
  assert.is(expandSlice('system.slice'), '/system.slice');
  assert.is(expandSlice('a-b-c.slice'), '/a.slice/a-b.slice/a-b-c.slice');
  assert.is(expandSlice('kubepods-burstable-pod1.slice'), '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice');
  assert.is(expandSlice('-.slice'), '/');
  for (const bad of ['.slice', 'a', 'a--b.slice', '-a.slice', 'a-.slice', 'a/b.slice']) assert.throws(() => expandSlice(bad), /invalid slice name/);
});

test('unit properties: a delegated scope in its slice with the init, accounting on', () => {
  const p = props(unitProperties({ id: 'c1', unit: 'x-c1.scope', slice: 'system.slice', pid: 42, version: 2 }));
  assert.equal(p.Slice, ['s', 'system.slice']);
  assert.equal(p.Delegate, ['b', true]);
  assert.equal(p.PIDs, ['au', [42]]);
  assert.equal(p.IOAccounting, ['b', true]);
  assert.equal(p.DefaultDependencies, ['b', false]);
  const s = props(unitProperties({ id: 'c1', unit: 'pod.slice', slice: 'kubepods.slice', version: 1 }));
  assert.equal(s.Wants, ['as', ['kubepods.slice']]);
  assert.is(s.Delegate, undefined);
  assert.equal(s.BlockIOAccounting, ['b', true]);
});

test('resources as runc maps them on v2 (and v1)', () => {
  const r = {
    memory: { limit: 67108864, reservation: 33554432, swap: 134217728 },
    cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' },
    pids: { limit: 32 },
    blockIO: { weight: 500 },
  };
  const p = props(resourceProperties(r, ctx2()));
  assert.equal(p.MemoryMax, ['t', 67108864n]);
  assert.equal(p.MemoryLow, ['t', 33554432n]);
  assert.equal(p.MemorySwapMax, ['t', 67108864n], 'swap minus the limit');
  assert.equal(p.CPUWeight, ['t', 39n], 'shares 1024 -> weight 39');
  assert.equal(p.CPUQuotaPerSecUSec, ['t', 500000n]);
  assert.equal(p.CPUQuotaPeriodUSec, ['t', 100000n]);
  assert.equal(p.TasksMax, ['t', 32n]);
  assert.equal(p.AllowedCPUs, ['ay', [3]]);
  assert.equal(p.AllowedMemoryNodes, ['ay', [1]]);
  assert.equal(p.IOWeight, ['t', 4950n]);
  const v1 = props(resourceProperties(r, ctx2({ version: 1 })));
  assert.equal(v1.MemoryLimit, ['t', 67108864n]);
  assert.equal(v1.CPUShares, ['t', 1024n]);
  assert.equal(v1.BlockIOWeight, ['t', 500n]);
  // -1 is "no limit"; a quota rounds up to 10 ms per second; old systemd lacks some
  const u = props(resourceProperties({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: 12345, period: 100000 } }, ctx2({ systemdVersion: 240 })));
  assert.equal(u.MemoryMax, ['t', MAX]);
  assert.equal(u.TasksMax, ['t', MAX]);
  assert.equal(u.CPUQuotaPerSecUSec, ['t', 130000n]);
  assert.is(u.CPUQuotaPeriodUSec, undefined, 'systemd < 242');
  assert.is(props(resourceProperties({ cpu: { cpus: '0' } }, ctx2({ systemdVersion: 243 }))).AllowedCPUs, undefined, 'systemd < 244');
  assert.throws(() => resourceProperties({ memory: { swap: 100 } }, ctx2()), /needs a memory.limit/);
  assert.equal(listToBits('0-3,9', 'x'), [15, 2]);
  assert.throws(() => listToBits('3-1', 'cpus'), /cpus: "3-1"/);
});

test('unified keys with a systemd property', () => {
  const p = props(resourceProperties({ unified: { 'memory.high': '1000', 'memory.max': 'max', 'pids.max': '9', 'cpu.max': '20000 100000', 'cpu.weight': '7', 'io.weight': '50' } }, ctx2()));
  assert.equal(p.MemoryHigh, ['t', 1000n]);
  assert.equal(p.MemoryMax, ['t', MAX]);
  assert.equal(p.TasksMax, ['t', 9n]);
  assert.equal(p.CPUQuotaPerSecUSec, ['t', 200000n]);
  assert.equal(p.CPUWeight, ['t', 7n]);
  assert.is(p.IOWeight, undefined, 'io.weight: the file alone');
  assert.throws(() => resourceProperties({ unified: { 'cpu.max': 'lots' } }, ctx2()), /cpu.max/);
});

test('devices: an allow list becomes DevicePolicy=strict with DeviceAllow; allow-all is auto', () => {
  const strict = props(deviceProperties([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 200, access: 'rw' }], { warn: () => undefined }));
  assert.equal(strict.DevicePolicy, ['s', 'strict']);
  const allow = strict.DeviceAllow[1];
  assert.ok(allow.some(([p, a]) => p === '/dev/char/1:3' && a === 'rwm'), JSON.stringify(allow));
  assert.ok(allow.some(([p, a]) => p === 'char-pts' && a === 'rwm'), 'c 136:* by its /proc/devices name');
  assert.ok(allow.some(([p, a]) => p === 'char-*' && a === 'm'), 'mknod of any char device');
  const auto = props(deviceProperties([{ allow: true, access: 'rwm' }], { warn: () => undefined }));
  assert.equal(auto, { DevicePolicy: ['s', 'auto'], DeviceAllow: ['a(ss)', []] });
});

test('org.systemd.property annotations: runc\'s names, GVariant values, Sec to USec', () => {
  const p = props(annotationProperties({
    'org.systemd.property.CollectMode': "'inactive-or-failed'",
    'org.systemd.property.TimeoutStopSec': '5',
    'org.systemd.property.CPUQuotaPeriodUSec': 'uint64 20000',
    'org.systemd.property.IOAccounting': 'false',
    'io.other': 'x',
  }));
  assert.equal(p, {
    CollectMode: ['s', 'inactive-or-failed'],
    TimeoutStopUSec: ['t', 5000000n],
    CPUQuotaPeriodUSec: ['t', 20000n],
    IOAccounting: ['b', false],
  });
  assert.equal([parseVariantText('@t 7').sig, parseVariantText('@t 7').value], ['t', 7n]);
  assert.equal([parseVariantText("['a', 'b']").sig, parseVariantText("['a', 'b']").value], ['as', ['a', 'b']]);
  assert.is(parseVariantText('1.5').sig, 'd');
  assert.throws(() => annotationProperties({ 'org.systemd.property.Ab': '1' }), /name incorrect: too short/);
  assert.throws(() => annotationProperties({ 'org.systemd.property.A_b': '1' }), /contains non-alphabetic character/);
  assert.throws(() => annotationProperties({ 'org.systemd.property.Foo': 'nope' }), /annotation org.systemd.property.Foo=nope value parse error/);
  assert.throws(() => annotationProperties({ 'org.systemd.property.TimeoutStopSec': "'x'" }), /value parse error/);
});

test('sd-bus client: calls, dict and array arguments, error replies, on a private dbus-daemon', async () => {
  const daemon = spawnSync('sh', ['-c', 'command -v dbus-daemon'], { encoding: 'utf8' }).stdout.trim();
  if (!daemon) return skip('no dbus-daemon on this host (package dbus)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-dbus-'));
  const sock = path.join(dir, 'bus');
  const child = spawn(daemon, ['--session', '--nofork', '--nopidfile', `--address=unix:path=${sock}`], { stdio: 'ignore' });
  const saved = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  try {
    for (let i = 0; i < 500 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(fs.existsSync(sock), 'the private bus is listening');
    process.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${sock}`;
    const { Bus, DBusError } = require('../../dist/linux/sdbus.js');
    const bus = Bus.system();
    try {
      const D = ['org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus'];
      const id = bus.call(...D, 'GetId');
      assert.match(String(id.read('s')), /^[0-9a-f]{32}$/);
      id.free();
      const has = bus.call(...D, 'NameHasOwner', 's', ['org.freedesktop.DBus']);
      assert.is(has.read('b'), true);
      has.free();
      // a{ss}: accepted by the bus
      bus.call(...D, 'UpdateActivationEnvironment', 'a{ss}', [[['TSRUNC_T', '1']]]).free();
      // the daemon names the signature it received
      try {
        bus.call(...D, 'NameHasOwner', 'a(sv)ayt', [[['Delegate', new (require('../../dist/linux/sdbus.js').Variant)('b', true)]], [1, 2], 5n]);
        assert.unreachable('wrong arguments are an error');
      } catch (e) {
        assert.instance(e, DBusError);
        assert.is(e.dbusName, 'org.freedesktop.DBus.Error.InvalidArgs');
        assert.match(e.message, /a\(sv\)ayt/, e.message);
      }
      try {
        bus.call('org.example.Nobody', '/', 'org.example.X', 'Y');
        assert.unreachable();
      } catch (e) {
        assert.is(e.dbusName, 'org.freedesktop.DBus.Error.ServiceUnknown');
      }
    } finally {
      bus.close();
    }
  } finally {
    if (saved === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = saved;
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode ? r() : child.once('exit', r)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
