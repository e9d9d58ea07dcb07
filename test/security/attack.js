'use strict';
// What proc-probe.test.js needs to read payloads/probe.c's report: its
// stages, what it got from them, and the guard that undoes a successful write
// into a runtime copy.
const fs = require('fs');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const lib = require('./lib');

const STAGE_KEYS = ['tries', 'exe', 'copy', 'environ', 'secret', 'fd', 'cwd', 'root', 'ptrace', 'seccomp'];
const SPLIT = new RegExp(` (?=(?:${STAGE_KEYS.join('|')})=)`);

/** The probe's "stage ..." lines as { line, pid, exe, copy, environ, secret, fd, cwd, root, ptrace, seccomp }. */
function parseStages(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^stage pid=(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const s = { line, pid: Number(m[1]) };
    for (const part of m[2].split(SPLIT)) {
      const i = part.indexOf('=');
      s[part.slice(0, i)] = part.slice(i + 1);
    }
    out.push(s);
  }
  return out;
}

/** What a probe got from runtime stages (empty: nothing). */
function stageLeaks(stages) {
  const leaks = [];
  for (const s of stages) {
    const got = [];
    if (s.copy === 'yes') got.push("/proc/<pid>/exe is the runtime's binary");
    if (s.secret === 'yes') got.push("/proc/<pid>/environ holds the caller's TSRUNC_SECRET");
    for (const k of ['exe', 'environ', 'fd', 'cwd', 'root', 'ptrace']) {
      if ((s[k] || '').startsWith('ok')) got.push(`${k}=${s[k].length > 160 ? `${s[k].slice(0, 160)}...` : s[k]}`);
    }
    if (got.length) leaks.push(`stage pid ${s.pid}: ${got.join('; ')}`);
  }
  return leaks;
}

/**
 * Asserts the probe saw at least `minSeen` runtime stages (a test that never
 * caught the window proves nothing), got nothing from any of them, and did
 * not write into the runtime's binary (guard: guardCopy's).
 */
function assertStagesSealed(guard, text, minSeen, what) {
  const stages = parseStages(text);
  const problems = [];
  const tail = guard.written();
  const said = /^cve-write ok.*$/m.exec(text);
  if (tail || said) {
    problems.push(`it appended to the runtime's binary ${guard.file} through /proc/<pid>/exe of a stage (CVE-2019-5736): ${JSON.stringify(tail.trim() || said[0])}`);
  }
  const leaks = stageLeaks(stages);
  if (leaks.length) {
    problems.push(`it got into ${leaks.length} of ${stages.length} runtime stage(s) (every stage must be non-dumpable from fork to execve):\n    ${leaks.slice(0, 3).join('\n    ')}`);
  }
  assert.ok(!problems.length, `${what}: a process in the container attacked the runtime:\n  ${problems.join('\n  ')}`);
  assert.ok(stages.length >= minSeen, `${what}: the probe saw ${stages.length} runtime stage(s), fewer than ${minSeen}: the test proves nothing\n${text}`);
  return stages;
}

/** The runtime binary a container could overwrite through /proc/<pid>/exe: the node copy, or runc's copy. */
function copyBinary(ctx) {
  const c = lib.runtimeCopies();
  return ctx.runtimeName === 'runc' ? c.runc : c.node;
}

/**
 * Remembers the copy's size; written() says whether a probe appended its
 * marker, restore() truncates the copy back (call it in a finally).
 */
function guardCopy(ctx) {
  const file = copyBinary(ctx);
  const size = fs.statSync(file).size;
  return {
    file,
    written() {
      const now = fs.statSync(file).size;
      if (now === size) return '';
      const fd = fs.openSync(file, 'r');
      try {
        const buf = Buffer.alloc(Math.min(now - size, 256));
        fs.readSync(fd, buf, 0, buf.length, size);
        return buf.toString('latin1');
      } finally {
        fs.closeSync(fd);
      }
    },
    restore() {
      if (fs.statSync(file).size !== size) fs.truncateSync(file, size);
    },
  };
}

/** argv of the probe for ctx's runtime copy. */
function probeArgs(ctx, mode, secret) {
  return ['/probe', mode, String(ctx.copyInode.dev), String(ctx.copyInode.ino), secret];
}

/** A secret for the runtime's environment: TSRUNC_SECRET=<it>; no "runc" in it (the probe finds stages by that word). */
function newSecret() {
  return `prb-secret-${h.rand(8)}`;
}

function envWith(secret) {
  return { ...process.env, TSRUNC_SECRET: secret };
}

module.exports = {
  parseStages,
  stageLeaks,
  assertStagesSealed,
  guardCopy,
  probeArgs,
  newSecret,
  envWith,
};
