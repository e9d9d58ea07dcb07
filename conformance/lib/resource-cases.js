'use strict';
// Conformance cases for linux.resources: each value as the kernel reports it
// in the container's cgroup after `create`, after `update --resources FILE`
// and after `update` with runc's flags; device rules by what the container
// may open; the cgroup gone after `delete`. Which file shows which value,
// on v1 and v2, is in lib/resources.js.
const fs = require('fs');
const path = require('path');
const { baseConfig } = require('./bundle');
const { poll, readOrNull, clip } = require('./util');
const res = require('./resources');

const cases = [];
const needRoot = (env) => (env.host.isRoot ? null : 'the harness must run as root');
const def = (name, description, run, skip) => cases.push({
  name, description, run, skip: (env) => needRoot(env) || (skip ? skip(env) : null),
});

const MiB = 1024 * 1024;
const v2 = () => res.isV2Host();
const onlineCpus = () => res.cpuList((readOrNull('/sys/devices/system/cpu/online') || '0').trim());

/** Skip unless the host shows every one of `controllers` (v1 hierarchy or v2 controller). */
const needControllers = (...controllers) => () => {
  const missing = controllers.filter((c) => !res.hostHas(c));
  return missing.length ? `this host has no ${missing.join(', ')} cgroup controller` : null;
};

/** Adds one check per value of `r`: "<phase>: linux.resources.<field> -> <file> = <want>". */
function checkValues(ctx, phase, cg, r) {
  for (const v of res.compare(r, cg)) {
    ctx.add(`${phase}: linux.resources.${v.field} -> ${path.basename(v.file)} = ${JSON.stringify(v.want)}`, v.ok,
      `${v.file}: ${v.got === null ? 'missing' : JSON.stringify(v.got)}`);
  }
}

/**
 * Creates a container with `resources`, checks the values, applies each
 * update ({ label, flags } or { label, resources }) and checks what it set
 * (`expect`, by default the update's resources), then deletes it.
 */
async function resourceRun(ctx, tag, resources, updates = []) {
  const rt = ctx.runtime;
  const id = ctx.id(tag);
  const cg = ctx.cgroupsPath(id);
  const config = baseConfig();
  config.process.args = ['sleep', '600'];
  config.linux.cgroupsPath = cg;
  config.linux.resources = { ...config.linux.resources, ...resources };
  const b = ctx.bundle(tag, config);
  const r = rt.create(id, b.dir, { stderrFile: path.join(ctx.dir, `${tag}.stderr`) });
  if (!ctx.add('create exits 0', r.status === 0, `exit ${r.status}: ${clip(r.stderr, 800)}`)) return null;
  checkValues(ctx, 'after create', cg, resources);
  updates.forEach((u, i) => {
    let flags = u.flags;
    if (u.resources) {
      const file = path.join(ctx.dir, `${tag}-update-${i}.json`);
      fs.writeFileSync(file, JSON.stringify(u.resources));
      flags = ['--resources', file];
    }
    const up = rt.update(id, flags);
    if (ctx.add(`update ${u.label} exits 0`, up.status === 0, `exit ${up.status}: ${clip(up.stderr, 500)}`)) {
      checkValues(ctx, `after update ${u.label}`, cg, u.expect || u.resources);
    }
  });
  const d = rt.delete(id, true);
  ctx.add('delete --force exits 0', d.status === 0, `exit ${d.status}: ${clip(d.stderr, 300)}`);
  ctx.checkGone(id, b.dir, config);
  return { id, cg, bundle: b };
}

// ---- memory ----

