'use strict';
// What the attack tests (test/security/*.test.js) share.
//
// An attack that succeeds must not damage the machine, so the runtime under
// attack is a copy: the node binary and the project (launcher, dist/, koffi)
// copied to a temp dir once per test process, and (where installed) a copy of
// runc for the same attack against the reference. Payloads are small static C
// programs compiled at test time and copied into the container's rootfs: a
// payload never needs a host binary, and one that writes through a runtime's
// /proc/<pid>/exe writes only when the inode is the copy's (attack.js's
// probeArgs gives it the copy's device and inode). The attack files run one
// uvu suite per runtime through suites(), which also checks runc's known
// weaknesses.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');

const PREFIX = 'tsrunc-sec';
let copies;

/** Removes the copies of earlier test processes that died (their pid is gone). */
function sweepDeadCopies() {
  for (const dir of h.deadRunDirs(PREFIX)) fs.rmSync(dir, { recursive: true, force: true });
}

function copyFile(src, dest, mode) {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(src, dest);
  fs.chmodSync(dest, mode);
}

function inodeOf(p) {
  const st = fs.statSync(p);
  return { dev: st.dev, ino: st.ino };
}

/**
 * The copies, made on first use: { dir, tsrunc, node, nodeInode, runc?, runcInode? }.
 * `tsrunc` is a launcher script (named tsrunc, so the harness treats it as
 * tsrunc) that runs the copied project's bin/tsrunc with the copied node first
 * on PATH, as `#!/usr/bin/env node` finds it.
 */
function runtimeCopies() {
  if (copies) return copies;
  sweepDeadCopies();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-copies-${process.pid}-`));
  fs.chmodSync(dir, 0o755); // a user-namespace root must reach the payloads
  const project = path.join(dir, 'project');
  const node = path.join(dir, 'bin', 'node');
  copyFile(process.execPath, node, 0o755);
  copyFile(path.join(h.PROJECT, 'bin', 'tsrunc'), path.join(project, 'bin', 'tsrunc'), 0o755);
  copyFile(path.join(h.PROJECT, 'package.json'), path.join(project, 'package.json'), 0o644);
  fs.cpSync(path.join(h.PROJECT, 'dist'), path.join(project, 'dist'), {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}.v8-cache`),
  });
  // koffi 3 keeps its native module in a per-platform package (@koromix/koffi-<os>-<arch>)
  const koffiPkg = require(path.join(h.PROJECT, 'node_modules', 'koffi', 'package.json'));
  for (const dep of ['koffi', ...Object.keys(koffiPkg.optionalDependencies || {})]) {
    const src = path.join(h.PROJECT, 'node_modules', dep);
    if (fs.existsSync(src)) fs.cpSync(src, path.join(project, 'node_modules', dep), { recursive: true });
  }
  const tsrunc = path.join(dir, 'tsrunc');
  fs.writeFileSync(tsrunc, `#!/bin/sh\nPATH='${path.dirname(node)}':"$PATH" exec '${path.join(project, 'bin', 'tsrunc')}' "$@"\n`, { mode: 0o755 });
  copies = { dir, project, tsrunc, node, nodeInode: inodeOf(node) };
  const runc = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc'].find((p) => fs.existsSync(p));
  if (runc) {
    copies.runc = path.join(dir, 'runc-copy', 'runc'); // basename runc: the harness treats it as runc
    copyFile(runc, copies.runc, 0o755);
    copies.runcInode = inodeOf(copies.runc);
  }
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return copies;
}

/**
 * A harness context whose runtime is the copy of tsrunc, or of runc with
 * { runtime: 'runc' } (undefined when runc is not installed).
 */
function attackContext(name, { runtime = 'tsrunc' } = {}) {
  const c = runtimeCopies();
  if (runtime === 'runc' && !c.runc) return undefined;
  const ctx = h.createContext(`${name}-${runtime}`);
  fs.chmodSync(ctx.base, 0o755); // a user-namespace root must reach the bundles
  ctx.runtime = runtime === 'runc' ? c.runc : c.tsrunc;
  ctx.runtimeName = runtime;
  /** Device and inode of the runtime binary a container may try to overwrite: "dev:ino". */
  ctx.copyInode = runtime === 'runc' ? c.runcInode : c.nodeInode;
  return ctx;
}

