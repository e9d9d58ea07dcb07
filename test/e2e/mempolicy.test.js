'use strict';
// linux.memoryPolicy (config-linux.md "Memory policy"): the container's
// process, and each process `exec` starts in it, runs with the NUMA policy
// set_mempolicy(2) was given: every mode and flag `features` lists, as
// get_mempolicy(2) reports it from inside the container (a static payload,
// test/e2e/payloads/getmempolicy.c). What the kernel would refuse is refused
// by field before anything exists; what only the kernel can tell fails
// create with the call named, and nothing is left behind.
//
// The test machines have one NUMA node (0): a policy over several nodes is
// tried with MPOL_F_STATIC_NODES / MPOL_F_RELATIVE_NODES, which the kernel
// takes for nodes the host lacks.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');

const test = suite('mempolicy');
const ctx = h.createContext('mempolicy');
h.install(test, ctx);

const NOT_TSRUNC = `${h.RUNTIME_NAME} is not tsrunc: runc 1.1.5 has no linux.memoryPolicy (it ignores the field)`;
const MODE = { MPOL_DEFAULT: 0, MPOL_PREFERRED: 1, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_LOCAL: 4, MPOL_PREFERRED_MANY: 5, MPOL_WEIGHTED_INTERLEAVE: 6 };
const FLAG = { MPOL_F_NUMA_BALANCING: 0x2000, MPOL_F_RELATIVE_NODES: 0x4000, MPOL_F_STATIC_NODES: 0x8000 };

