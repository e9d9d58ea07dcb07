'use strict';
// Runs the test suites with uvu, one process per suite directory, and ends
// with the line "N passed, N failed" that CI reads.
//   node test/run.js            all suites
//   node test/run.js unit e2e   only these suites (an unknown name is an error)
// A test that cannot run here is counted as skipped, never as passed: uvu's
// test.skip, or harness.skip(reason) in a test's body.
const { spawnSync } = require('child_process');
const path = require('path');
const fs = require('fs');

const ROOT = path.resolve(__dirname);
const { SKIP_MARK } = require('./lib/skip');
// vm: the cgroup v2 guest (test/vm/vm.test.js), about 7 minutes under TCG, and
// the systemd guest on cgroup v2 and on v1 hybrid (run.sh --systemd-checks: 7-8
// minutes each under TCG)
const ALL = ['unit', 'e2e', 'security', 'reliability', 'conformance', 'e2e-callers', 'vm'];
const suites = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const unknown = suites.filter((s) => !fs.existsSync(path.join(ROOT, s)) || !ALL.includes(s));
if (unknown.length) {
  console.error(`unknown test suite: ${unknown.join(', ')} (suites: ${ALL.join(', ')})`);
  console.log('\n0 passed, 1 failed, 0 skipped');
  process.exit(2);
}
const uvu = path.join(__dirname, '..', 'node_modules', 'uvu', 'bin.js');

let passed = 0;
let failed = 0;
let skipped = 0;
for (const suite of suites) {
  const dir = path.join(ROOT, suite);
  console.log(`\n=== suite: ${suite}`);
  const res = spawnSync(process.execPath, [uvu, dir, '\\.test\\.js$'], {
    cwd: path.join(ROOT, '..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  process.stdout.write(res.stdout || '');
  const total = /Total:\s+(\d+)/.exec(res.stdout || '');
  const pass = /Passed:\s+(\d+)/.exec(res.stdout || '');
  const skip = /Skipped:\s+(\d+)/.exec(res.stdout || '');
  if (!total || !pass) {
    // The suite crashed before uvu printed its totals: count it as one failure.
    console.log(`suite ${suite} ended without totals (exit ${res.status}, signal ${res.signal})`);
    failed += 1;
    continue;
  }
  const t = Number(total[1]);
  const p = Number(pass[1]);
  // tests that found at run time that they cannot run here (harness.skip) ended
  // without failing: uvu counts them as passed, they are skipped
  const inBody = (res.stdout || '').split('\n').filter((l) => l.startsWith(`${SKIP_MARK} `)).length;
  const s = (skip ? Number(skip[1]) : 0) + inBody;
  passed += p - inBody;
  skipped += s;
  // uvu's Total counts the tests that ran: skipped ones are not in it
  failed += t - p;
  if (res.status !== 0 && t - p === 0) failed += 1; // non-zero exit with no failed test: count it
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);