const PAYLOADS = path.join(__dirname, 'payloads');

/**
 * Compiles a static C payload (once per test process) and returns its path:
 * `source`, or payloads/<name>.c without it. Static, so it runs in a busybox
 * rootfs and never loads a host library.
 */
function payload(name, source = fs.readFileSync(path.join(PAYLOADS, `${name}.c`), 'utf8')) {
  const c = runtimeCopies();
  const out = path.join(c.dir, 'payloads', name);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(path.dirname(out), { recursive: true, mode: 0o755 });
  const src = `${out}.c`;
  fs.writeFileSync(src, source);
  execFileSync('gcc', ['-static', '-O2', '-Wall', '-o', out, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** Copies a compiled payload into a bundle's rootfs as /<name> (mode 0755). */
function installPayload(bundle, file, name = path.basename(file)) {
  copyFile(file, path.join(bundle.rootfs, name), 0o755);
  return `/${name}`;
}

/**
 * Runs `fn`, a test that runc 1.1.5 is known to fail for `known` (what it
 * gets wrong, or { weakness, racy: true } for a race one run may miss): its
 * failure is printed as "KNOWN runc 1.1.5 WEAKNESS <file>: <name>", and the
 * test fails if runc passes it, so the list stays true; a racy one that
 * passes says it was not hit this run.
 */
async function expectRuncWeakness(file, name, known, fn) {
  const weakness = known.weakness || known;
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (!err && known.racy) {
    console.log(`KNOWN runc 1.1.5 WEAKNESS ${file}: ${name}: not hit by the race this run: ${weakness}`);
    return;
  }
  if (!err) assert.unreachable(`"${name}" is listed as a known runc weakness (${weakness}) but runc passes it: remove it from knownRunc`);
  console.log(`KNOWN runc 1.1.5 WEAKNESS ${file}: ${name}: ${weakness}\n  ${String(err && err.message).split('\n').slice(0, 4).join('\n  ')}`);
}

/**
 * One uvu suite per runtime (the tsrunc copy, then runc 1.1.5, the
 * reference, where installed), each with its own attack context.
 * define(add, ctx, runtime) adds the tests with add(name, fn). For runc, a
 * test named in knownRunc (name -> what runc 1.1.5 gets wrong, see
 * expectRuncWeakness) must fail. Without runc every runc test is skipped.
 * TSRUNC_SEC_RUNTIME=tsrunc|runc runs only that runtime's suite;
 * TSRUNC_SEC_ONLY=<text> only the tests whose name contains <text> (to debug one).
 */
function suites(file, define, { knownRunc = {} } = {}) {
  const only = process.env.TSRUNC_SEC_RUNTIME;
  for (const runtime of ['tsrunc', 'runc'].filter((r) => !only || r === only)) {
    const test = suite(`${file} ${runtime}`);
    const ctx = attackContext(file, { runtime });
    if (ctx) h.install(test, ctx);
    const add = (name, fn) => {
      if (process.env.TSRUNC_SEC_ONLY && !name.includes(process.env.TSRUNC_SEC_ONLY)) return;
      test(name, async () => {
        if (!ctx) {
          skip(`${file}: ${name}: runc is not installed`);
          return;
        }
        const known = runtime === 'runc' ? knownRunc[name] : undefined;
        if (known) await expectRuncWeakness(file, name, known, fn);
        else await fn();
      });
    };
    define(add, ctx, runtime);
    test.run();
  }
}

/** Polls fn() until it returns a truthy value; throws naming `what` (text, or a function giving it) after `timeout` ms. */
async function waitFor(fn, what, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await h.delay(10);
  }
}

/** A file's text, '' when it cannot be read. */
function readText(p) {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

module.exports = {
  runtimeCopies,
  attackContext,
  payload,
  installPayload,
  inodeOf,
  suites,
  expectRuncWeakness,
  waitFor,
  readText,
};
