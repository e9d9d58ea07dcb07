'use strict';
// cgroup v2 for real. This machine (and CI) is a cgroup v1 host, so the v2
// code runs in a guest: test/vm/run.sh boots Debian's kernel with
// cgroup_no_v1=all (KVM, or qemu's TCG emulator where /dev/kvm cannot run a
// stock kernel) and runs in it the smoke run (run.sh --smoke: create, start,
// state, kill, delete of a busybox container with memory and pids limits,
// memory.max and pids.max checked), the cgroups e2e file
// (test/e2e/cgroups.test.js, whose V2 branches only run there) and the
// conformance suite's linux.resources cases (conformance/run.js 'resources-*').
//
// One boot for that suite; each test below reads its part of the guest's
// console. The console is kept in .tmp/vm/last-run.log.
//
// Then the systemd guest (TSRUNC_VM_INIT=systemd bash test/vm/run.sh): systemd
// as PID 1 on cgroup v2 with the system bus, for the systemd cgroup driver; its
// probe (run.sh --systemd-probe) makes a transient scope with systemd-run. Its
// console: .tmp/vm/last-run-systemd.log. Both run run.sh --systemd-checks: the
// probe, test/e2e/systemd.test.js and test/e2e-callers/systemd.test.js.
//
// Then the same systemd guest on cgroup v1, systemd's hybrid layout
// (TSRUNC_VM_CGROUP=hybrid: each v1 controller a hierarchy under
// /sys/fs/cgroup, the unified one at /sys/fs/cgroup/unified); its probe also
// runs runc --systemd-cgroup. Console: .tmp/vm/last-run-systemd-hybrid.log.
//
// The systemd suites are skipped (test/lib/skip.js) when
// test/vm/build.sh finds that what it needs cannot be had here (exit 3: qemu,
// systemd or dbus not installable, no kernel package) or qemu is missing.
//   node node_modules/uvu/bin.js test/vm
// Then the checkpoint/restore guest (run.sh --criu-checks, below).
// Not skipped without /dev/kvm: qemu's TCG runs the same guest, slower.
// TSRUNC_VM_TIMEOUT (seconds) bounds the run; TSRUNC_VM_SUITES=criu (a comma
// list of cgroup, criu, systemd, hybrid) boots only those guests.
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const { skip, SKIP_MARK } = require('../lib/skip');

const PROJECT = path.resolve(__dirname, '..', '..');
const RUN = path.join(__dirname, 'run.sh');
const BUILD = path.join(__dirname, 'build.sh');
const LOG = path.join(PROJECT, '.tmp', 'vm', 'last-run.log');
const SYSTEMD_LOG = path.join(PROJECT, '.tmp', 'vm', 'last-run-systemd.log');
// run.sh kills qemu after 480 s (KVM) or 900 s (TCG), or TSRUNC_VM_TIMEOUT
const TIMEOUT_S = Number(process.env.TSRUNC_VM_TIMEOUT || 900);

// TSRUNC_VM_SUITES=cgroup,criu,systemd,hybrid (default: all) boots only those guests
const SUITES = new Set((process.env.TSRUNC_VM_SUITES || 'cgroup,criu,systemd,hybrid').split(',').map((x) => x.trim()));
const runSuite = (name, s) => (SUITES.has(name) ? s.run() : undefined);

const test = suite('vm: cgroup v2 guest');

/**
 * Boots a guest (run.sh with `args`, more environment `env`), its console kept in `log`:
 * { status, signal, out, lines } with the console's lines (no CRs, no colour codes).
 */
