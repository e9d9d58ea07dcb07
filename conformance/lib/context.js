'use strict';
// One conformance case's world: a private temp dir (bundles, runtime
// --root), the runtime driver, the checks collected so far, and everything
// to undo afterwards. cleanup() always runs, whatever happened.
const fs = require('fs');
const path = require('path');
const { Runtime } = require('./runtime');
const { makeBundle, checkerArgsFor, CHECKER } = require('./bundle');
const { parseFacts } = require('./facts');
const { checkFacts } = require('./checks');
const host = require('./host');
const { makeTempDir, clip, poll, isAlive, runSync } = require('./util');

/** Parent of every container cgroup this harness process makes. */
const CGROUP_PARENT = `/tsrunc-conformance-${process.pid}`;

let counter = 0;

class CaseContext {
  /**
   * @param {string} runtimeBinary
   * @param {object} env  { host: hostInfo(), features }
   */
  constructor(runtimeBinary, env) {
    this.env = env;
    this.dir = makeTempDir();
    this.stateRoot = path.join(this.dir, 'state');
    fs.mkdirSync(this.stateRoot, { mode: 0o700 });
    this.runtime = new Runtime(runtimeBinary, this.stateRoot);
    this.checks = [];
    this.ids = [];
    this.holders = [];
    this.deferred = [];
    this.ownMounts = new Set(); // host mounts the case made itself
  }

  /** A new container id, remembered for cleanup. */
  id(tag) {
    counter += 1;
    const id = `conf-${process.pid}-${counter}-${tag}`.slice(0, 60);
    this.ids.push(id);
    return id;
  }

  cgroupsPath(id) { return `${CGROUP_PARENT}/${id}`; }

  add(name, ok, detail) {
    this.checks.push({ name, ok: !!ok, detail: detail || '' });
    return !!ok;
  }

  addAll(checks) { for (const c of checks) this.checks.push(c); }

  /** Registers fn to run at cleanup (last registered runs first). */
  defer(fn) { this.deferred.push(fn); }

  bundle(name, config, prepare) {
    return makeBundle(path.join(this.dir, name), config, prepare);
  }

  async holder(type, opts) {
    const h = await host.makeNamespaceHolder(type, opts);
    this.holders.push(h);
    return h;
  }

  /**
   * From now on the runtime runs in a mount namespace of its own whose
   * mounts are all shared (as on a host booted with systemd), without
   * touching the real host's mounts. Returns the holder; its pid is where
   * "host" mounts are made and looked at (this.mountNsPid).
   */
  async useRuntimeMountNamespace() {
    const h = await this.holder('mount', { propagation: 'shared' });
    this.mountNsPid = h.pid;
    this.runtime.setWrapper(['nsenter', `--mount=/proc/${h.pid}/ns/mnt`, '--']);
    return h;
  }

  /** Runs mount(8) in the runtime's mount namespace. */
  hostMount(args) {
    const pre = this.mountNsPid ? ['nsenter', `--mount=/proc/${this.mountNsPid}/ns/mnt`, '--', 'mount'] : ['mount'];
    const r = runSync(pre[0], [...pre.slice(1), ...args]);
    if (r.status !== 0) throw new Error(`mount ${args.join(' ')} failed: ${r.stderr}`);
  }