def('resources-memory', 'memory limit, reservation, swap (and on v1 swappiness, kernelTCP, disableOOMKiller); update by file and by flags', async (ctx) => {
  const swapAccounting = v2() ? true : fs.existsSync(path.join(res.v1Mount('memory'), 'memory.memsw.limit_in_bytes'));
  const create = { memory: { limit: 100 * MiB, reservation: 50 * MiB } };
  if (swapAccounting) create.memory.swap = 200 * MiB;
  if (!v2()) Object.assign(create.memory, { swappiness: 20, kernelTCP: 16 * MiB, disableOOMKiller: true });
  const byFile = { memory: { limit: 200 * MiB, reservation: 100 * MiB } };
  if (swapAccounting) byFile.memory.swap = 400 * MiB;
  await resourceRun(ctx, 'mem', create, [
    { label: '--resources FILE (memory)', resources: byFile },
    {
      label: '--memory --memory-reservation', flags: ['--memory', String(150 * MiB), '--memory-reservation', String(60 * MiB)],
      expect: { memory: { limit: 150 * MiB, reservation: 60 * MiB } },
    },
    ...(swapAccounting ? [{
      label: '--memory --memory-swap', flags: ['--memory', String(120 * MiB), '--memory-swap', String(300 * MiB)],
      expect: { memory: { limit: 120 * MiB, swap: 300 * MiB } },
    }] : []),
    { label: '--resources FILE (memory -1: no limit)', resources: { memory: { limit: -1, swap: -1 } }, expect: { memory: { limit: -1, ...(swapAccounting ? { swap: -1 } : {}) } } },
  ]);
}, needControllers('memory'));

// ---- cpu and cpuset ----

