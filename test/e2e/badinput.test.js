'use strict';
// Bad bundles and bad arguments: every case exits 1 with one error line that
// names the problem, and leaves nothing behind (state dir entry, mounts,
// cgroups, processes). runc's message texts differ from tsrunc's, so the
// "names the field/path" checks apply to tsrunc only (keyed off the runtime's
// basename); against runc only the exit status, the one-line error and the
// leftovers check apply — except where runc's text is what callers see and
// tsrunc copies it (executable not found, invalid container ID).
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');

const test = suite('badinput');
const ctx = h.createContext('badinput');
h.install(test, ctx);

/**
 * Runs `cmd` (create or run) for a bundle that must be rejected.
 * mentions: strings/RegExps the message must contain (tsrunc only);
 * common: the same, but checked for every runtime.
 */
function rejected({ cmd = 'create', bundle, bundleArg, mentions = [], common = [], id }) {
  id = id || ctx.id('bad');
  const args = [cmd, '--bundle', bundleArg || bundle.dir, id];
  const r = ctx.rt(args);
  assert.is(r.status, 1, `${args.join(' ')}: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const msg = h.errorMessage(r.stderr);
  const check = (m) => {
    if (m instanceof RegExp) assert.match(msg, m, `message "${msg}" should match ${m}`);
    else assert.ok(msg.includes(m), `message "${msg}" should mention ${m}`);
  };
  common.forEach(check);
  if (h.IS_TSRUNC) mentions.forEach(check);
  ctx.leftovers({ id, bundle: bundle || bundleArg });
  // the state of the root is untouched: the id can be used right away
  const again = ctx.rt(['state', id]);
  assert.is(again.status, 1);
  return msg;
}

const edited = (edit, opts = {}) => ctx.makeBundle({ ...opts, edit: (c) => edit(c) || c });

test('missing bundle directory', () => {
  const missing = path.join(ctx.base, 'no-such-bundle');
  for (const cmd of ['create', 'run']) rejected({ cmd, bundleArg: missing, mentions: [missing] });
});

test('bundle without config.json', () => {
  const b = ctx.makeBundle({ noConfig: true });
  for (const cmd of ['create', 'run']) rejected({ cmd, bundle: b, mentions: ['config.json'] });
});

test('config.json is not valid JSON', () => {
  const b = ctx.makeBundle({ rawConfig: '{"ociVersion": "1.0.2", "process": {' });
  rejected({ bundle: b, mentions: ['config.json', /JSON/] });
  const empty = ctx.makeBundle({ rawConfig: '' });
  rejected({ bundle: empty, mentions: ['config.json'] });
});

test('schema violation: process.cwd is not a string', () => {
  const b = edited((c) => {
    c.process.cwd = 5;
  });
  rejected({ bundle: b, mentions: [/process\.cwd|process\/cwd/] });
});

test('schema violation: ociVersion is not a string', () => {
  const b = edited((c) => {
    c.ociVersion = 3;
  });
  rejected({ bundle: b, mentions: ['ociVersion'] });
});

test('schema violation: a namespace of type "foo"', () => {
  const b = edited((c) => {
    c.linux.namespaces.push({ type: 'foo' });
  });
  rejected({ bundle: b, mentions: [/linux\.namespaces\[5\]|linux\/namespaces\/5/] });
});

test('semantic error: relative process.cwd', () => {
  const b = edited((c) => {
    c.process.cwd = 'tmp';
  });
  for (const cmd of ['create', 'run']) rejected({ cmd, bundle: b, mentions: ['process.cwd', 'absolute'] });
});

test('semantic error: the same namespace type twice', () => {
  const b = edited((c) => {
    c.linux.namespaces.push({ type: 'pid' });
  });
  rejected({ bundle: b, mentions: ['linux.namespaces', 'pid'] });
});

test('semantic error: no process', () => {
  const b = edited((c) => {
    delete c.process;
  });
  rejected({ bundle: b, mentions: ['process'] });
});

test('semantic error: empty process.args', () => {
  const b = edited((c) => {
    c.process.args = [];
  });
  rejected({ bundle: b, mentions: ['process.args'] });
});

test('missing root filesystem', () => {
  const b = ctx.makeBundle({ noRootfs: true });
  for (const cmd of ['create', 'run']) rejected({ cmd, bundle: b, mentions: [/root\.path|rootfs/, b.rootfs] });
  const other = edited((c) => {
    c.root.path = 'no-such-rootfs';
  });
  rejected({ bundle: other, mentions: [path.join(other.dir, 'no-such-rootfs')] });
});

test('invalid container id', () => {
  const b = ctx.makeBundle();
  for (const id of ['a/b', '..', 'a b']) {
    const r = ctx.rt(['create', '--bundle', b.dir, id]);
    assert.is(r.status, 1, `id ${JSON.stringify(id)}: ${r.stderr}`);
    // runc 1.1.5: "runc create failed: invalid container ID format"
    const msg = h.errorMessage(r.stderr);
    assert.match(msg, /invalid (container )?id format/i);
    if (h.IS_TSRUNC) assert.ok(msg.includes(id), `message "${msg}" should name the id`);
    assert.not.ok(fs.existsSync(path.join(ctx.root, 'a')), 'nothing made in the root');
  }
  assert.equal(fs.readdirSync(ctx.root), []);
  ctx.leftovers({ bundle: b });
});

test('executable not found in $PATH', () => {
  const b = ctx.makeBundle({ args: ['no-such-command-xyz', 'arg'] });
  for (const cmd of ['create', 'run']) {
    rejected({ cmd, bundle: b, common: [/"?no-such-command-xyz"?/, 'executable file not found in $PATH'] });
  }
});

test('executable given by a path that does not exist / is not executable', () => {
  const b = ctx.makeBundle({ args: ['/bin/no-such-command-xyz'] });
  rejected({ bundle: b, common: ['/bin/no-such-command-xyz'] });
  const c = ctx.makeBundle({ args: ['/etc/passwd'] });
  // runc 1.1.5: exec: "/etc/passwd": permission denied
  rejected({ cmd: 'run', bundle: c, common: ['/etc/passwd', /permission denied/i] });
});

test('a failed create leaves nothing, and the same id then works', () => {
  const b = ctx.makeBundle({ args: ['no-such-command-xyz'] });
  const id = ctx.id('reuse');
  rejected({ bundle: b, id, common: ['executable file not found in $PATH'] });
  const good = ctx.makeBundle({ args: ['sh', '-c', 'exit 0'] });
  const r = ctx.rt(['run', '--bundle', good.dir, id]);
  assert.is(r.status, 0, r.stderr);
  ctx.leftovers({ id, bundle: good });
});

test.run();
