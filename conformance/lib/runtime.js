'use strict';
// Drives an OCI runtime through runc's command line:
//   <runtime> --root <root> <command> [flags] <id>
// Only flags that runc has are used, so any runc-compatible runtime works.
const fs = require('fs');
const path = require('path');
const { runSync, runAsync } = require('./util');

class Runtime {
  /**
   * @param {string} binary  path of the runtime executable
   * @param {string} root    private state directory (--root)
   */
  constructor(binary, root) {
    this.binary = binary;
    this.root = root;
    this.log = []; // every command run, for diagnostics
    this.wrapper = []; // e.g. ['nsenter', '--mount=/proc/N/ns/mnt', '--']
  }

  /** Runs the runtime through `wrapper` (a command prefix) from now on. */
  setWrapper(wrapper) { this.wrapper = wrapper || []; }

  command(args) {
    const argv = [this.binary, ...this.argv(args)];
    const full = [...this.wrapper, ...argv];
    return { cmd: full[0], args: full.slice(1) };
  }

  argv(args) {
    return ['--root', this.root, ...args];
  }

  /** Runs a runtime command synchronously; returns { status, stdout, stderr, ... }. */
  exec(args, opts = {}) {
    const { cmd, args: argv } = this.command(args);
    const res = runSync(cmd, argv, opts);
    this.log.push({ cmd: [path.basename(this.binary), ...args].join(' '), status: res.status, signal: res.signal, stderr: res.stderr.trim().slice(0, 500) });
    return res;
  }

  /** `run` in the foreground, in the background of the harness: returns runAsync's handle. */
  runAsync(id, bundle, opts = {}) {
    const args = ['run', '--bundle', bundle];
    if (opts.preserveFds) args.push('--preserve-fds', String(opts.preserveFds));
    args.push(id);
    this.log.push({ cmd: [path.basename(this.binary), ...args].join(' '), async: true });
    const { cmd, args: argv } = this.command(args);
    return runAsync(cmd, argv, { stdio: opts.stdio, timeout: opts.timeout || 60000, cwd: opts.cwd });
  }

  /**
   * `create`, detached: the container inherits stdout/stderr, so they go to
   * files (a pipe would stay open as long as the container lives).
   */
  create(id, bundle, opts = {}) {
    const outFile = opts.stdoutFile || '/dev/null';
    const errFile = opts.stderrFile || '/dev/null';
    const out = fs.openSync(outFile, 'a');
    const err = fs.openSync(errFile, 'a');
    try {
      const args = ['create', '--bundle', bundle];
      if (opts.preserveFds) args.push('--preserve-fds', String(opts.preserveFds));
      args.push(id);
      const res = this.exec(args, { stdio: ['ignore', out, err], timeout: opts.timeout });
      res.stderr = fs.readFileSync(errFile, 'utf8');
      return res;
    } finally {
      fs.closeSync(out);
      fs.closeSync(err);
    }
  }

  start(id) { return this.exec(['start', id]); }

  kill(id, signal) { return this.exec(signal === undefined ? ['kill', id] : ['kill', id, String(signal)]); }

  delete(id, force = false) { return this.exec(force ? ['delete', '--force', id] : ['delete', id]); }

  /** `update` with runc's flags (`--memory N`, `--resources FILE`...). */
  update(id, flags) { return this.exec(['update', ...flags, id]); }

  /** `state`: returns { res, state } where state is the parsed JSON or null. */
  state(id) {
    const res = this.exec(['state', id]);
    let state = null;
    if (res.status === 0) {
      try { state = JSON.parse(res.stdout); } catch { state = null; }
    }
    return { res, state };
  }

  /** Ids that `list --format json` reports (null if the command failed). */
  list() {
    const res = this.exec(['list', '--format', 'json']);
    if (res.status !== 0) return null;
    const text = res.stdout.trim();
    if (text === '' || text === 'null') return [];
    try { return (JSON.parse(text) || []).map((c) => c.id); } catch { return null; }
  }

  /** `spec --bundle <dir>` (writes <dir>/config.json). */
  spec(bundle) { return this.exec(['spec', '--bundle', bundle]); }

  /** The runtime's `features` document, or null when it has none. */
  features() {
    const res = runSync(this.binary, ['features'], { timeout: 20000 });
    if (res.status !== 0) return null;
    try { return JSON.parse(res.stdout); } catch { return null; }
  }
}

module.exports = { Runtime };
