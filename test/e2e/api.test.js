'use strict';
// The library API (src/api.ts) as a Node program uses it: only what
// require('tsrunc') exports, in a child `node --single-threaded` (create and
// exec fork the calling process), on a real container.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');

const test = suite('api');
const ctx = h.createContext('api');
h.install(test, ctx);

/** Runs `body` (an async function's text, given Container, TsruncError, bundle, root, id) in a child node. */
function program(body, { singleThreaded = true, bundle, id, env } = {}) {
  const file = ctx.tmp('program.js');
  fs.writeFileSync(file, `'use strict';
const { Container, TsruncError } = require(${JSON.stringify(h.PROJECT)});
const [bundle, root, id] = process.argv.slice(2);
(async () => { ${body} })().then(
  (out) => { process.stdout.write(JSON.stringify(out === undefined ? null : out)); },
  (e) => { process.stdout.write(JSON.stringify({ error: e.message, isTsruncError: e instanceof TsruncError, cause: e.cause && e.cause.code })); });
`);
  const args = [...(singleThreaded ? ['--single-threaded'] : []), file, bundle || '', ctx.root, id || ''];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 30000, env: { ...process.env, ...env } });
  assert.is(r.status, 0, `program: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('create, start, state, exec, events, pause, resume, update, kill, delete through require("tsrunc")', () => {
  if (!h.IS_TSRUNC) return skip(`the library is tsrunc's (${h.RUNTIME_NAME})`);
  const b = ctx.makeBundle({ args: ['sleep', '100'], cgroupsPath: `/tsrunc-api-${h.rand()}` });
  const id = ctx.id('api');
  const out = program(`
    const c = await Container.create(id, { bundle, root });
    const seen = { created: c.state().status };
    await c.start();
    seen.running = c.state().status;
    seen.listed = Container.list({ root }).includes(id);
    seen.execPid = await c.exec({ args: ['true'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] });
    for await (const e of c.events({ stats: true })) seen.event = e.type;
    await c.pause();
    seen.paused = c.state().status;
    await c.resume();
    seen.updated = (await c.update({ pids: { limit: 77 } })).pids.limit;
    await c.kill('KILL');
    for (let i = 0; i < 200 && c.state().status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    seen.stopped = c.state().status;
    await c.delete();
    try { Container.open(id, { root }); } catch (e) { seen.afterDelete = e.message; }
    return seen;`, { bundle: b.dir, id });
  assert.equal(out, {
    created: 'created', running: 'running', listed: true, execPid: out.execPid, event: 'stats', paused: 'paused',
    updated: 77, stopped: 'stopped', afterDelete: 'container does not exist',
  });
  assert.ok(out.execPid > 0);
  ctx.leftovers({ id, bundle: b });
});

test('errors are TsruncErrors with runc\'s message', () => {
  if (!h.IS_TSRUNC) return skip(`the library is tsrunc's (${h.RUNTIME_NAME})`);
  const missing = program('return Container.open("no-such-container", { root });');
  assert.equal(missing, { error: 'container does not exist', isTsruncError: true });
  const b = ctx.makeBundle({ args: ['true'], edit: (c) => { c.process.cwd = '/no/such/dir/../../proc/self/fd/../..'; c.process.args = ['/no/such/binary']; } });
  const id = ctx.id('apierr');
  const bad = program('await Container.create(id, { bundle, root });', { bundle: b.dir, id });
  assert.ok(bad.isTsruncError, JSON.stringify(bad));
  assert.match(bad.error, /unable to start container process: exec: "\/no\/such\/binary"/);
  ctx.leftovers({ id, bundle: b });
});

test('checkpoint() and Container.restore(): runc\'s option names; without CRIU a TsruncError naming it, and the container runs on', async () => {
  if (!h.IS_TSRUNC) return skip(`the library is tsrunc's (${h.RUNTIME_NAME})`);
  const b = ctx.makeBundle({ args: ['sleep', '100'] });
  const id = ctx.id('apicr');
  assert.is(ctx.rt(['run', '-d', '--bundle', b.dir, id]).status, 0);
  const { pid } = await ctx.waitStatus(id, 'running');
  const img = ctx.tmp('img');
  const out = program(`
    const c = Container.open(id, { root });
    const seen = {};
    try { await c.checkpoint({ criu: '/nonexistent/criu', imagePath: process.env.IMG }); } catch (e) { seen.checkpoint = [e.message, e instanceof TsruncError]; }
    try { await c.checkpoint({ imagePath: process.env.IMG, manageCgroupsMode: 'bogus' }); } catch (e) { seen.mode = e.message; }
    try { await Container.restore(id + '-2', { root, bundle, criu: '/nonexistent/criu', imagePath: process.env.IMG }); } catch (e) { seen.restore = e.message; }
    seen.status = c.state().status;
    return seen;`, { bundle: b.dir, id, env: { IMG: img } });
  assert.equal(out.checkpoint, ['criu binary /nonexistent/criu (--criu) does not exist or is not executable', true]);
  assert.match(out.mode, /^invalid manage-cgroups-mode value/);
  assert.is(out.restore, 'criu binary /nonexistent/criu (--criu) does not exist or is not executable');
  assert.is(out.status, 'running');
  assert.is(ctx.state(id).pid, pid);
  assert.is(ctx.state(`${id}-2`), null, 'no restored container');
  assert.is(ctx.rt(['delete', '--force', id]).status, 0);
  ctx.leftovers({ id, bundle: b });
});

test('create in a node without --single-threaded is refused, not a hang', () => {
  if (!h.IS_TSRUNC) return skip(`the library is tsrunc's (${h.RUNTIME_NAME})`);
  const b = ctx.makeBundle({ args: ['true'] });
  const id = ctx.id('apimt');
  const out = program('await Container.create(id, { bundle, root });', { singleThreaded: false, bundle: b.dir, id });
  assert.ok(out.isTsruncError);
  assert.match(out.error, /--single-threaded/);
  ctx.leftovers({ id, bundle: b });
});

test('the example in docs/ runs', () => {
  if (!h.IS_TSRUNC) return skip(`the library is tsrunc's (${h.RUNTIME_NAME})`);
  const b = ctx.makeBundle({ args: ['sleep', '100'] });
  const example = fs.readFileSync(path.join(h.PROJECT, 'docs', 'api-example.js'), 'utf8')
    .replace("require('tsrunc')", `require(${JSON.stringify(h.PROJECT)})`)
    .replace("'/run/tsrunc-example'", JSON.stringify(path.join(ctx.base, 'example-root')));
  const file = ctx.tmp('example.js');
  fs.writeFileSync(file, example);
  const r = spawnSync(process.execPath, ['--single-threaded', file, b.dir], { encoding: 'utf8', timeout: 30000 });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /state: running\npids in the container: \d+\n/, r.stdout);
  ctx.leftovers({ bundle: b });
});

test.run();
