'use strict';
// The layers of src/ import only downward (docs/architecture.md): each
// folder (or top-level module) has a rank, and an import may name only a
// lower rank, or its own folder. An upward import (runtime code reached from
// bundle/ or cgroups/, a stage's module from the parent's foreground) or a
// cycle between folders fails here, naming the file and the import.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');

const SRC = path.join(__dirname, '..', '..', 'src');

// validators: generated into dist/validators by the build (no imports of their own)
const RANK = {
  linux: 0, errors: 0, version: 0, faults: 0, validators: 0,
  trace: -1, // below linux/, which times its FFI binding
  bundle: 1, state: 1,
  cgroups: 2, seccomp: 2, hooks: 2, spec: 2, criu: 2,
  runtime: 3,
  container: 4, features: 4,
  api: 5,
  cli: 6,
};

/** The layer of a path under src/: its first folder, or a top-level module's name. */
function layerOf(rel) {
  const [first] = rel.split(path.sep);
  return first.endsWith('.ts') ? first.slice(0, -3) : first;
}

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of a source file, resolved to a path under src/. */
function importsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const out = [];
  for (const m of text.matchAll(/(?:from|require\()\s*'(\.{1,2}\/[^']*)'/g)) out.push(path.relative(SRC, path.resolve(path.dirname(file), m[1])));
  return out;
}

test('every layer of src/ has a rank', () => {
  const unknown = [...new Set(sources(SRC).map((f) => layerOf(path.relative(SRC, f))))].filter((l) => !(l in RANK));
  assert.equal(unknown, [], 'a new folder or top-level module needs its place in RANK (and in docs/architecture.md)');
});

test('imports point down: no module imports a higher or equal layer other than its own', () => {
  const upward = [];
  for (const file of sources(SRC)) {
    const from = layerOf(path.relative(SRC, file));
    for (const target of importsOf(file)) {
      if (target === path.join('..', 'package.json')) continue; // the version, read from the package
      if (target === 'build-info.json') continue; // the commit, written into dist/ by the build (src/version.ts)
      const to = layerOf(target);
      if (to !== from && !(RANK[to] < RANK[from])) upward.push(`${path.relative(SRC, file)} -> ${target} (${from} ${RANK[from]} -> ${to} ${RANK[to]})`);
    }
  }
  assert.equal(upward, [], `upward imports:\n  ${upward.join('\n  ')}`);
});

test('libc is reached only through src/linux/ (ffi.ts\'s bindings; libseccomp has its own in seccomp/)', () => {
  const direct = sources(SRC)
    .filter((f) => layerOf(path.relative(SRC, f)) !== 'linux' && importsOf(f).includes(path.join('linux', 'ffi')))
    .map((f) => path.relative(SRC, f))
    .filter((f) => f !== path.join('seccomp', 'libseccomp.ts'));
  assert.equal(direct, [], 'these call libc bindings directly instead of a wrapper in src/linux/');
});

test('the check sees an upward import (it would fail on the import bundle/ had of runtime/)', () => {
  const rel = path.join('bundle', 'semantic.ts');
  const fake = path.relative(SRC, path.resolve(path.join(SRC, 'bundle'), '../runtime/init/sysctl'));
  assert.ok(RANK[layerOf(fake)] > RANK[layerOf(rel)]);
});

test.run();
