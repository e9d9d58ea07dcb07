'use strict';
// --systemd-cgroup on this host, as runc answers it: a malformed
// linux.cgroupsPath, a bad slice or annotation, and (where systemd is not
// PID 1, as here) systemd not running are errors with runc's message that
// leave nothing behind. The driver itself runs in the vm suite's systemd guest.
const fs = require('fs');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');

const test = suite('systemd');
const ctx = h.createContext('systemd');
h.install(test, ctx);

const SYSTEMD_RUNS = fs.existsSync('/run/systemd/system');

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

test.run();
