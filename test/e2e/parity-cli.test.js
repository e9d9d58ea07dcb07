'use strict';
// Command-line parity with runc 1.1.5: flags, help, logs, ids and error texts
// that callers and people see. Every assertion was checked against
// /usr/sbin/runc 1.1.5 on a Debian 12 host; the runtime is a parameter:
//   node node_modules/uvu/bin.js test/e2e parity-cli
//   TSRUNC_TEST_RUNTIME=/usr/sbin/runc node node_modules/uvu/bin.js test/e2e parity-cli
// Where the runtime's own name or version appears in the output, the tests
// use the basename of the runtime under test (runc or tsrunc).
const fs = require('fs');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');

const test = suite('parity-cli');
const ctx = h.createContext('parity-cli');
h.install(test, ctx);

const NAME = h.RUNTIME_NAME;

/** A running container (`run -d`) whose process is `sleep 1000`. */
function running(opts = {}) {
  const b = ctx.makeBundle({ args: ['sleep', '1000'], ...opts });
  const id = opts.id || ctx.id('pcli');
  ctx.trackId(id);
  const r = ctx.rt(['run', '-d', '--bundle', b.dir, id]);
  assert.is(r.status, 0, `run -d ${id}: ${r.stderr}`);
  return { b, id };
}

// ---------------------------------------------------------------------------
// container ids

test('ids runc accepts: a leading dot, a comma, "+" and ".." inside', () => {
  // runc's idRegex ^[\w+-\.]+$ ("+-." is the range + , - .) and "/"+id must
  // be clean: "." and ".." are refused, ".x" and "x..y" are not.
  for (const id of [`.pcli-${Date.now()}`, 'pcli-a,b+c..d']) {
    const { b } = running({ id });
    const s = ctx.state(id);
    assert.ok(s && s.status === 'running', `${id}: ${JSON.stringify(s)}`);
    assert.is(s.bundle, b.dir);
    const l = ctx.rt(['list', '-q']);
    assert.ok(l.stdout.split('\n').includes(id), `list -q shows ${id}: ${l.stdout}`);
    const e = ctx.rt(['exec', id, 'true']);
    assert.is(e.status, 0, `exec in ${id}: ${e.stderr}`);
    const d = ctx.rt(['delete', '--force', id]);
    assert.is(d.status, 0, `delete ${id}: ${d.stderr}`);
    assert.is(ctx.state(id), null);
  }
});

test('ids runc refuses: ".", "..", a slash, a space', () => {
  const b = ctx.makeBundle();
  for (const id of ['.', '..', 'pcli-a/b', 'pcli a']) {
    const r = ctx.rt(['create', '--bundle', b.dir, id]);
    assert.is(r.status, 1, `${id}: ${r.stderr}`);
    assert.match(h.errorMessage(r.stderr), /invalid (container )?id format/i);
  }
  assert.equal(fs.readdirSync(ctx.root), []);
});

test.run();
