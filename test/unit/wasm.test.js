'use strict';
// Which processes of a container run as WebAssembly modules (src/bundle/wasm.ts,
// crun's rules), and what the runtime tells a module's process of itself before
// it forks (src/linux/proc.ts: argv/environment areas, mapped files).
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const { wasmMarking, runsAsWasm } = require('../../dist/bundle/wasm.js');
const { argEnvAreas, mappedFiles } = require('../../dist/linux/proc.js');

test('markings: compat and wasm mark every process, the smart ones only .wasm and .wat args[0]', () => {
  const cases = [
    [{ 'module.wasm.image/variant': 'compat' }, { mode: 'all', by: 'module.wasm.image/variant=compat' }],
    [{ 'module.wasm.image/variant': 'compat-smart' }, { mode: 'smart', by: 'module.wasm.image/variant=compat-smart' }],
    [{ 'run.oci.handler': 'wasm' }, { mode: 'all', by: 'run.oci.handler=wasm' }],
    [{ 'run.oci.handler': 'wasm-smart' }, { mode: 'smart', by: 'run.oci.handler=wasm-smart' }],
    [{ 'module.wasm.image/variant': 'other' }, undefined],
    [{}, undefined],
    [undefined, undefined],
  ];
  for (const [annotations, want] of cases) assert.equal(wasmMarking(annotations), want, JSON.stringify(annotations));
  const all = wasmMarking({ 'run.oci.handler': 'wasm' });
  const smart = wasmMarking({ 'run.oci.handler': 'wasm-smart' });
  assert.ok(runsAsWasm(all, '/bin/sh'));
  assert.ok(runsAsWasm(smart, '/app.wasm'));
  assert.ok(runsAsWasm(smart, 'app.wat'));
  assert.not.ok(runsAsWasm(smart, '/bin/sh'));
  assert.not.ok(runsAsWasm(smart, '/app.wasm.sh'));
  assert.not.ok(runsAsWasm(undefined, '/app.wasm'));
  assert.not.ok(runsAsWasm(all, undefined));
});

test('markings: run.oci.handler decides alone when present; a CRI sandbox is never a module', () => {
  assert.is(wasmMarking({ 'run.oci.handler': 'krun', 'module.wasm.image/variant': 'compat' }), undefined);
  assert.is(wasmMarking({ 'io.kubernetes.cri.container-type': 'sandbox', 'run.oci.handler': 'wasm' }), undefined);
  assert.equal(wasmMarking({ 'io.kubernetes.cri.container-type': 'container', 'module.wasm.image/variant': 'compat' }).mode, 'all');
});

test('argEnvAreas: where /proc/self/cmdline and environ come from, in order', () => {
  const a = argEnvAreas();
  assert.ok(a, 'read from /proc/self/stat');
  assert.ok(a.argStart < a.argEnd && a.argEnd <= a.envStart && a.envStart < a.envEnd, JSON.stringify(a));
  assert.is(a.argEnd - a.argStart, fs.readFileSync('/proc/self/cmdline').length);
  assert.is(a.envEnd - a.envStart, fs.readFileSync('/proc/self/environ').length);
});

test('mappedFiles: node itself by device and inode (as statx gives them) and by path, and its mapped libraries', () => {
  const m = mappedFiles();
  const st = fs.statSync(process.execPath, { bigint: true });
  const major = Number((st.dev >> 8n) & 0xfffn);
  const minor = Number((st.dev & 0xffn) | ((st.dev >> 12n) & 0xfff00n));
  assert.ok(m.ids.includes(`${major}:${minor}:${st.ino}`), `${major}:${minor}:${st.ino} in ${m.ids.slice(0, 5)}`);
  assert.ok(m.paths.includes(fs.realpathSync(process.execPath)), m.paths.slice(0, 5).join(' '));
  assert.ok(m.paths.some((p) => /\/libc[.-]/.test(p)), 'libc is mapped');
});

test.run();