function boot(args, env, log, timeoutS = TIMEOUT_S) {
  return new Promise((resolve) => {
    fs.mkdirSync(path.dirname(log), { recursive: true });
    const logFd = fs.openSync(log, 'w');
    const chunks = [];
    const child = spawn('bash', [RUN, ...args], {
      cwd: PROJECT,
      // `npm test` has just built dist/; run.sh would build it again
      env: { ...process.env, TSRUNC_VM_NO_NPM_BUILD: process.env.TSRUNC_VM_NO_NPM_BUILD || '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d) => {
      chunks.push(d);
      fs.writeSync(logFd, d);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // the backstop, should run.sh itself hang
    const timer = setTimeout(() => child.kill('SIGTERM'), (timeoutS + 60) * 1000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      fs.closeSync(logFd);
      const out = Buffer.concat(chunks).toString('utf8')
         
        .replace(/\r/g, '').replace(/\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])/g, '');
      // markers from the top of a line, whatever the console printed before them
      const lines = out.split('\n').map((l) => l.replace(/^.*?(?=TSRUNC-VM-)/, ''));
      // the guest's tests and checks, one line each (run.sh --cgroup-checks, --systemd-probe)
      for (const l of lines) if (/^TSRUNC-VM-(TEST|SMOKE|CGROUP|RESULT|SYSTEMD|PROBE|CRIU |HANG)/.test(l)) console.log(`  guest: ${l}`);
      resolve({ status, signal, out, lines });
    });
  });
}

/** Boots the cgroup v2 guest once (run.sh's default command: --cgroup-checks). */
let run;
function guest() {
  if (!run) run = boot([], {}, LOG);
  return run;
}

/** The last `n` lines of the console, uvu's summary lines renamed (test/run.js reads "Total:" and "Passed:"). */
function tail(out, n = 60) {
  return out.trim().split('\n').slice(-n).join('\n').replace(/^(\s*)(Total|Passed|Skipped|Duration):/gm, '$1$2 =');
}

test('the guest boots Debian\'s kernel with cgroup v2 only and runs the command', async () => {
  const r = await guest();
  const line = r.lines.find((l) => l.startsWith('TSRUNC-VM-CGROUP'));
  assert.ok(line, `no cgroup check line from the guest (run.sh exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${tail(r.out)}`);
  assert.match(line, /^TSRUNC-VM-CGROUP ok: /, line);
  assert.match(line, /controllers: .*\bmemory\b/, line);
  assert.ok(r.lines.some((l) => /TSRUNC-VM-RESULT /.test(l)), `the command did not finish (run.sh exit ${r.status}):\n${tail(r.out)}`);
});

test('smoke: create/start/state/kill/delete with memory.max and pids.max in the container\'s cgroup', async () => {
  const r = await guest();
  const smoke = r.lines.filter((l) => l.startsWith('TSRUNC-VM-SMOKE'));
  const failed = smoke.find((l) => l.startsWith('TSRUNC-VM-SMOKE FAIL'));
  assert.not.ok(failed, `${failed}\n${smoke.join('\n')}`);
  assert.ok(smoke.includes('TSRUNC-VM-SMOKE passed'), `the smoke run did not finish:\n${smoke.join('\n')}\n${tail(r.out, 30)}`);
});

test('test/e2e/cgroups.test.js passes on cgroup v2', async () => {
  const r = await guest();
  const res = /TSRUNC-VM-RESULT smoke=(\d+) cgroups-e2e=(\d+)/.exec(r.out);
  assert.ok(res, `no result line from the guest:\n${tail(r.out)}`);
  // the file ran in passes (run.sh --cgroup-checks: parallel shards, then tests alone): one uvu summary each
  const marks = [...r.out.matchAll(/TSRUNC-VM-PASS (\d+)\/(\d+) exit (\d+)/g)];
  assert.ok(marks.length > 0, `no pass of the cgroups e2e file reported:\n${tail(r.out)}`);
  assert.is(marks.length, Number(marks[0][2]), 'every pass reported');
  let total = 0;
  let passed = 0;
  const reports = [];
  marks.forEach((m, i) => {
    const text = r.out.slice(m.index, i + 1 < marks.length ? marks[i + 1].index : res.index);
    // uvu's summary lines, renamed so that test/run.js does not read them as this file's
    reports.push(text.trim().replace(/^(\s*)(Total|Passed|Skipped|Duration):/gm, '$1$2 ='));
    const t = /Total:\s+(\d+)/.exec(text);
    const p = /Passed:\s+(\d+)/.exec(text);
    assert.ok(t && p, `pass ${m[1]}/${m[2]} ended without uvu's totals (exit ${m[3]}):\n${reports[i]}`);
    total += Number(t[1]);
    passed += Number(p[1]);
  });
  const report = reports.join('\n');
  const failed = r.lines.filter((l) => l.startsWith('TSRUNC-VM-TEST FAIL')).map((l) => l.replace(/^TSRUNC-VM-TEST FAIL \S+ /, ''));
  assert.ok(total > 0, 'no test ran');
  assert.is(passed, total, `${total - passed} of ${total} failed in the guest: ${failed.map((f) => `"${f}"`).join(', ')}\n${report}`);
  assert.is(res[2], '0', `uvu's exit status in the guest:\n${report}`);
});

