'use strict';
// The callers' default production settings on a systemd host, through each
// runtime (tsrunc, and runc 1.1.5 as the reference): podman with
// cgroup_manager = "systemd" (its default), and containerd with the runtime
// option SystemdCgroup = true (kubeadm's default) running a CRI pod sandbox
// and a container in a kubelet-style slice. Each container must be a transient
// scope (libpod-<id>.scope in machine.slice; cri-containerd-<id>.scope in
// kubepods-besteffort-pod<uid>.slice) with its limits as unit properties and
// in the files, and leave no unit or cgroup behind. Needs systemd as PID 1
// (cgroup v2 or v1 hybrid): the vm suite's systemd guests run it; elsewhere it
// is skipped.
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const { skip } = require('../lib/skip');
const L = require('./lib');
const { unitShow, stopUnit } = require('../lib/units');

const test = suite('callers on systemd');

const DRIVER = fs.existsSync('/run/systemd/system');
const NO_DRIVER = 'needs systemd as PID 1 (the vm suite\'s systemd guests run it)';
const V2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
// the memory limit as a unit property and a file, by cgroup version
const MEM_PROP = V2 ? 'MemoryMax' : 'MemoryLimit';
const memFile = (rel) => (V2 ? path.join('/sys/fs/cgroup', rel, 'memory.max') : path.join('/sys/fs/cgroup/memory', rel, 'memory.limit_in_bytes'));
const procsFile = (rel) => path.join(V2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory', rel, 'cgroup.procs');

let env;
let pm;
let cd;
let cri;

const setup = L.once(async () => {
  const missing = L.missingTools(['podman', 'conmon', 'containerd', 'ctr', 'containerd-shim-runc-v2']);
  if (missing.length) throw new Error(`not installed: ${missing.join(', ')}`);
  env = new L.Env('systemd');
  pm = new L.Podman(env, { cgroupManager: 'systemd' });
  pm.setup();
  pm.loadImages();
  cd = new L.Containerd(env, { systemdCgroup: true });
  await cd.start();
  cd.importImages('k8s.io');
  cri = cd.cri();
});

test.after(() => {
  if (cri) cri.close();
  if (env) {
    const left = env.cleanup();
    if (left.length) console.error(`[e2e-callers] systemd: cleanup could not remove:\n  ${left.join('\n  ')}`);
  }
});

async function unitGone(unit) {
  const end = Date.now() + 10000;
  while (Date.now() < end) {
    const s = unitShow(unit, ['ActiveState']);
    if (s.LoadState === 'not-found' || s.ActiveState === 'inactive') return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** The cgroup of `pid` in the unified hierarchy (v2) or the memory one (v1). */
function cgroupOf(pid) {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const line = V2 ? lines.find((l) => l.startsWith('0::')) : lines.find((l) => l.split(':')[1].split(',').includes('memory'));
  return line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}
const show = (r) => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

for (const rt of L.RUNTIMES) {
  test(`${rt}: podman with cgroup_manager systemd: a libpod scope in machine.slice with its MemoryMax; exec, stop, rm leave no unit`, async () => {
    if (!DRIVER) return skip(NO_DRIVER);
    await setup();
    const name = `sd-${rt}-${L.rand()}`;
    let r = pm.podman(['--runtime', rt, 'run', '-d', '--name', name, '--memory', '64m', L.IMAGES.busybox, 'sleep', '1000']);
    assert.is(r.status, 0, show(r));
    const id = r.stdout.trim();
    const unit = `libpod-${id}.scope`;
    try {
      const pid = Number(pm.podman(['inspect', '--format', '{{.State.Pid}}', name]).stdout.trim());
      assert.ok(pid > 0);
      assert.match(cgroupOf(pid), new RegExp(`^/machine\\.slice/libpod-${id}\\.scope(/container)?$`));
      const u = unitShow(unit, ['ActiveState', 'Slice', 'Delegate', MEM_PROP]);
      assert.equal([u.ActiveState, u.Slice, u.Delegate, u[MEM_PROP]], ['active', 'machine.slice', 'yes', '67108864'], JSON.stringify(u));
      assert.is(fs.readFileSync(memFile(`machine.slice/${unit}`), 'utf8').trim(), '67108864');
      r = pm.podman(['exec', name, 'echo', 'inside']);
      assert.is(r.stdout, 'inside\n', show(r));
      r = pm.podman(['stop', '-t', '0', name]);
      assert.is(r.status, 0, show(r));
      r = pm.podman(['rm', name]);
      assert.is(r.status, 0, show(r));
      assert.ok(await unitGone(unit), `${unit} gone`);
      assert.not.ok(fs.existsSync(path.dirname(memFile(`machine.slice/${unit}`))));
      console.log(`\n[callers on systemd] cgroup ${V2 ? 'v2' : 'v1 hybrid'}, ${rt}: podman container ${unit}: machine.slice, Delegate=yes, ${MEM_PROP}=67108864; gone after rm`);
    } finally {
      pm.podman(['rm', '-f', '-t', '0', name]);
      stopUnit(unit);
    }
  });

  test(`${rt}: containerd with SystemdCgroup = true: a CRI pod sandbox and a container as scopes in the pod's kubepods slice; no unit left after removal`, async () => {
    if (!DRIVER) return skip(NO_DRIVER);
    await setup();
    const uid = L.rand(8);
    const slice = `kubepods-besteffort-pod${uid}.slice`;
    const sliceRel = path.join('kubepods.slice/kubepods-besteffort.slice', slice);
    const logDir = env.tmp('podlogs');
    fs.mkdirSync(logDir);
    const nsOpts = { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' };
    const sandboxConfig = {
      metadata: { name: `sdpod-${rt}`, uid, namespace: 'default', attempt: 0 },
      hostname: '',
      log_directory: logDir,
      linux: { cgroup_parent: slice, security_context: { namespace_options: nsOpts } },
    };
    const { pod_sandbox_id: podId } = await cri.rt('RunPodSandbox', { config: sandboxConfig, runtime_handler: rt });
    const units = [`cri-containerd-${podId}.scope`];
    try {
      assert.is(unitShow(units[0], ['ActiveState']).ActiveState, 'active', 'the sandbox is a scope');
      assert.ok(fs.existsSync(procsFile(path.join(sliceRel, units[0]))), `${units[0]} under ${sliceRel}`);
      const { container_id: cid } = await cri.rt('CreateContainer', {
        pod_sandbox_id: podId,
        sandbox_config: sandboxConfig,
        config: {
          metadata: { name: 'main', attempt: 0 },
          image: { image: L.IMAGES.busybox },
          command: ['sleep', '1000'],
          log_path: 'main.log',
          linux: { resources: { memory_limit_in_bytes: 128 * 1024 * 1024 }, security_context: { namespace_options: nsOpts } },
        },
      });
      units.push(`cri-containerd-${cid}.scope`);
      await cri.rt('StartContainer', { container_id: cid });
      const u = unitShow(units[1], ['ActiveState', 'Slice', 'Delegate', MEM_PROP]);
      assert.equal([u.ActiveState, u.Slice, u.Delegate, u[MEM_PROP]], ['active', slice, 'yes', String(128 * 1024 * 1024)], JSON.stringify(u));
      const rel = path.join(sliceRel, units[1]);
      assert.is(fs.readFileSync(memFile(rel), 'utf8').trim(), String(128 * 1024 * 1024));
      assert.ok(fs.readFileSync(procsFile(rel), 'utf8').trim().length > 0, 'the container\'s process is in its scope');
      const ex = await cri.rt('ExecSync', { container_id: cid, cmd: ['sh', '-c', 'echo ok'], timeout: 20 });
      assert.is(ex.stdout.toString(), 'ok\n');
      await cri.rt('StopContainer', { container_id: cid, timeout: 0 });
      await cri.rt('RemoveContainer', { container_id: cid });
      await cri.rt('StopPodSandbox', { pod_sandbox_id: podId });
      await cri.rt('RemovePodSandbox', { pod_sandbox_id: podId });
      for (const unit of units) assert.ok(await unitGone(unit), `${unit} gone`);
      for (const unit of units) assert.not.ok(fs.existsSync(procsFile(path.join(sliceRel, unit))), `${unit}'s cgroup gone`);
      console.log(`\n[callers on systemd] cgroup ${V2 ? 'v2' : 'v1 hybrid'}, ${rt}: CRI sandbox ${units[0]} and container ${units[1]} in ${slice} (${MEM_PROP}=${u[MEM_PROP]}); gone after removal`);
    } finally {
      for (const unit of units) stopUnit(unit);
    }
  });
}

test.run();
