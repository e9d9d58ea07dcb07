'use strict';
// linux.resources as the kernel reports them. For each value of a
// LinuxResources object: the cgroup file that shows it on this host's cgroup
// version and the text that file must hold. On cgroup v2, v1-style values are
// converted the way runc converts them (cpu.shares to cpu.weight, blkio weight
// to io.weight, swap to memory.swap.max), so one config means the same on
// both versions. Written from config-linux.md and the kernel's cgroup
// documentation (cgroup-v1/*.rst, cgroup-v2.rst).
const fs = require('fs');
const path = require('path');
const { parseMountinfo } = require('./facts');
const { readOrNull } = require('./util');

const V2_ROOT = '/sys/fs/cgroup';

const isV2Host = () => fs.existsSync(path.join(V2_ROOT, 'cgroup.controllers'));

/** v1: mount point of the hierarchy that holds `controller`, or null. */
function v1Mount(controller) {
  const mounts = parseMountinfo(readOrNull('/proc/self/mountinfo') || '');
  const m = mounts.find((x) => x.fsType === 'cgroup' && x.superOptions.includes(controller));
  return m ? m.mountPoint : null;
}

/** v2: whether the host's cgroup2 root offers `controller`. */
function v2Has(controller) {
  return (readOrNull(path.join(V2_ROOT, 'cgroup.controllers')) || '').trim().split(/\s+/).includes(controller);
}

/** Whether this host can show `controller`'s files for a container. */
function hostHas(controller) {
  return isV2Host() ? v2Has(controller) : v1Mount(controller) !== null;
}

/** Directory with `controller`'s files for the absolute cgroupsPath `cg` (null: not mounted). */
function cgroupDir(cg, controller) {
  if (isV2Host()) return path.join(V2_ROOT, cg);
  const mp = v1Mount(controller);
  return mp && path.join(mp, cg);
}

// ---- how a file's text is compared ----

const trimmed = (text) => text.trim();

/** "0,1,2,5" and "0-2,5" are the same list: compare the expanded members. */
function cpuList(text) {
  const out = [];
  for (const part of text.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b === undefined ? a : b); i++) out.push(i);
  }
  return out.join(',');
}

/** The line of a multi-line file that starts with `prefix` (oom_control, io.max, ifpriomap). */
const lineStarting = (prefix) => (text) => text.split('\n').find((l) => l.startsWith(prefix)) || `(no line starting "${prefix}")`;

/** A weight file that says "default N" (io.weight, io.bfq.weight, blkio.bfq.weight) or just "N". */
function defaultWeight(text) {
  const m = /^default (\d+)$/m.exec(text);
  return m ? m[1] : text.trim().split('\n')[0];
}

const firstExisting = (dir, names) => names.find((n) => fs.existsSync(path.join(dir, n))) || names[0];

const bytes = (n) => (n === -1 ? null : String(n));

// ---- the expectations ----

/**
 * The checks for `r` on this host: [{ field, controller, file(dir) -> name,
 * want(file, text) -> text, read(text) -> comparable }]. Values this host's cgroup
 * version has no file for (v1-only knobs on v2) are left out: the runtime
 * may ignore them, as runc does.
 */
