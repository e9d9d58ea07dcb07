'use strict';
// What the attack tests (test/security/*.test.js) share.
//
// An attack that succeeds must not damage the machine, so the runtime under
// attack is a copy: the node binary and the project (launcher, dist/, koffi)
// copied to a temp dir once per test process, and (where installed) a copy of
// runc for the same attack against the reference. Payloads are small static C
// programs compiled at test time and copied into the container's rootfs: a
// payload never needs a host binary, and one that writes through a runtime's
// /proc/<pid>/exe writes only when the inode is the copy's (payloadArgs gives
// it the copy's device and inode).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const h = require('../lib/harness');

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

/**
 * Compiles a static C payload (once per test process) and returns its path.
 * Static, so it runs in a busybox rootfs and never loads a host library.
 */
function payload(name, source) {
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

module.exports = { runtimeCopies, attackContext, payload, installPayload, inodeOf };
