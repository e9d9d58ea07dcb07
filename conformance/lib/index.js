'use strict';
// Entry point of the conformance harness: runs cases against a runtime.
//
//   const conf = require('./conformance/lib');
//   const env = conf.environment('/usr/sbin/runc');
//   const result = await conf.runCase('/usr/sbin/runc', conf.getCase('hostname'), env);
//   // result: { name, skip: reason|null, checks: [{name, ok, detail}], ok, log, cleanupErrors }
const fs = require('fs');
const path = require('path');
const { cases } = require('./cases');
const { CaseContext, CGROUP_PARENT } = require('./context');
const { hostInfo } = require('./host');
const { Runtime } = require('./runtime');
const { busyboxRootfs } = require('../../test/lib/rootfs');
const { KNOWN, applyKnown } = require('./known');

const DEFAULT_RUNTIME = path.resolve(__dirname, '..', '..', 'bin', 'tsrunc');

/** Facts about the host and the runtime that decide skips. Computed once per run. */
function environment(runtimeBinary) {
  const features = fs.existsSync(runtimeBinary) ? new Runtime(runtimeBinary, '/nonexistent').features() : null;
  return { host: hostInfo(), features, runtime: runtimeBinary };
}

function getCase(name) {
  return cases.find((c) => c.name === name) || null;
}

/** Runs one case; never throws. */
async function runCase(runtimeBinary, c, env) {
  const result = { name: c.name, description: c.description, skip: null, checks: [], ok: true, log: [], cleanupErrors: [] };
  const skip = c.skip ? c.skip(env) : null;
  if (skip) {
    result.skip = skip;
    return result;
  }
  if (!fs.existsSync(runtimeBinary)) {
    result.checks.push({ name: 'runtime binary exists', ok: false, detail: runtimeBinary });
    result.ok = false;
    return result;
  }
  let ctx;
  try {
    busyboxRootfs(); // build the cached rootfs outside the case's timing
    ctx = new CaseContext(runtimeBinary, env);
    await c.run(ctx);
  } catch (e) {
    (ctx ? ctx.checks : result.checks).push({ name: 'harness error', ok: false, detail: e && e.stack ? e.stack : String(e) });
  } finally {
    if (ctx) {
      result.checks.push(...ctx.checks);
      result.log = ctx.runtime.log;
      result.cleanupErrors = await ctx.cleanup();
    }
  }
  if (result.checks.length === 0) result.checks.push({ name: 'case made at least one check', ok: false, detail: '' });
  result.ok = result.checks.every((k) => k.ok);
  return result;
}

module.exports = { cases, getCase, runCase, environment, applyKnown, KNOWN, DEFAULT_RUNTIME, CGROUP_PARENT };
