'use strict';
// What the bundle (scripts/bundle/build.js) and the CLI rely on inside yargs,
// which is pinned (package.json) for that reason: a yargs update that moved
// them would make start-up slower (the patch not applied) or break help
// caching, and must fail here rather than pass unnoticed.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');

test('yargs is the pinned version', () => {
  const pinned = require(path.join(ROOT, 'package.json')).dependencies.yargs;
  assert.match(pinned, /^\d+\.\d+\.\d+$/, 'an exact version, not a range');
  assert.is(require('yargs/package.json').version, pinned);
});

test('the bundle reads stdout\'s columns only when help is printed (the lazy-columns patch applied)', () => {
  const bundle = fs.readFileSync(path.join(ROOT, 'dist', 'tsrunc.js'), 'utf8');
  assert.ok(bundle.includes('get stdColumns()'), 'stdColumns is a getter in dist/tsrunc.js');
  assert.not.ok(bundle.includes('stdColumns:void 0!==process.stdout.columns'), 'the eager form is gone');
});

test('the bundle is one function\'s source, in ASCII (a one-byte string in V8: half the memory)', () => {
  const bundle = fs.readFileSync(path.join(ROOT, 'dist', 'tsrunc.js'), 'latin1');
  const { wrapBundle } = require(path.join(ROOT, 'scripts', 'bundle', 'wrap.js'));
  const [head, tail] = wrapBundle('\0').split('\0');
  assert.ok(bundle.startsWith(head) && bundle.endsWith(tail), 'wrapped as bin/tsrunc runs it');
  const at = bundle.search(/[^\x00-\x7f]/);
  assert.is(at, -1, `a non-ASCII byte at ${at}: ${bundle.slice(at - 40, at + 10)}`);
});

test('yargs still has the usage instance whose help cache the CLI turns off', () => {
  const parser = require('yargs')([]);
  const usage = parser.getInternalMethods().getUsageInstance();
  assert.type(usage.cacheHelpMessage, 'function');
});

test.run();
