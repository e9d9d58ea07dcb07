'use strict';
// The conformance suite (conformance/) as uvu tests: one test per case,
// against the runtime in $TSRUNC_TEST_RUNTIME (default: this repo's
// bin/tsrunc). Cases the host or runtime cannot support are skipped, with
// the reason printed. $TSRUNC_CONFORMANCE_KNOWN=NAME turns the known
// failures of a reference runtime (see conformance/lib/known.js) into passes.
//
//   node node_modules/uvu/bin.js test/conformance
//   TSRUNC_TEST_RUNTIME=/usr/sbin/runc TSRUNC_CONFORMANCE_KNOWN=runc-1.1 node node_modules/uvu/bin.js test/conformance
const path = require('path');
const { test } = require('uvu');
const assert = require('uvu/assert');
const conf = require('../../conformance/lib');

const runtime = path.resolve(process.env.TSRUNC_TEST_RUNTIME || conf.DEFAULT_RUNTIME);
// tsrunc's own deliberate deviations are known by default when testing tsrunc
const known = process.env.TSRUNC_CONFORMANCE_KNOWN ?? (process.env.TSRUNC_TEST_RUNTIME ? '' : 'tsrunc');
if (known && !conf.KNOWN[known]) throw new Error(`TSRUNC_CONFORMANCE_KNOWN=${known}: no such list (have ${Object.keys(conf.KNOWN).join(', ')})`);
const only = (process.env.TSRUNC_CONFORMANCE_CASES || '').split(/[\s,]+/).filter(Boolean);
const env = conf.environment(runtime);

function report(result) {
  const failed = result.checks.filter((c) => !c.ok);
  const lines = [`conformance case ${result.name} against ${runtime}: ${failed.length} of ${result.checks.length} checks failed`];
  for (const c of failed) lines.push(`  - ${c.name}: ${c.detail}`);
  for (const l of result.log.slice(-8)) lines.push(`  $ ${l.cmd}${l.async ? '' : ` -> ${l.status}`}${l.stderr ? `: ${l.stderr}` : ''}`);
  for (const e of result.cleanupErrors) lines.push(`  cleanup: ${e}`);
  return lines.join('\n');
}

for (const c of conf.cases) {
  if (only.length && !only.includes(c.name)) continue;
  const reason = c.skip ? c.skip(env) : null;
  if (reason) {
    console.log(`SKIP ${c.name}: ${reason}`);
    test.skip(c.name, () => {});
    continue;
  }
  test(c.name, async () => {
    const result = conf.applyKnown(await conf.runCase(runtime, c, env), known);
    if (result.todo) {
      console.log(`KNOWN ${known} FAILURE ${c.name}: ${result.todo.join('; ')}`);
      return;
    }
    assert.ok(result.ok, report(result));
    assert.equal(result.cleanupErrors, [], `cleanup of ${c.name} failed: ${result.cleanupErrors.join('; ')}`);
  });
}

test.run();