function expectations(r, v2 = isV2Host()) {
  const out = [];
  const add = (field, controller, file, want, read = trimmed) => out.push({
    field,
    controller,
    file: typeof file === 'function' ? file : () => file,
    want: typeof want === 'function' ? want : () => want,
    read,
  });
  const m = r.memory || {};
  const c = r.cpu || {};
  const b = r.blockIO || {};
  if (v2) {
    if (m.limit !== undefined) add('memory.limit', 'memory', 'memory.max', bytes(m.limit) || 'max');
    if (m.reservation !== undefined) add('memory.reservation', 'memory', 'memory.low', bytes(m.reservation) || 'max');
    if (m.swap !== undefined && m.limit !== undefined) {
      // v1's swap limits memory plus swap; v2's memory.swap.max is the swap alone
      add('memory.swap', 'memory', 'memory.swap.max', m.swap === -1 ? 'max' : String(m.swap - m.limit));
    }
    if (c.shares !== undefined) add('cpu.shares', 'cpu', 'cpu.weight', String(1 + Math.floor(((c.shares - 2) * 9999) / 262142)));
    if (c.quota !== undefined || c.period !== undefined) {
      // "quota period"; the half not given keeps the value the file had
      add(c.quota !== undefined ? 'cpu.quota' : 'cpu.period', 'cpu', 'cpu.max', (file, text) => {
        const [q, p] = (text || '').trim().split(' ');
        return `${c.quota === undefined ? q : (c.quota === -1 ? 'max' : c.quota)} ${c.period === undefined ? p : c.period}`;
      });
    }
    if (c.burst !== undefined) add('cpu.burst', 'cpu', 'cpu.max.burst', String(c.burst));
    if (c.idle !== undefined) add('cpu.idle', 'cpu', 'cpu.idle', String(c.idle));
    if (c.cpus) add('cpu.cpus', 'cpuset', 'cpuset.cpus', cpuList(c.cpus), cpuList);
    if (c.mems) add('cpu.mems', 'cpuset', 'cpuset.mems', cpuList(c.mems), cpuList);
    if (r.pids && r.pids.limit !== undefined) add('pids.limit', 'pids', 'pids.max', r.pids.limit === -1 ? 'max' : String(r.pids.limit));
    if (b.weight) {
      // BFQ's file takes the v1 range as it is; io.weight needs the conversion
      add('blockIO.weight', 'io', (dir) => firstExisting(dir, ['io.bfq.weight', 'io.weight']),
        (file) => (file === 'io.bfq.weight' ? String(b.weight) : String(1 + Math.floor(((b.weight - 10) * 9999) / 990))), defaultWeight);
    }
    const io = new Map();
    for (const [k, key] of [['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'], ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops']]) {
      for (const d of b[k] || []) {
        const dev = `${d.major}:${d.minor}`;
        if (!io.has(dev)) io.set(dev, { rbps: 'max', wbps: 'max', riops: 'max', wiops: 'max', fields: [] });
        io.get(dev)[key] = String(d.rate);
        io.get(dev).fields.push(`blockIO.${k}`);
      }
    }
    for (const [dev, v] of io) {
      add(v.fields.join('+'), 'io', 'io.max', `${dev} rbps=${v.rbps} wbps=${v.wbps} riops=${v.riops} wiops=${v.wiops}`, lineStarting(`${dev} `));
    }
    for (const h of r.hugepageLimits || []) add(`hugepageLimits[${h.pageSize}]`, 'hugetlb', `hugetlb.${h.pageSize}.max`, String(h.limit));
    for (const [k, v] of Object.entries(r.unified || {})) add(`unified.${k}`, k.split('.')[0], k, v.trim());
    return out;
  }

  if (m.limit !== undefined) add('memory.limit', 'memory', 'memory.limit_in_bytes', bytes(m.limit) || '9223372036854771712');
  if (m.reservation !== undefined) add('memory.reservation', 'memory', 'memory.soft_limit_in_bytes', bytes(m.reservation) || '9223372036854771712');
  if (m.swap !== undefined) add('memory.swap', 'memory', 'memory.memsw.limit_in_bytes', bytes(m.swap) || '9223372036854771712');
  if (m.kernelTCP !== undefined) add('memory.kernelTCP', 'memory', 'memory.kmem.tcp.limit_in_bytes', bytes(m.kernelTCP) || '9223372036854771712');
  if (m.swappiness !== undefined) add('memory.swappiness', 'memory', 'memory.swappiness', String(m.swappiness));
  if (m.disableOOMKiller) add('memory.disableOOMKiller', 'memory', 'memory.oom_control', 'oom_kill_disable 1', lineStarting('oom_kill_disable '));
  if (c.shares !== undefined) add('cpu.shares', 'cpu', 'cpu.shares', String(c.shares));
  if (c.quota !== undefined) add('cpu.quota', 'cpu', 'cpu.cfs_quota_us', String(c.quota));
  if (c.period !== undefined) add('cpu.period', 'cpu', 'cpu.cfs_period_us', String(c.period));
  if (c.burst !== undefined) add('cpu.burst', 'cpu', 'cpu.cfs_burst_us', String(c.burst));
  if (c.realtimeRuntime !== undefined) add('cpu.realtimeRuntime', 'cpu', 'cpu.rt_runtime_us', String(c.realtimeRuntime));
  if (c.realtimePeriod !== undefined) add('cpu.realtimePeriod', 'cpu', 'cpu.rt_period_us', String(c.realtimePeriod));
  if (c.idle !== undefined) add('cpu.idle', 'cpu', 'cpu.idle', String(c.idle));
  if (c.cpus) add('cpu.cpus', 'cpuset', 'cpuset.cpus', cpuList(c.cpus), cpuList);
  if (c.mems) add('cpu.mems', 'cpuset', 'cpuset.mems', cpuList(c.mems), cpuList);
  if (r.pids && r.pids.limit !== undefined) add('pids.limit', 'pids', 'pids.max', r.pids.limit === -1 ? 'max' : String(r.pids.limit));
  if (b.weight) add('blockIO.weight', 'blkio', (dir) => firstExisting(dir, ['blkio.weight', 'blkio.bfq.weight']), String(b.weight), defaultWeight);
  for (const [k, file] of [['throttleReadBpsDevice', 'read_bps_device'], ['throttleWriteBpsDevice', 'write_bps_device'], ['throttleReadIOPSDevice', 'read_iops_device'], ['throttleWriteIOPSDevice', 'write_iops_device']]) {
    for (const d of b[k] || []) add(`blockIO.${k}`, 'blkio', `blkio.throttle.${file}`, `${d.major}:${d.minor} ${d.rate}`, lineStarting(`${d.major}:${d.minor} `));
  }
  for (const h of r.hugepageLimits || []) add(`hugepageLimits[${h.pageSize}]`, 'hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit));
  const net = r.network || {};
  if (net.classID !== undefined) add('network.classID', 'net_cls', 'net_cls.classid', String(net.classID));
  for (const p of net.priorities || []) add(`network.priorities[${p.name}]`, 'net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, lineStarting(`${p.name} `));
  return out;
}

/**
 * Reads what the kernel reports for each expectation of `r` in the cgroup
 * `cg` (absolute cgroupsPath): [{ field, file, want, got, ok }].
 */
function compare(r, cg, v2 = isV2Host()) {
  return expectations(r, v2).map((e) => {
    const dir = cgroupDir(cg, e.controller);
    if (!dir) return { field: e.field, file: `(${e.controller} not mounted)`, want: '?', got: null, ok: false };
    const file = e.file(dir);
    const text = readOrNull(path.join(dir, file));
    const got = text === null ? null : e.read(text);
    const want = e.want(file, text);
    return { field: e.field, file: path.join(dir, file), want, got, ok: got !== null && got === want };
  });
}

/** The host's huge page sizes as config-linux.md names them ("2MB", "1GB"). */
function hugePageSizes() {
  let names = [];
  try { names = fs.readdirSync('/sys/kernel/mm/hugepages'); } catch { return []; }
  return names.map((n) => Number(/^hugepages-(\d+)kB$/.exec(n)?.[1])).filter(Boolean).sort((a, b) => a - b)
    .map((kb) => (kb >= 1048576 ? `${kb / 1048576}GB` : kb >= 1024 ? `${kb / 1024}MB` : `${kb}KB`));
}

/** major:minor of a real block device of this host (not loop/zram/ram), for I/O throttling; null if none. */
function blockDevice() {
  let names = [];
  try { names = fs.readdirSync('/sys/block'); } catch { return null; }
  const real = names.filter((n) => !/^(loop|zram|ram|dm-|md)/.test(n)).sort();
  const name = real[0];
  if (!name) return null;
  const [major, minor] = (readOrNull(`/sys/block/${name}/dev`) || '').trim().split(':').map(Number);
  return Number.isInteger(major) ? { name, major, minor } : null;
}

module.exports = { isV2Host, hostHas, cgroupDir, v1Mount, expectations, compare, hugePageSizes, blockDevice, cpuList };