test('conformance: the linux.resources cases pass on cgroup v2', async () => {
  const r = await guest();
  const start = r.out.indexOf('TSRUNC-VM-CONFORMANCE start');
  const end = /TSRUNC-VM-CONFORMANCE exit (\d+)/.exec(r.out);
  assert.ok(start >= 0 && end, `the conformance cases did not run or finish:\n${tail(r.out)}`);
  const tap = r.out.slice(start, end.index);
  const oks = tap.match(/^ok \d+ - \S+$/gm) || [];
  const skips = tap.match(/^ok \d+ - \S+ # SKIP .*$/gm) || [];
  const notOk = tap.match(/^not ok \d+ - .*$/gm) || [];
  console.log(`  guest conformance: ${oks.length} passed, ${notOk.length} failed, ${skips.length} skipped${skips.length ? `: ${skips.join('; ')}` : ''}`);
  assert.is(notOk.length, 0, `failed in the guest:\n${tap}`);
  assert.ok(oks.length >= 6, `at least the memory, cpu, pids, blkio, unified and devices cases ran:\n${tap}`);
  assert.is(end[1], '0', `conformance/run.js exit status in the guest:\n${tap}`);
});

test('run.sh exits with the guest command\'s status', async () => {
  const r = await guest();
  const m = /TSRUNC-VM-EXIT (\d+)/.exec(r.out);
  assert.ok(m, `no exit status from the guest (run.sh exit ${r.status}):\n${tail(r.out)}`);
  assert.is(r.status, Number(m[1]), 'run.sh exit status = the guest command\'s');
  assert.is(r.status, 0, `guest command exit status:\n${tail(r.out, 20)}`);
});

runSuite('cgroup', test);

/**
 * Why the systemd guest cannot run here (test/vm/build.sh exits 3: kernel, qemu,
 * systemd or dbus not to be had; or no qemu), or null; fails when build.sh does.
 */
function systemdUnavailable() {
  // what the guest needs (kernel, qemu, systemd, dbus; installed when missing)
  const b = spawnSync('bash', [BUILD], { cwd: PROJECT, env: { ...process.env, TSRUNC_VM_INIT: 'systemd' }, encoding: 'utf8' });
  if (b.status === 3) return `the systemd guest cannot be built here: ${(b.stderr.match(/vm\/build: unavailable: .*/) || [b.stderr.trim()])[0]}`;
  assert.is(b.status, 0, `test/vm/build.sh failed:\n${b.stdout}${b.stderr}`);
  if (spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0) return 'no qemu-system-x86_64 (package qemu-system-x86)';
  return null;
}

/** Why the systemd guest (console kept in `log`) did not report something: run.sh's status and the console's tail. */
function because(r, log) {
  return `(run.sh exit ${r.status}${r.signal ? `, ${r.signal}` : ''}; console in ${path.relative(PROJECT, log)}):\n${tail(r.out)}`;
}

/** The systemd guest's TSRUNC-VM-SYSTEMD line: systemd PID 1, the system bus. */
function assertSystemdUp(r, why) {
  const sys = r.lines.find((l) => l.startsWith('TSRUNC-VM-SYSTEMD ok: '));
  assert.ok(sys, `the guest did not report systemd up ${why}`);
  assert.match(sys, /PID 1 systemd \d+/, sys);
  assert.match(sys, /system bus \S+ on \/run\/dbus\/system_bus_socket/, sys);
}

/** The probe's lines (run.sh --systemd-probe), none failed, and `has(re, what)` to require one. */
function probeLines(r, why) {
  const probe = r.lines.filter((l) => l.startsWith('TSRUNC-VM-PROBE'));
  const failed = probe.find((l) => l.startsWith('TSRUNC-VM-PROBE FAIL'));
  assert.not.ok(failed, `${failed}\n${probe.join('\n')}`);
  const has = (re, what) => assert.ok(probe.some((l) => re.test(l)), `${what}: ${probe.join('\n')}\n${why}`);
  has(/^TSRUNC-VM-PROBE ok: PID 1: \S*systemd /, 'systemd as PID 1');
  has(/is-system-running --wait: running$/, 'the system running');
  has(/org\.freedesktop\.systemd1 is PID 1/, 'systemd on the system bus');
  return { probe, has };
}

/**
 * test/e2e/systemd.test.js and test/e2e-callers/systemd.test.js ran in the guest (run.sh --systemd-checks) and passed; their lines shown.
 * Returns the files whose every test skipped itself in the guest (a pass that tested nothing).
 */
function assertSystemdFiles(r, why) {
  return assertGuestFiles(r, why, 'TSRUNC-VM-SYSTEMD-E2E', ['test/e2e/systemd.test.js', 'test/e2e-callers/systemd.test.js']);
}

/**
 * The uvu files a guest ran, each framed by "<marker> start <file>" and
 * "<marker> exit <status> <file>", passed; their lines shown. Returns the
 * files whose every test skipped itself in the guest (a pass that tested nothing).
 */
function assertGuestFiles(r, why, marker, files) {
  const allSkipped = [];
  for (const file of files) {
    const start = r.lines.indexOf(`${marker} start ${file}`);
    const end = r.lines.findIndex((l) => l.startsWith(`${marker} exit `) && l.endsWith(file));
    assert.ok(start >= 0 && end > start, `${file} did not run in the guest ${why}`);
    // renamed: test/run.js counts "Total:", "Passed:" and "[skipped]" lines, the guest's are not the host's
    const out = r.lines.slice(start + 1, end).map((l) => l.replace(/^(\s*)(Total|Passed|Skipped|Duration):/, '$1$2 =').replace(SKIP_MARK, 'skipped in the guest:'));
    const shown = out.filter((l) => /^\[(systemd|callers on systemd)\]|^\s*FAIL\s|^ {2}\S+ {2,}|Total =|Passed =|skipped in the guest/.test(l));
    console.log(`  guest ${file}:\n${shown.map((l) => `    ${l}`).join('\n')}`);
    assert.is(r.lines[end], `${marker} exit 0 ${file}`, `${file} in the guest:\n${out.slice(-60).join('\n')}`);
    const total = /Total =\s+(\d+)/.exec(out.join('\n'));
    const skipped = out.filter((l) => l.startsWith('skipped in the guest:'));
    if (total && skipped.length >= Number(total[1])) allSkipped.push(`${file} (${skipped[0].replace('skipped in the guest: ', '')})`);
  }
  return allSkipped;
}

// Then checkpoint and restore with CRIU, in the cgroup v2 guest (run.sh
// --criu-checks: `criu check`, test/e2e/checkpoint.test.js and
// test/e2e-callers/podman-checkpoint.test.js). The host's kernel may be one
// CRIU cannot work with (this machine's is); Debian's is not. Console:
// .tmp/vm/last-run-criu.log.
const cr = suite('vm: checkpoint/restore guest');
const CRIU_LOG = path.join(PROJECT, '.tmp', 'vm', 'last-run-criu.log');
// the two files take about 10 minutes under TCG
const CRIU_TIMEOUT_S = Math.max(TIMEOUT_S, Number(process.env.TSRUNC_VM_CRIU_TIMEOUT || 1800));

cr('CRIU works with the guest\'s kernel; checkpoint/restore end to end and podman\'s checkpoint/restore through tsrunc pass there', async () => {
  const r = await boot(['bash', 'test/vm/run.sh', '--criu-checks'], { TSRUNC_VM_TIMEOUT: String(CRIU_TIMEOUT_S) }, CRIU_LOG, CRIU_TIMEOUT_S);
  const why = because(r, CRIU_LOG);
  const line = r.lines.find((l) => l.startsWith('TSRUNC-VM-CRIU '));
  assert.ok(line, `no CRIU line from the guest ${why}`);
  if (line.startsWith('TSRUNC-VM-CRIU skip')) return skip(line.replace('TSRUNC-VM-CRIU skip: ', 'the checkpoint guest: '));
  assert.match(line, /^TSRUNC-VM-CRIU ok: .*criu check passes/, line);
  const files = ['test/e2e/checkpoint.test.js', 'test/e2e-callers/podman-checkpoint.test.js'];
  const allSkipped = assertGuestFiles(r, why, 'TSRUNC-VM-CRIU-E2E', files);
  assert.equal(allSkipped, [], 'every test of a file skipped itself in the guest');
  // where CRIU works the cycles run: none of them may have skipped for want of CRIU
  const noCriu = r.lines.filter((l) => l.includes(SKIP_MARK) && /criu check fails|criu is not installed/.test(l));
  assert.equal(noCriu, [], `tests skipped in the guest for want of CRIU ${why}`);
  assert.is(r.status, 0, `guest command exit status ${why}`);
});

runSuite('criu', cr);

const sd = suite('vm: systemd guest');

sd('systemd is PID 1 on cgroup v2 with the system bus; tsrunc --systemd-cgroup (beside runc), podman and containerd on systemd pass in it', async () => {
  const unavailable = systemdUnavailable();
  if (unavailable) return skip(unavailable);
  const r = await boot(['bash', 'test/vm/run.sh', '--systemd-checks'], { TSRUNC_VM_INIT: 'systemd' }, SYSTEMD_LOG);
  const why = because(r, SYSTEMD_LOG);
  assertSystemdUp(r, why);
  assert.ok(r.lines.some((l) => l.startsWith('TSRUNC-VM-CGROUP ok: cgroup2 only')), `cgroup v2 alone ${why}`);
  const { probe, has } = probeLines(r, why);
  has(/systemd-run --scope .*0::\/system\.slice\/tsrunc-vm-probe-\d+\.scope 67108864 .*MemoryMax=67108864/, 'a transient scope with MemoryMax 64M');
  has(/after its process: tsrunc-vm-probe-\d+\.scope inactive, \S+ gone$/, 'the scope gone after its process');
  assert.ok(probe.includes('TSRUNC-VM-PROBE passed'), `the probe did not finish:\n${probe.join('\n')}`);
  assertSystemdFiles(r, why);
  assert.is(r.status, 0, `guest command exit status ${why}`);
});

runSuite('systemd', sd);

// The same systemd guest on cgroup v1: systemd's hybrid layout
// (TSRUNC_VM_CGROUP=hybrid: v1 controllers each a hierarchy under
// /sys/fs/cgroup, the unified one at /sys/fs/cgroup/unified), one boot for
// the suite, console in .tmp/vm/last-run-systemd-hybrid.log.
const hy = suite('vm: systemd guest, cgroup v1 hybrid');
const HYBRID_LOG = path.join(PROJECT, '.tmp', 'vm', 'last-run-systemd-hybrid.log');

/** Boots the hybrid guest once: { skip: reason } or boot()'s result. */
let hybridRun;
function hybridGuest() {
  if (!hybridRun) {
    const unavailable = systemdUnavailable();
    hybridRun = unavailable ? Promise.resolve({ skip: unavailable })
      : boot(['bash', 'test/vm/run.sh', '--systemd-checks'], { TSRUNC_VM_INIT: 'systemd', TSRUNC_VM_CGROUP: 'hybrid' }, HYBRID_LOG);
  }
  return hybridRun;
}

hy('systemd is PID 1 on the hybrid layout with the system bus; scopes (systemd-run, runc --systemd-cgroup) get their memory limit in the v1 memory hierarchy', async () => {
  const r = await hybridGuest();
  if (r.skip) return skip(r.skip);
  const why = because(r, HYBRID_LOG);
  assertSystemdUp(r, why);
  const cg = r.lines.find((l) => l.startsWith('TSRUNC-VM-CGROUP'));
  assert.ok(cg, `no cgroup check line from the guest ${why}`);
  assert.match(cg, /^TSRUNC-VM-CGROUP ok: hybrid /, cg);
  for (const c of ['memory', 'pids', 'cpuset', 'devices', 'freezer', 'blkio']) assert.match(cg, new RegExp(`v1 hierarchies: [^;]*\\b${c}\\b`), `the v1 ${c} hierarchy: ${cg}`);
  assert.match(cg, /unified: \/sys\/fs\/cgroup\/unified \(cgroup2/, cg);
  // test/e2e/systemd.test.js sets blockIO.weight: on v1 only BFQ takes it
  assert.match(cg, /blkio weights: blkio\.bfq\.weight/, cg);
  const { probe, has } = probeLines(r, why);
  has(/the hybrid layout: v1 hierarchies .*\bmemory\b.*, unified at \/sys\/fs\/cgroup\/unified/, 'the hybrid layout');
  for (const prop of ['MemoryLimit', 'MemoryMax']) {
    const unit = `tsrunc-vm-probe-\\d+-${prop.toLowerCase()}\\.scope`;
    has(new RegExp(`systemd-run --scope .* -p ${prop}=64M: .*\\b\\d+:memory:/system\\.slice/${unit} .*0::/system\\.slice/${unit} 67108864 .*${prop}=67108864`),
      `a transient scope with ${prop} 64M: memory.limit_in_bytes 67108864, in the v1 memory and the unified hierarchies`);
    has(new RegExp(`after its process: ${unit} inactive, \\S+ and \\S+ gone$`), `the ${prop} scope gone after its process`);
  }
  if (!probe.some((l) => /runc --systemd-cgroup: skipped/.test(l))) {
    const runc = (re, what) => has(new RegExp(`runc --systemd-cgroup run -d hy1 .*${re.source}`), `runc --systemd-cgroup, runc-hy1.scope: ${what}`);
    runc(/Delegate=yes /, 'Delegate=yes');
    runc(/MemoryLimit=67108864 /, 'MemoryLimit 64M');
    runc(/memory\/system\.slice\/runc-hy1\.scope\/memory\.limit_in_bytes: 67108864;/, 'memory.limit_in_bytes 67108864');
    runc(/\d+:memory:\/system\.slice\/runc-hy1\.scope 0::\/system\.slice\/runc-hy1\.scope/, 'the container in the v1 memory and the unified hierarchies');
    has(/runc delete --force hy1: runc-hy1\.scope inactive, \S+ and \S+ gone$/, 'runc-hy1.scope gone after runc delete');
  }
  assert.ok(probe.includes('TSRUNC-VM-PROBE passed'), `the probe did not finish:\n${probe.join('\n')}`);
});

hy('tsrunc --systemd-cgroup (beside runc), podman and containerd on systemd pass on the hybrid layout', async () => {
  const r = await hybridGuest();
  if (r.skip) return skip(r.skip);
  const why = because(r, HYBRID_LOG);
  const allSkipped = assertSystemdFiles(r, why);
  assert.is(r.status, 0, `guest command exit status ${why}`);
  // counted as skipped, not passed, should a file not run its tests on v1
  if (allSkipped.length) return skip(`every test skipped itself in the hybrid guest: ${allSkipped.join('; ')}`);
});

runSuite('hybrid', hy);
