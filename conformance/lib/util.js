'use strict';
// Small process and file helpers shared by the conformance harness.
const fs = require('fs');
const path = require('path');
const os = require('os');
const { spawn, spawnSync } = require('child_process');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a command to completion, synchronously. Never throws for a non-zero
 * exit: returns { status, signal, stdout, stderr, error }.
 */
function runSync(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    stdio: opts.stdio || ['ignore', 'pipe', 'pipe'],
    timeout: opts.timeout || 60000,
    killSignal: 'SIGKILL',
    cwd: opts.cwd,
    env: opts.env || process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    status: res.status,
    signal: res.signal,
    stdout: res.stdout || '',
    stderr: res.stderr || '',
    error: res.error ? String(res.error.message || res.error) : undefined,
  };
}

/**
 * Starts a command in the background. Returns { child, done, stdout(),
 * stderr(), waitFor(regexp, ms) }. `done` resolves with
 * { status, signal, stdout, stderr } when the process exited and its
 * output pipes closed (or `timeout` ms passed: then it is killed).
 */
function runAsync(cmd, args, opts = {}) {
  const child = spawn(cmd, args, {
    stdio: opts.stdio || ['ignore', 'pipe', 'pipe'],
    cwd: opts.cwd,
    env: opts.env || process.env,
  });
  let out = '';
  let err = '';
  const waiters = [];
  const notify = () => {
    for (const w of waiters.slice()) {
      if (w.re.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(true);
      }
    }
  };
  if (child.stdout) child.stdout.on('data', (d) => { out += d.toString('utf8'); notify(); });
  if (child.stderr) child.stderr.on('data', (d) => { err += d.toString('utf8'); });
  const timeout = opts.timeout || 60000;
  let timedOut = false;
  const done = new Promise((resolve) => {
    const timer = setTimeout(() => { timedOut = true; try { child.kill('SIGKILL'); } catch { /* gone */ } }, timeout);
    let spawnError;
    child.on('error', (e) => { spawnError = e; });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w.resolve(false);
      resolve({
        status, signal, stdout: out, stderr: err, timedOut,
        error: spawnError ? String(spawnError.message || spawnError) : undefined,
      });
    });
  });
  return {
    child,
    done,
    stdout: () => out,
    stderr: () => err,
    /** Resolves true once stdout matches `re`, false on timeout or exit. */
    waitFor(re, ms) {
      if (re.test(out)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const w = { re, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) { waiters.splice(i, 1); resolve(false); }
        }, ms);
      });
    },
  };
}

/** Polls `fn` until it returns a truthy value or `ms` elapse; returns the last value. */
async function poll(fn, ms = 10000, every = 50) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() >= end) return v;
    await sleep(every);
  }
}

/** A fresh private temp directory (mode 0755 so user-namespaced roots can traverse it). */
function makeTempDir(prefix = 'tsrunc-conformance-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

function readlinkOrNull(p) {
  try { return fs.readlinkSync(p); } catch { return null; }
}

function readOrNull(p) {
  try { return fs.readFileSync(p, 'utf8'); } catch { return null; }
}

/** Is `pid` a live process (a zombie has exited: it only waits to be reaped)? */
function isAlive(pid) {
  try { process.kill(pid, 0); } catch (e) { if (e.code !== 'EPERM') return false; }
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (stat === null) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** Shortens long text for diagnostics. */
function clip(s, n = 2000) {
  s = String(s == null ? '' : s);
  return s.length > n ? `${s.slice(0, n)}... (${s.length - n} more chars)` : s;
}

module.exports = { sleep, runSync, runAsync, poll, makeTempDir, readlinkOrNull, readOrNull, isAlive, clip };
