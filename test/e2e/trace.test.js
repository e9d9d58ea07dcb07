'use strict';
// TSRUNC_TRACE=1: each command prints, at exit, ms per phase as a table on
// stderr (or into --log), the forked stages' phases included; without it,
// nothing. tsrunc only (runc has no such trace).
const fs = require('fs');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');

const test = suite('trace');
const ctx = h.createContext('trace');
h.install(test, ctx);

const traced = { env: { ...process.env, TSRUNC_TRACE: '1' } };

/** The rows of the table in `text`: { at, ms, name }; fails when there is no table. */
function rows(text) {
  const lines = text.split('\n');
  const head = lines.findIndex((l) => /^tsrunc trace \(pid \d+, .*\): [\d.]+ ms from process start to exit$/.test(l));
  assert.ok(head >= 0, `no trace table in:\n${text}`);
  const out = [];
  for (const l of lines.slice(head + 2)) {
    const m = /^ +([\d.]+) +([\d.]+) {2}(.+)$/.exec(l);
    if (!m) break;
    out.push({ at: Number(m[1]), ms: Number(m[2]), name: m[3].trim() });
  }
  return out;
}

const has = (rs, re) => rs.some((r) => re.test(r.name));

test('run: node, launcher, config, the create steps, both stages, start, the wait and delete, in order of time', () => {
  if (!h.IS_TSRUNC) return skip('tsrunc\'s own trace');
  const b = ctx.makeBundle({ args: ['sh', '-c', 'echo out; exit 3'] });
  const r = ctx.rt(['run', '--bundle', b.dir, ctx.id('tr')], traced);
  assert.is(r.status, 3, 'the exit status is the container\'s');
  assert.is(r.stdout, 'out\n', 'the container\'s output is untouched');
  const rs = rows(r.stderr);
  for (const re of [/^node: bootstrap$/, /^launcher: bundle compile/, /^config: schema validation$/, /^create: cgroup create and apply$/,
    /^ffi: load koffi$/, /^\[stage-1\] join and create namespaces$/, /^\[stage-2\] rootfs: mounts, devices, cwd$/, /^start: open the fifo/,
    /^run: wait for the container's process to exit$/, /^delete: remove the cgroup$/, /^until exit/]) {
    assert.ok(has(rs, re), `${re} missing from:\n${r.stderr}`);
  }
  for (let i = 1; i < rs.length; i++) assert.ok(rs[i].at >= rs[i - 1].at, `rows sorted by start: ${rs[i - 1].name} / ${rs[i].name}`);
  const total = Number(/: ([\d.]+) ms from process start/.exec(r.stderr)[1]);
  const last = rs[rs.length - 1];
  assert.ok(Math.abs(last.at + last.ms - total) < 0.2, 'the last phase ends at the total');
});

test('exec, a failing command, and --log json: the table is there; nothing without TSRUNC_TRACE', () => {
  if (!h.IS_TSRUNC) return skip('tsrunc\'s own trace');
  const b = ctx.makeBundle({ args: ['sleep', '100'] });
  const id = ctx.id('tr');
  ctx.trackId(id);
  let r = ctx.rt(['run', '-d', '--bundle', b.dir, id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '', 'no table without TSRUNC_TRACE');
  r = ctx.rt(['exec', id, 'true'], traced);
  assert.is(r.status, 0, r.stderr);
  const rs = rows(r.stderr);
  assert.ok(has(rs, /^\[stage-1\] guard fds, join the namespaces$/) && has(rs, /^\[stage-2\] process:/) && has(rs, /^exec: wait for the execve/), r.stderr);

  r = ctx.rt(['state', 'tr-no-such'], traced);
  assert.is(r.status, 1);
  assert.match(r.stderr, 'container does not exist');
  assert.ok(has(rows(r.stderr), /^cli: arguments$/));

  const log = ctx.tmp('log');
  r = ctx.rt(['--log', log, '--log-format', 'json', 'state', id], traced);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '', 'into --log');
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(lines.length > 10 && lines.every((l) => l.level === 'debug' && typeof l.msg === 'string'), JSON.stringify(lines));
  assert.match(lines[0].msg, /^tsrunc trace/);
  assert.ok(lines.some((l) => /state: load the state and status$/.test(l.msg)));
});

test.run();
