'use strict';
// Memory (issue 15): every command's peak RSS and the private memory of a
// created container's waiting init, against what Node itself costs when
// started with the launcher's flags. A Node runtime cannot go below Node's
// own floor; what it adds above that floor is what these budgets hold:
//   peak RSS of a command      <= Node's peak (node FLAGS -e 0) + 12 MiB
//                                 (before the memory work: + 18.4 MiB for run;
//                                 now about + 10.6; --jitless would save 5 more,
//                                 but WebAssembly containers need the JIT)
//   the waiting init's private <= a waiting Node's private + 6 MiB
//                                 (before: + 11.9 MiB)
// The absolute figures, side by side with runc, are bench/run.js's.
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');

const test = suite('memory');
const ctx = h.createContext('memory');
h.install(test, ctx);

const MIB = 1024;
const PEAK_BUDGET_KIB = 12 * MIB;
const INIT_BUDGET_KIB = 6 * MIB;
const TIME = ['/usr/bin/time'].find((p) => fs.existsSync(p));

/** The node flags of bin/tsrunc's sh line (so the floor is Node as the launcher starts it). */
function launcherNodeFlags() {
  const line = fs.readFileSync(path.join(h.PROJECT, 'bin', 'tsrunc'), 'utf8').split('\n')[1];
  const m = / exec node (.*?) -- "\$0"/.exec(line);
  if (!m) throw new Error(`no "exec node FLAGS -- "$0"" in bin/tsrunc's sh line: ${line}`);
  return m[1].split(' ');
}

/** Peak RSS (KiB) of `cmd args` and its waited-for children, from wait4 via time(1). */
function peakOf(cmd, args) {
  const out = ctx.tmp('time');
  const r = spawnSync(TIME, ['-f', '%M', '-o', out, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  assert.is(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return Number(fs.readFileSync(out, 'utf8').trim().split('\n').pop());
}

/** Peak RSS (KiB) of the runtime running `args` (with the context's --root). */
function peakOfRuntime(args) {
  const out = ctx.tmp('time');
  const r = ctx.rt(args, { sh: `exec ${TIME} -f %M -o ${out} "$@"` });
  assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return Number(fs.readFileSync(out, 'utf8').trim().split('\n').pop());
}

const privateDirty = (pid) => Number(/^Private_Dirty:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]);

/** Private_Dirty (KiB) of a Node started with the launcher's flags, blocked reading its stdin. */
async function nodeWaitingPrivate() {
  const child = spawn(process.execPath, [...launcherNodeFlags(), '-e', "process.stdout.write('up\\n'); require('fs').readSync(0, Buffer.alloc(1))"], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve, reject) => {
      child.stdout.once('data', resolve);
      child.once('exit', (code) => reject(new Error(`node exited (${code}) before it was up`)));
    });
    return privateDirty(child.pid);
  } finally {
    child.kill('SIGKILL');
  }
}

let nodePeak;
test('the floor: Node started with the launcher\'s flags', () => {
  if (!TIME) return skip('memory: no /usr/bin/time to read peak RSS with');
  nodePeak = Math.max(...[1, 2, 3].map(() => peakOf(process.execPath, [...launcherNodeFlags(), '-e', '0'])));
  assert.ok(nodePeak > 10 * MIB, `node's peak RSS ${nodePeak} KiB`);
});

test('every command\'s peak RSS is within Node\'s + 12 MiB', () => {
  if (!TIME) return skip('memory: no /usr/bin/time to read peak RSS with');
  const b = ctx.makeBundle({ args: ['/bin/true'] });
  const id = ctx.id('mem');
  const ok = (args) => assert.is(ctx.rt(args).status, 0, args.join(' '));
  const stopped = () => ctx.waitStatusSync(id, 'stopped');
  // each command is measured on its second run: the first writes its code cache
  const peaks = {};
  const measure = (what, args, again = () => undefined) => {
    peakOfRuntime(args);
    again();
    peaks[what] = peakOfRuntime(args);
  };
  measure('run', ['run', '-b', b.dir, id]); // run deletes the container when its process exits
  measure('create', ['create', '-b', b.dir, id], () => ok(['delete', '-f', id]));
  for (const [what, args] of [['state', ['state', id]], ['list', ['list']], ['ps', ['ps', id]], ['events --stats', ['events', '--stats', id]], ['exec', ['exec', id, '/bin/true']]]) measure(what, args);
  measure('start', ['start', id], () => {
    stopped();
    ok(['delete', id]);
    ok(['create', '-b', b.dir, id]);
  });
  stopped();
  measure('delete', ['delete', id], () => {
    ok(['create', '-b', b.dir, id]);
    ok(['start', id]);
    stopped();
  });
  ok(['create', '-b', b.dir, id]);
  measure('kill', ['kill', id, 'KILL'], () => {
    stopped();
    ok(['delete', id]);
    ok(['create', '-b', b.dir, id]);
  });
  stopped();
  ok(['delete', id]);
  const table = Object.entries(peaks).map(([what, kib]) => `${what} ${(kib / MIB).toFixed(1)}`).join(', ');
  const over = Object.keys(peaks).filter((what) => peaks[what] - nodePeak > PEAK_BUDGET_KIB);
  assert.equal(over, [], `over Node's ${(nodePeak / MIB).toFixed(1)} MiB + 12 MiB (peak RSS in MiB: ${table})`);
});

test('a created container\'s waiting init holds at most a waiting Node\'s private memory + 6 MiB', async () => {
  const floor = await nodeWaitingPrivate();
  const b = ctx.makeBundle({ args: ['/bin/true'] });
  const id = ctx.id('mem');
  assert.is(ctx.rt(['create', '-b', b.dir, id]).status, 0);
  const { pid } = ctx.state(id);
  const kib = privateDirty(pid); // create has returned: nothing is shared with it any more
  ctx.rt(['delete', '-f', id]);
  assert.ok(kib - floor <= INIT_BUDGET_KIB, `the waiting init: ${(kib / MIB).toFixed(1)} MiB private, a waiting Node: ${(floor / MIB).toFixed(1)} MiB`);
});

test.run();