def('resources-cpu', 'cpu shares, quota, period, burst, cpus, mems; update by file and by flags; idle last', async (ctx) => {
  const burst = v2() ? kernelAtLeast(5, 14) : fs.existsSync(path.join(res.v1Mount('cpu') || '/nonexistent', 'cpu.cfs_burst_us'));
  const create = { cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' } };
  if (burst) create.cpu.burst = 10000;
  const all = onlineCpus();
  const idle = v2() ? kernelAtLeast(5, 15) : fs.existsSync(path.join(res.v1Mount('cpu') || '/nonexistent', 'cpu.idle'));
  await resourceRun(ctx, 'cpu', create, [
    { label: '--resources FILE (cpu)', resources: { cpu: { shares: 1024, quota: 80000, period: 200000, cpus: all, mems: '0' } } },
    {
      label: '--cpu-share --cpu-quota --cpu-period --cpuset-cpus', flags: ['--cpu-share', '256', '--cpu-quota', '30000', '--cpu-period', '60000', '--cpuset-cpus', '0'],
      expect: { cpu: { shares: 256, quota: 30000, period: 60000, cpus: '0' } },
    },
    { label: '--cpu-quota -1 (no limit)', flags: ['--cpu-quota', '-1'], expect: { cpu: { quota: -1 } } },
    // the kernel refuses new shares while a group is idle: last
    ...(idle ? [{ label: '--resources FILE (cpu.idle 1)', resources: { cpu: { idle: 1 } } }] : []),
  ]);
}, needControllers('cpu', 'cpuset'));

def('resources-cpu-rt', 'cpu realtimeRuntime and realtimePeriod (v1 with CONFIG_RT_GROUP_SCHED); update by file and by flags', async (ctx) => {
  // a child's real-time budget comes from its parent's: give the harness's parent cgroup one first
  const parent = path.join(res.v1Mount('cpu'), path.dirname(ctx.cgroupsPath('x')));
  fs.mkdirSync(parent, { recursive: true });
  fs.writeFileSync(path.join(parent, 'cpu.rt_runtime_us'), '50000');
  await resourceRun(ctx, 'cpurt', { cpu: { realtimePeriod: 500000, realtimeRuntime: 10000 } }, [
    { label: '--resources FILE (realtime)', resources: { cpu: { realtimePeriod: 1000000, realtimeRuntime: 20000 } } },
    { label: '--cpu-rt-period --cpu-rt-runtime', flags: ['--cpu-rt-period', '800000', '--cpu-rt-runtime', '8000'], expect: { cpu: { realtimePeriod: 800000, realtimeRuntime: 8000 } } },
  ]);
}, () => {
  if (v2()) return 'cgroup v2 has no real-time group scheduling files';
  const mp = res.v1Mount('cpu');
  return mp && fs.existsSync(path.join(mp, 'cpu.rt_runtime_us')) ? null : 'the kernel has no cpu.rt_runtime_us (CONFIG_RT_GROUP_SCHED)';
});

// ---- pids ----

def('resources-pids', 'pids limit; update by file (also -1) and by flag', async (ctx) => {
  await resourceRun(ctx, 'pids', { pids: { limit: 50 } }, [
    { label: '--resources FILE (pids)', resources: { pids: { limit: 100 } } },
    { label: '--pids-limit', flags: ['--pids-limit', '200'], expect: { pids: { limit: 200 } } },
    { label: '--resources FILE (pids -1: no limit)', resources: { pids: { limit: -1 } } },
  ]);
}, needControllers('pids'));

// ---- block I/O ----

def('resources-blkio', 'blockIO weight and the four throttle lists on a real block device; weight updated by file and by flag', async (ctx) => {
  const dev = res.blockDevice();
  const { major, minor } = dev;
  const create = {
    blockIO: {
      weight: 300,
      throttleReadBpsDevice: [{ major, minor, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major, minor, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major, minor, rate: 1000 }],
      throttleWriteIOPSDevice: [{ major, minor, rate: 500 }],
    },
  };
  if (!weightFileExists()) delete create.blockIO.weight;
  const updates = create.blockIO.weight ? [
    { label: '--resources FILE (blockIO.weight)', resources: { blockIO: { weight: 500 } } },
    { label: '--blkio-weight', flags: ['--blkio-weight', '700'], expect: { blockIO: { weight: 700 } } },
  ] : [];
  await resourceRun(ctx, 'blkio', create, updates);
}, (env) => needControllers(v2() ? 'io' : 'blkio')(env) || (res.blockDevice() ? null : 'this host has no block device to throttle'));

/**
 * Whether the kernel has a proportional weight file (v1: CFQ's blkio.weight
 * or BFQ's; v2: io.weight or io.bfq.weight). They appear only below the root,
 * so look at a fresh child; on v2 the io controller must be on in the root's
 * subtree_control for that (as the runtime turns it on for this case anyway).
 */
function weightFileExists() {
  const base = v2() ? '/sys/fs/cgroup' : res.v1Mount('blkio');
  if (v2() && !(readOrNull(path.join(base, 'cgroup.subtree_control')) || '').split(/\s+/).includes('io')) {
    fs.writeFileSync(path.join(base, 'cgroup.subtree_control'), '+io');
  }
  const probe = fs.mkdtempSync(path.join(base, 'conformance-probe-'));
  try {
    return ['blkio.weight', 'blkio.bfq.weight', 'io.weight', 'io.bfq.weight'].some((f) => fs.existsSync(path.join(probe, f)));
  } finally {
    fs.rmdirSync(probe);
  }
}

// ---- huge pages ----

def('resources-hugetlb', 'hugepageLimits for every huge page size of the host', async (ctx) => {
  const limits = res.hugePageSizes().map((pageSize) => ({ pageSize, limit: pageSize.endsWith('GB') ? 2 * 1024 * MiB : 4 * MiB }));
  await resourceRun(ctx, 'huge', { hugepageLimits: limits });
}, (env) => needControllers('hugetlb')(env) || (res.hugePageSizes().length ? null : 'the kernel has no huge page sizes (/sys/kernel/mm/hugepages)'));

// ---- network (v1 only) ----

def('resources-network', 'network classID and priorities (net_cls and net_prio, cgroup v1)', async (ctx) => {
  await resourceRun(ctx, 'net', { network: { classID: 1048577, priorities: [{ name: 'lo', priority: 5 }] } });
}, () => (v2() ? 'cgroup v2 has no net_cls or net_prio' : needControllers('net_cls', 'net_prio')()));

// ---- unified ----

def('resources-unified', 'linux.resources.unified: on v2 written as given (and by update); on v1 an error that leaves nothing behind', async (ctx) => {
  if (v2()) {
    await resourceRun(ctx, 'unified', { unified: { 'memory.high': '104857600', 'pids.max': '42' } }, [
      { label: '--resources FILE (unified)', resources: { unified: { 'memory.high': '209715200' } } },
    ]);
    return;
  }
  const rt = ctx.runtime;
  const id = ctx.id('unified-v1');
  const config = baseConfig();
  config.process.args = ['sleep', '600'];
  config.linux.cgroupsPath = ctx.cgroupsPath(id);
  config.linux.resources.unified = { 'memory.high': '104857600' };
  const b = ctx.bundle('unified-v1', config);
  const r = rt.create(id, b.dir, { stderrFile: path.join(ctx.dir, 'unified-v1.stderr') });
  ctx.add('create with linux.resources.unified on a cgroup v1 host fails', r.status !== 0, `exit ${r.status}`);
  ctx.add('... naming unified', /unified/i.test(r.stderr), clip(r.stderr, 500));
  ctx.checkGone(id, b.dir, config);
});

// ---- devices ----

/**
 * What the container may open of block devices of major 7 (loop), for
 * reading and for writing. "denied" is EPERM, the device cgroup's answer;
 * "allowed" is success or ENXIO (no such loop device on this kernel: the
 * cgroup let the open through). The nodes go in the container's /dev, a
 * tmpfs without nodev. mknod itself is not judged: runc allows mknod of
 * every device.
 */
const DEVICE_SCRIPT = `
try() {
  if out=$(eval "$2" 2>&1); then echo "$1 allowed"
  else case $out in *"not permitted"*) echo "$1 denied";; *"No such device"*) echo "$1 allowed ($out)";; *) echo "$1 error ($out)";; esac
  fi
}
{
  for n in 0 1 2; do mknod /dev/loop$n b 7 $n || echo "mknod b 7:$n failed"; done
  try read-7:0 ": </dev/loop0"
  try write-7:0 ": >/dev/loop0"
  try read-7:1 ": </dev/loop1"
  try write-7:1 ": >/dev/loop1"
  try read-7:2 ": </dev/loop2"
  try write-7:2 ": >/dev/loop2"
  try rw-null ": </dev/null && : >/dev/null"
  try read-zero "head -c1 /dev/zero >/dev/null"
  echo done
} >/devices-result 2>&1
exec sleep 600`;

def('resources-devices', 'device rules: what the container may open (deny all, then allow b 7:0 r and b 7:1 w); the default devices stay usable', async (ctx) => {
  const rt = ctx.runtime;
  const id = ctx.id('devices');
  const config = baseConfig();
  config.process.args = ['/bin/sh', '-c', DEVICE_SCRIPT];
  config.linux.cgroupsPath = ctx.cgroupsPath(id);
  for (const set of ['bounding', 'effective', 'permitted']) config.process.capabilities[set].push('CAP_MKNOD');
  config.linux.resources.devices = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'b', major: 7, minor: 0, access: 'r' },
    { allow: true, type: 'b', major: 7, minor: 1, access: 'w' },
  ];
  const b = ctx.bundle('devices', config);
  const r = rt.create(id, b.dir, { stderrFile: path.join(ctx.dir, 'devices.stderr') });
  if (!ctx.add('create exits 0', r.status === 0, `exit ${r.status}: ${clip(r.stderr, 800)}`)) return;
  ctx.add('start exits 0', rt.start(id).status === 0);
  const resultFile = path.join(b.rootfs, 'devices-result');
  await poll(() => (readOrNull(resultFile) || '').includes('done'), 15000);
  const text = readOrNull(resultFile) || '';
  const lines = text.split('\n');
  ctx.add('the container made the device nodes (mknod b 7:0, 7:1, 7:2)', !text.includes('failed'), text);
  const outcome = (what) => ((lines.find((l) => l.startsWith(`${what} `)) || '').split(' ')[1] || 'not run');
  for (const [what, want, why] of [
    ['read-7:0', 'allowed', 'b 7:0 r'],
    ['write-7:0', 'denied', 'b 7:0 lacks w'],
    ['read-7:1', 'denied', 'b 7:1 lacks r'],
    ['write-7:1', 'allowed', 'b 7:1 w'],
    ['read-7:2', 'denied', 'no rule for b 7:2'],
    ['write-7:2', 'denied', 'no rule for b 7:2'],
    ['rw-null', 'allowed', 'the default devices stay allowed'],
    ['read-zero', 'allowed', 'the default devices stay allowed'],
  ]) {
    ctx.add(`devices: ${what} ${want} (${why})`, outcome(what) === want, lines.find((l) => l.startsWith(`${what} `)) || `no result in ${JSON.stringify(text)}`);
  }
  const d = rt.delete(id, true);
  ctx.add('delete --force exits 0', d.status === 0, `exit ${d.status}: ${clip(d.stderr, 300)}`);
  ctx.checkGone(id, b.dir, config);
}, () => (v2() ? null : needControllers('devices')()));

function kernelAtLeast(major, minor) {
  const [a, b] = require('os').release().split('.').map((x) => parseInt(x, 10));
  return a > major || (a === major && b >= minor);
}

module.exports = { cases };