let payloadPath;
/** The get_mempolicy payload, compiled once (static: it runs in the busybox rootfs). */
function payload() {
  if (payloadPath) return payloadPath;
  payloadPath = ctx.tmp('getmempolicy');
  execFileSync('gcc', ['-static', '-O2', '-Wall', '-o', payloadPath, path.join(__dirname, 'payloads', 'getmempolicy.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
  return payloadPath;
}

/** A bundle whose process is `args` (the payload is /gmp), with linux.memoryPolicy = policy. */
function bundle(policy, args = ['/gmp']) {
  const b = ctx.makeBundle({ args, edit: (c) => { c.linux.memoryPolicy = policy; } });
  fs.copyFileSync(payload(), path.join(b.rootfs, 'gmp'));
  fs.chmodSync(path.join(b.rootfs, 'gmp'), 0o755);
  return b;
}

const ok = (r, what) => assert.is(r.status, 0, `${what}: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

/** `run` of the payload under `policy`: what it reports. */
function policyIn(policy) {
  const b = bundle(policy);
  const id = ctx.id('mp');
  const r = ctx.rt(['run', '--bundle', b.dir, id]);
  ok(r, `run with ${JSON.stringify(policy)}`);
  ctx.leftovers({ id, bundle: b });
  return r.stdout.trim();
}

const expect = (mode, flags = [], nodes = '') => `mode=${MODE[mode]} flags=0x${flags.reduce((a, f) => a | FLAG[f], 0).toString(16)} nodes=${nodes}`;

function tsruncOnly(name, fn) {
  test(name, async () => {
    if (!h.IS_TSRUNC) return skip(NOT_TSRUNC);
    await fn();
  });
}

const features = () => JSON.parse(ctx.rt(['features'], { noRoot: true }).stdout).linux.memoryPolicy;

tsruncOnly('features lists the spec\'s seven modes and three flags', () => {
  const f = features();
  assert.equal([...f.modes].sort(), Object.keys(MODE).sort());
  assert.equal([...f.flags].sort(), Object.keys(FLAG).sort());
});

tsruncOnly('every mode features lists is the container process\'s policy', () => {
  for (const mode of features().modes) {
    const noNodes = mode === 'MPOL_DEFAULT' || mode === 'MPOL_LOCAL';
    const policy = noNodes ? { mode } : { mode, nodes: '0' };
    assert.is(policyIn(policy), expect(mode, [], noNodes ? '' : '0'), mode);
  }
});

tsruncOnly('every flag features lists, with a mode it goes with', () => {
  // more nodes than the host has: kept as given with static or relative nodes
  assert.is(policyIn({ mode: 'MPOL_BIND', nodes: '0-3', flags: ['MPOL_F_STATIC_NODES'] }), expect('MPOL_BIND', ['MPOL_F_STATIC_NODES'], '0,1,2,3'));
  assert.is(policyIn({ mode: 'MPOL_INTERLEAVE', nodes: '1,3', flags: ['MPOL_F_RELATIVE_NODES'] }), expect('MPOL_INTERLEAVE', ['MPOL_F_RELATIVE_NODES'], '1,3'));
  assert.is(policyIn({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }), expect('MPOL_BIND', ['MPOL_F_NUMA_BALANCING'], '0'));
});

tsruncOnly('MPOL_PREFERRED without nodes is the kernel\'s local allocation; nodes given as an empty string are none', () => {
  assert.is(policyIn({ mode: 'MPOL_PREFERRED' }), expect('MPOL_LOCAL'));
  assert.is(policyIn({ mode: 'MPOL_LOCAL', nodes: '' }), expect('MPOL_LOCAL'));
});

tsruncOnly('children of the container\'s process inherit it, and a process exec starts gets it too', () => {
  const b = bundle({ mode: 'MPOL_INTERLEAVE', nodes: '0' }, ['sleep', '100']);
  const id = ctx.id('mp');
  ok(ctx.rt(['run', '-d', '--bundle', b.dir, id]), 'run -d');
  const e = ctx.rt(['exec', id, '/gmp']);
  ok(e, 'exec');
  assert.is(e.stdout.trim(), expect('MPOL_INTERLEAVE', [], '0'));
  const sh = ctx.rt(['exec', id, 'sh', '-c', '/gmp']);
  assert.is(sh.stdout.trim(), expect('MPOL_INTERLEAVE', [], '0'), 'a child of the exec\'d process');
  ok(ctx.rt(['delete', '--force', id]), 'delete');
  ctx.leftovers({ id, bundle: b });
});

tsruncOnly('what set_mempolicy would refuse is refused by field before anything exists', () => {
  const hasMemory = fs.readFileSync('/sys/devices/system/node/has_memory', 'utf8').trim();
  const cases = [
    [{ mode: 'MPOL_DEFAULT', nodes: '0' }, 'linux.memoryPolicy.nodes: MPOL_DEFAULT takes no nodes (got "0")'],
    [{ mode: 'MPOL_LOCAL', nodes: '0' }, 'linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes'],
    [{ mode: 'MPOL_LOCAL', flags: ['MPOL_F_STATIC_NODES'] }, 'linux.memoryPolicy.flags: MPOL_LOCAL takes no MPOL_F_STATIC_NODES'],
    [{ mode: 'MPOL_BIND' }, 'linux.memoryPolicy.nodes: MPOL_BIND needs at least one node'],
    [{ mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '' }, 'linux.memoryPolicy.nodes: MPOL_WEIGHTED_INTERLEAVE needs at least one node'],
    [{ mode: 'MPOL_PREFERRED', flags: ['MPOL_F_RELATIVE_NODES'] }, 'MPOL_PREFERRED with MPOL_F_RELATIVE_NODES needs at least one node'],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }, 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other'],
    [{ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }, 'MPOL_F_NUMA_BALANCING is only for MPOL_BIND and MPOL_PREFERRED_MANY (the mode is MPOL_INTERLEAVE)'],
    [{ mode: 'MPOL_BIND', nodes: '3-1' }, 'linux.memoryPolicy.nodes: "3-1" is a range that ends before it starts'],
    [{ mode: 'MPOL_BIND', nodes: '0-4000000000' }, 'linux.memoryPolicy.nodes: node 4000000000 is above the largest node number Linux has (1023)'],
    [{ mode: 'MPOL_BIND', nodes: '7' }, `linux.memoryPolicy.nodes: none of nodes "7" has memory on this host (nodes with memory: ${hasMemory})`],
    [{ mode: 'MPOL_BIND', nodes: '0,x' }, 'linux.memoryPolicy'],
    [{ mode: 'MPOL_NOPE', nodes: '0' }, 'linux.memoryPolicy.mode'],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NOPE'] }, 'linux.memoryPolicy.flags'],
    [{ nodes: '0' }, 'mode'],
  ];
  for (const [policy, expected] of cases) {
    const b = bundle(policy);
    const id = ctx.id('mp');
    const r = ctx.rt(['create', '--bundle', b.dir, id]);
    assert.is(r.status, 1, `${JSON.stringify(policy)}: exit ${r.status}\n${r.stderr}`);
    const msg = h.errorMessage(r.stderr);
    assert.ok(msg.includes(expected), `${JSON.stringify(policy)}: "${msg}" should include: ${expected}`);
    ctx.leftovers({ id, bundle: b });
  }
});

tsruncOnly('what only the kernel can refuse fails create with the call named, nothing left behind', () => {
  // static nodes are taken as given, then none of them is one the process may use
  const b = bundle({ mode: 'MPOL_BIND', nodes: '7', flags: ['MPOL_F_STATIC_NODES'] });
  const id = ctx.id('mp');
  const r = ctx.rt(['create', '--bundle', b.dir, id]);
  assert.is(r.status, 1, r.stderr);
  const msg = h.errorMessage(r.stderr);
  assert.ok(msg.endsWith('linux.memoryPolicy: set_mempolicy("MPOL_BIND|MPOL_F_STATIC_NODES", "7"): Invalid argument'), msg);
  ctx.leftovers({ id, bundle: b });
});

test.run();
