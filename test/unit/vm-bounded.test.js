'use strict';
// test/vm/run.sh's `bounded`: what keeps one hung test file in a vm guest from
// costing the whole guest, and says where it hung (TSRUNC-VM-HANG lines).
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const RUN = path.join(__dirname, '..', 'vm', 'run.sh');
// a second of grace between SIGTERM and SIGKILL (the guests allow 30)
const bounded = (args) => spawnSync('bash', [RUN, '--bounded', ...args], { encoding: 'utf8', timeout: 60000, env: { ...process.env, TSRUNC_BOUNDED_GRACE: '1' } });
const alive = (pid) => fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));

test('a command within its bound: its own exit status, nothing printed', () => {
  const r = bounded(['10', 'quick', 'sh', '-c', 'echo out; exit 3']);
  assert.is(r.status, 3);
  assert.is(r.stdout, 'out\n');
});

test('a command past its bound: killed with everything it started, exit 124, and the report of what waited where', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-unit-bounded-'));
  const pids = path.join(dir, 'pids');
  try {
    // a child that ignores SIGTERM, and itself asleep
    const r = bounded(['2', 'test/e2e/hang.test.js', 'sh', '-c', `trap '' TERM; sleep 1000 & echo $$ $! > ${pids}; sleep 1000`]);
    assert.is(r.status, 124, r.stderr);
    assert.match(r.stdout, /^TSRUNC-VM-HANG test\/e2e\/hang\.test\.js still runs after 2 s;/m);
    assert.match(r.stdout, /^TSRUNC-VM-HANG .* hrtimer_nanosleep .*sleep 1000$/m, 'each process with its wait channel');
    assert.match(r.stdout, /^TSRUNC-VM-HANG stack of \d+ \(sleep 1000 \): /m, 'the kernel stacks of its processes');
    for (const pid of fs.readFileSync(pids, 'utf8').trim().split(' ')) assert.not.ok(alive(Number(pid)), `process ${pid} is gone`);
  } finally {
    for (const pid of fs.existsSync(pids) ? fs.readFileSync(pids, 'utf8').trim().split(' ') : []) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