  /**
   * Runs the checker in a container made from `config` with `run`, and
   * checks the facts against the config, then checks the runtime removed
   * the container, its mounts and its cgroup.
   * opts: { tag, prepare(rootfs, dir), extraArgs, preserveFds, nsTargets,
   *         nsMappings, during(handle, bundle), expectExit, keepCgroupsPath }
   * Returns { facts, res, bundle, id }.
   */
  async runChecker(config, opts = {}) {
    const id = this.id(opts.tag || 'run');
    config.linux = config.linux || {};
    if (!opts.keepCgroupsPath) config.linux.cgroupsPath = this.cgroupsPath(id);
    config.process.args = [CHECKER, ...checkerArgsFor(config), ...(opts.extraArgs || [])];
    const bundle = this.bundle(opts.bundleName || id, config, opts.prepare);

    // Extra descriptors given to the runtime: the preserved ones, plus one
    // that the runtime must not pass on.
    const preserve = opts.preserveFds || 0;
    const fdFiles = [];
    for (let i = 0; i < preserve + 1; i++) fdFiles.push(path.join(this.dir, `${id}.fd${3 + i}`));
    const fds = fdFiles.map((f) => fs.openSync(f, 'w+'));
    let res;
    try {
      const handle = this.runtime.runAsync(id, bundle.dir, {
        stdio: ['ignore', 'pipe', 'pipe', ...fds],
        preserveFds: preserve,
        timeout: opts.timeout || 60000,
      });
      for (const fd of fds) fs.closeSync(fd);
      fds.length = 0;
      if (opts.during) await opts.during(handle, bundle);
      res = await handle.done;
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
    const want = opts.expectExit || 0;
    this.add(`runtime run exits ${want}`, res.status === want,
      `exit ${res.status}${res.signal ? ` signal ${res.signal}` : ''}${res.timedOut ? ' (timed out)' : ''}; stderr: ${clip(res.stderr, 1500)}`);
    const facts = parseFacts(res.stdout);
    this.addAll(checkFacts(config, facts, {
      host: this.env.host,
      nsTargets: opts.nsTargets,
      nsMappings: opts.nsMappings,
      preserveFds: preserve,
    }));
    this.checkGone(id, bundle.dir, config);
    return { facts, res, bundle, id };
  }

  /** Checks that container `id` left nothing behind. */
  checkGone(id, bundleDir, config) {
    const { res } = this.runtime.state(id);
    this.add('after the container is gone, state fails', res.status !== 0, `state exit ${res.status}: ${clip(res.stdout || res.stderr, 300)}`);
    const ids = this.runtime.list();
    if (ids !== null) this.add('after the container is gone, list does not show it', !ids.includes(id), `list: ${JSON.stringify(ids)}`);
    if (bundleDir) {
      const left = host.mountsUnder(bundleDir, this.mountNsPid || 'self').filter((m) => !this.ownMounts.has(m));
      this.add('no mounts left on the host under the bundle', left.length === 0, `left: ${JSON.stringify(left)}`);
    }
    const cg = config && config.linux && config.linux.cgroupsPath;
    if (cg && cg.startsWith('/')) {
      const left = host.cgroupDirs(cg);
      this.add('the container cgroup was removed', left.length === 0, `left: ${JSON.stringify(left)}`);
    }
  }

  /** Undo everything; never throws. */
  async cleanup() {
    const errors = [];
    const attempt = async (what, fn) => { try { await fn(); } catch (e) { errors.push(`${what}: ${e && e.message ? e.message : e}`); } };
    for (const id of this.ids) {
      await attempt(`delete ${id}`, async () => {
        const { res, state } = this.runtime.state(id);
        if (res.status === 0) {
          this.runtime.delete(id, true);
          if (state && state.pid > 0 && isAlive(state.pid)) {
            try { process.kill(state.pid, 'SIGKILL'); } catch { /* gone */ }
            await poll(() => !isAlive(state.pid), 5000);
            this.runtime.delete(id, true);
          }
        }
      });
    }
    for (const fn of this.deferred.reverse()) await attempt('deferred', fn);
    for (const h of this.holders) await attempt(`holder ${h.type}`, () => h.kill());
    await attempt('unmount', () => host.unmountUnder(this.dir));
    for (const id of this.ids) await attempt(`cgroup ${id}`, () => host.removeCgroup(this.cgroupsPath(id)));
    for (const mp of host.cgroupMounts()) {
      try { fs.rmdirSync(path.join(mp, CGROUP_PARENT)); } catch { /* absent or busy */ }
    }
    await attempt('remove temp dir', () => fs.rmSync(this.dir, { recursive: true, force: true }));
    return errors;
  }
}

module.exports = { CaseContext, CGROUP_PARENT };
