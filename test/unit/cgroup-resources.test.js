'use strict';
// linux.resources without containers: the checks, the v1->v2 conversions, the
// device rules (emulated state, v1 writes, the v2 BPF program), the writes
// each manager makes (into fake cgroup directories), stats JSON, and, where
// this host has a cgroup v2 hierarchy, the BPF device program and the v2
// freezer on a real cgroup.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const R = require('../../dist/cgroups/resources.js');
const cpuset = require('../../dist/cgroups/cpuset.js');
const dev = require('../../dist/cgroups/devices.js');
const bpf = require('../../dist/cgroups/bpf.js');
const stats = require('../../dist/cgroups/stats.js');
const oom = require('../../dist/cgroups/oom.js');
const { CgroupV1 } = require('../../dist/cgroups/v1.js');
const { CgroupV2 } = require('../../dist/cgroups/v2.js');
const { parseDuration } = require('../../dist/cli/events.js');
const { parseBytes, resourcesFromFlags } = require('../../dist/cli/update.js');

const HOST = { cpus: new Set([0, 1, 2, 3]), mems: new Set([0]) };
const problems = (r) => R.resourceProblems(r, 'linux.resources', HOST);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-cgres-'));
const cleanups = [];

test.after(() => {
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {
      /* best effort */
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---- checks ----

test('a full, valid linux.resources has no problems', () => {
  const r = {
    devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }],
    memory: { limit: 536870912, reservation: 536870912, swap: 536870912, kernel: -1, kernelTCP: -1, swappiness: 0, disableOOMKiller: false, useHierarchy: true, checkBeforeUpdate: true },
    cpu: { shares: 1024, quota: 1000000, burst: 1000000, period: 500000, realtimeRuntime: 950000, realtimePeriod: 1000000, cpus: '2-3', mems: '0', idle: 0 },
    pids: { limit: 32771 },
    blockIO: {
      weight: 10, leafWeight: 10,
      weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }, { major: 8, minor: 16, weight: 500 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }, { pageSize: '64KB', limit: 1000000 }],
    network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] },
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 1000 } },
    unified: { 'io.max': '259:0 rbps=2097152 wiops=120', 'hugetlb.1GB.max': '1073741824' },
  };
  assert.equal(problems(r), []);
  assert.equal(problems({}), []);
  assert.equal(problems(undefined), []);
  // Go's uint64(-1) for swappiness means "unset"
  assert.equal(problems({ memory: { swappiness: 18446744073709551615 } }), []);
  assert.equal(problems({ pids: { limit: 0 } }), [], 'pids limit 0 is a valid limit');
});

test('negative and out-of-range values name the field and the value', () => {
  const cases = [
    [{ memory: { limit: -5 } }, 'linux.resources.memory.limit: -5'],
    [{ memory: { reservation: -2 } }, 'linux.resources.memory.reservation: -2'],
    [{ memory: { swappiness: 101 } }, 'linux.resources.memory.swappiness: 101'],
    [{ memory: { limit: 1.5 } }, 'linux.resources.memory.limit: 1.5 is not an integer'],
    [{ memory: { limit: '10M' } }, 'linux.resources.memory.limit: "10M" is not an integer'],
    [{ memory: { limit: 100, swap: 50 } }, 'linux.resources.memory.swap: 50 is below memory.limit 100'],
    [{ memory: { limit: -1, swap: 50 } }, 'linux.resources.memory.swap: 50'],
    [{ memory: { disableOOMKiller: 'yes' } }, 'linux.resources.memory.disableOOMKiller'],
    [{ cpu: { shares: -1 } }, 'linux.resources.cpu.shares: -1'],
    [{ cpu: { quota: -2 } }, 'linux.resources.cpu.quota: -2'],
    [{ cpu: { period: -100 } }, 'linux.resources.cpu.period: -100'],
    [{ cpu: { idle: 2 } }, 'linux.resources.cpu.idle: 2'],
    [{ cpu: { quota: 1000, burst: 2000 } }, 'linux.resources.cpu.burst: 2000 is larger than cpu.quota 1000'],
    [{ pids: { limit: -7 } }, 'linux.resources.pids.limit: -7'],
    [{ blockIO: { weight: -5 } }, 'linux.resources.blockIO.weight: -5'],
    [{ blockIO: { weight: 1001 } }, 'linux.resources.blockIO.weight: 1001'],
    [{ blockIO: { weightDevice: [{ major: 8, minor: 0 }] } }, 'weightDevice[0]: needs weight or leafWeight'],
    [{ blockIO: { throttleReadBpsDevice: [{ major: -8, minor: 0, rate: 1 }] } }, 'throttleReadBpsDevice[0].major: -8'],
    [{ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: -1 }] } }, 'throttleReadBpsDevice[0].rate: -1'],
    [{ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }, 'hugepageLimits[0].pageSize: "2M"'],
    [{ network: { classID: -1 } }, 'linux.resources.network.classID: -1'],
    [{ rdma: { mlx: {} } }, 'linux.resources.rdma.mlx: needs hcaHandles or hcaObjects'],
    [{ unified: { '../memory.max': '1' } }, 'is not a cgroup file name'],
    [{ unified: { 'memory.max': 5 } }, 'linux.resources.unified.memory.max: 5 is not a string'],
    [{ devices: [{ allow: true, type: 'x' }] }, 'linux.resources.devices[0].type: "x" is not one of a, c, b'],
    [{ devices: [{ allow: true, access: 'x' }] }, 'linux.resources.devices[0].access: "x"'],
    [{ devices: [{ type: 'c' }] }, 'linux.resources.devices[0].allow: is required'],
    [{ devices: [{ allow: true, major: -2 }] }, 'linux.resources.devices[0].major: -2'],
    [{ memory: 5 }, 'linux.resources.memory: must be an object'],
  ];
  for (const [r, want] of cases) {
    const p = problems(r);
    assert.ok(p.some((x) => x.includes(want)), `${JSON.stringify(r)}: expected a problem with ${JSON.stringify(want)}, got ${JSON.stringify(p)}`);
  }
});

test('cpuset lists: malformed ones and CPUs/nodes the host does not have', () => {
  for (const bad of ['0-', '-1', '3-1', 'a', '0,,1', '1-2-3', ' ']) {
    const p = problems({ cpu: { cpus: bad } });
    if (bad.trim() === '') continue; // empty means "not set"
    assert.ok(p.some((x) => x.includes(`linux.resources.cpu.cpus: "${bad}" is not a list`)), `${bad}: ${p}`);
  }
  assert.equal(problems({ cpu: { cpus: '0-3', mems: '0' } }), []);
  assert.equal(problems({ cpu: { cpus: '1,3' } }), []);
  assert.equal(problems({ cpu: { cpus: '0-5' } }), ['linux.resources.cpu.cpus: CPU 4-5 not on this host (it has 0-3)']);
  assert.equal(problems({ cpu: { mems: '1' } }), ['linux.resources.cpu.mems: memory node 1 not on this host (it has 0)']);
  // the real host: its own online CPUs are fine, one past them is not
  const online = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  assert.equal(R.resourceProblems({ cpu: { cpus: online } }, 'r'), []);
  const max = Math.max(...cpuset.parseList(online));
  assert.equal(R.resourceProblems({ cpu: { cpus: String(max + 1) } }, 'r').length, 1);
});

test('cpuset parseList / formatList', () => {
  assert.equal(cpuset.parseList('0-3,7'), [0, 1, 2, 3, 7]);
  assert.equal(cpuset.parseList(' 7,0-1 '), [0, 1, 7]);
  assert.is(cpuset.parseList('0-'), undefined);
  assert.is(cpuset.parseList(''), undefined);
  assert.is(cpuset.formatList([7, 0, 1, 2, 3]), '0-3,7');
  assert.is(cpuset.formatList([5]), '5');
  assert.is(cpuset.formatList([1, 3, 5, 6]), '1,3,5-6');
});

// ---- v1 -> v2 conversions ----

test('cpu.shares -> cpu.weight and blkio weight -> io.weight (runc mapping)', () => {
  assert.is(R.sharesToWeight(0), 0);
  assert.is(R.sharesToWeight(2), 1);
  assert.is(R.sharesToWeight(1024), 39);
  assert.is(R.sharesToWeight(262144), 10000);
  assert.is(R.sharesToWeight(1), 1);
  assert.is(R.sharesToWeight(10_000_000), 10000);
  assert.is(R.blkioToIoWeight(0), 0);
  assert.is(R.blkioToIoWeight(10), 1);
  assert.is(R.blkioToIoWeight(500), 4950);
  assert.is(R.blkioToIoWeight(1000), 10000);
});

test('memory swap v1 semantics -> memory.swap.max = swap - limit', () => {
  assert.is(R.swapToV2(undefined, undefined), undefined);
  assert.is(R.swapToV2(0, 1000), undefined);
  assert.is(R.swapToV2(3000, 1000), '2000');
  assert.is(R.swapToV2(1000, 1000), '0');
  assert.is(R.swapToV2(-1, 1000), 'max');
  assert.is(R.swapToV2(undefined, -1), 'max', 'memory unlimited, swap unset: swap unlimited too');
  assert.throws(() => R.swapToV2(3000, undefined), /needs a memory.limit/);
  assert.throws(() => R.swapToV2(3000, -1), /needs a memory.limit/);
  assert.throws(() => R.swapToV2(500, 1000), /below memory.limit/);
});

test('mergeResources: given fields win, others stay', () => {
  const m = R.mergeResources({ memory: { limit: 1, swap: 2 }, cpu: { shares: 3 } }, { memory: { limit: 5 }, pids: { limit: 9 } });
  assert.equal(m, { memory: { limit: 5, swap: 2 }, cpu: { shares: 3 }, pids: { limit: 9 } });
});

// ---- device rules ----

const { ACC_READ, ACC_WRITE, ACC_MKNOD, ACC_ALL } = dev;

test('devices: deny-all with no list (podman) still allows the default devices', () => {
  const st = dev.containerDeviceState([{ allow: false, access: 'rwm' }], []);
  assert.is(st.defaultAllow, false);
  for (const [maj, min] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 2], [10, 200], [136, 0], [136, 7]]) {
    assert.ok(dev.permits(st, 'c', maj, min, ACC_READ | ACC_WRITE), `c ${maj}:${min} rw`);
  }
  assert.not.ok(dev.permits(st, 'b', 254, 0, ACC_READ), 'block device read');
  assert.not.ok(dev.permits(st, 'c', 5, 1, ACC_READ), '/dev/console: not in runc 1.1.5\'s defaults');
  assert.not.ok(dev.permits(st, 'c', 10, 229, ACC_READ), '/dev/fuse');
  assert.ok(dev.permits(st, 'b', 254, 0, ACC_MKNOD), 'mknod of anything');
  // no rules at all: the same (runc starts from deny-all too)
  assert.equal(dev.containerDeviceState(undefined, undefined), st);
  assert.equal(dev.v1Writes(st).slice(0, 4), [
    ['devices.deny', 'a'], ['devices.allow', 'c *:* m'], ['devices.allow', 'b *:* m'], ['devices.allow', 'c 1:3 rwm'],
  ]);
});

test('devices: linux.devices add no rule, replace the default of their path; rules apply in order', () => {
  const st = dev.containerDeviceState([{ allow: false, access: 'rwm' }], [{ type: 'c', major: 10, minor: 229, path: '/dev/fuse' }, { type: 'p', path: '/dev/fifo' }, { type: 'c', major: 1, minor: 7, path: '/dev/full' }]);
  assert.not.ok(dev.permits(st, 'c', 10, 229, ACC_READ), 'a listed device the rules do not allow');
  assert.not.ok(dev.permits(st, 'c', 1, 7, ACC_READ), 'the default rule of /dev/full gives way to the listed node (runc)');
  assert.ok(dev.permits(st, 'c', 1, 3, ACC_READ));
  assert.equal(dev.accessBits('rwq'), ACC_READ | ACC_WRITE, 'unknown letters ignored, as runc');
  // allow everything, then deny one device
  const st2 = dev.emulate([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
  assert.is(st2.defaultAllow, true);
  assert.not.ok(dev.permits(st2, 'c', 1, 3, ACC_WRITE));
  assert.not.ok(dev.permits(st2, 'c', 1, 3, ACC_READ | ACC_WRITE));
  assert.ok(dev.permits(st2, 'c', 1, 3, ACC_READ));
  assert.ok(dev.permits(st2, 'b', 8, 0, ACC_ALL));
  assert.equal(dev.v1Writes(st2), [['devices.allow', 'a'], ['devices.deny', 'c 1:3 w']]);
  // an allow then a deny of the same device takes the access away again
  const st3 = dev.emulate([{ allow: true, type: 'b', major: 8, minor: 0, access: 'rw' }, { allow: false, type: 'b', major: 8, minor: 0, access: 'w' }]);
  assert.equal(st3.exceptions, [{ type: 'b', major: 8, minor: 0, access: ACC_READ }]);
  // type a with a device number: both types
  const st4 = dev.emulate([{ allow: true, type: 'a', major: 7, minor: -1, access: 'r' }]);
  assert.equal(st4.exceptions.map((e) => e.type), ['c', 'b']);
  assert.ok(dev.permits(st4, 'b', 7, 3, ACC_READ));
  assert.not.ok(dev.permits(st4, 'b', 7, 3, ACC_WRITE));
  // deny everything after allowing some: the exceptions go
  assert.equal(dev.emulate([{ allow: true, type: 'c', major: 1, minor: 3 }, { allow: false }]), { defaultAllow: false, exceptions: [] });
});

test('BPF device program: exact instructions for a small rule set', () => {
  const st = { defaultAllow: false, exceptions: [{ type: 'c', major: 1, minor: 3, access: ACC_ALL }, { type: 'b', major: 8, minor: -1, access: ACC_READ }] };
  const prog = bpf.deviceProgram(st);
  const O = bpf.OP;
  const text = prog.map((p) => [p.code, p.dst, p.src, p.off, p.imm]);
  assert.equal(text, [
    [O.LDXW, 2, 1, 0, 0], [O.AND64K, 2, 0, 0, 0xffff], [O.LDXW, 3, 1, 0, 0], [O.RSH64K, 3, 0, 0, 16], [O.LDXW, 4, 1, 4, 0], [O.LDXW, 5, 1, 8, 0],
    // c 1:3 rwm -> allow
    [O.JNE32K, 2, 0, 4, 2], [O.JNE32K, 4, 0, 3, 1], [O.JNE32K, 5, 0, 2, 3], [O.MOV64K, 0, 0, 0, 1], [O.EXIT, 0, 0, 0, 0],
    // b 8:* r -> allow when nothing but read is asked
    [O.JNE32K, 2, 0, 4, 1], [O.JSETK, 3, 0, 3, ACC_WRITE | ACC_MKNOD], [O.JNE32K, 4, 0, 2, 8], [O.MOV64K, 0, 0, 0, 1], [O.EXIT, 0, 0, 0, 0],
    // default: deny
    [O.MOV64K, 0, 0, 0, 0], [O.EXIT, 0, 0, 0, 0],
  ]);
  const bytes = bpf.encode(prog);
  assert.is(bytes.length, prog.length * 8);
  assert.equal([...bytes.subarray(0, 8)], [0x61, 0x12, 0, 0, 0, 0, 0, 0], 'r2 = *(u32 *)(r1 + 0)');
  assert.equal([...bytes.subarray(6 * 8, 7 * 8)], [0x56, 0x02, 4, 0, 2, 0, 0, 0], 'if w2 != 2 goto +4');
});

test('BPF device program decides exactly as the device controller would', () => {
  const states = [
    dev.containerDeviceState([{ allow: false, access: 'rwm' }], [{ type: 'c', major: 10, minor: 229 }]),
    dev.containerDeviceState([{ allow: true, access: 'rwm' }], []),
    dev.emulate([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }, { allow: false, type: 'b', access: 'm' }]),
    dev.emulate([{ allow: false }, { allow: true, type: 'c', major: 4294967295, minor: 2147483648, access: 'rw' }]),
    dev.emulate([{ allow: false }, { allow: true, type: 'a', major: 7, access: 'r' }, { allow: true, type: 'c', major: 7, minor: 1, access: 'w' }]),
  ];
  const majors = [0, 1, 4, 5, 7, 8, 10, 136, 254, 4294967295];
  const minors = [0, 1, 2, 3, 5, 9, 229, 2147483648];
  let checked = 0;
  for (const st of states) {
    const prog = bpf.deviceProgram(st);
    for (const type of ['c', 'b']) {
      for (const major of majors) {
        for (const minor of minors) {
          for (let access = 1; access <= ACC_ALL; access++) {
            const want = dev.permits(st, type, major, minor, access) ? 1 : 0;
            const got = bpf.interpret(prog, type, major, minor, access);
            if (got !== want) assert.unreachable(`${JSON.stringify(st)}: ${type} ${major}:${minor} access ${access}: program says ${got}, controller ${want}`);
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 5000);
});

// ---- writes of each manager, into fake cgroup directories ----

function fakeDir(name, files) {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(d, f), v);
  return d;
}
const read = (d, f) => fs.readFileSync(path.join(d, f), 'utf8');

test('v2: the writes for v1-style values (converted), unified last', () => {
  const d = fakeDir('v2plan', { 'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma', 'memory.swap.max': 'max' });
  const m = new CgroupV2(d);
  const warnings = [];
  const plan = m.plan({
    memory: { limit: 1048576, swap: 3145728, reservation: 4096, kernel: 1, kernelTCP: 2, swappiness: 10, disableOOMKiller: true },
    cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, idle: 1, cpus: '0-1', mems: '0' },
    pids: { limit: -1 },
    blockIO: { weight: 1000, weightDevice: [{ major: 8, minor: 0, weight: 10 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 100 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 0 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    rdma: { mlx5_1: { hcaHandles: 3 } },
    network: { classID: 5 },
    unified: { 'memory.high': '2000000', 'cgroup.max.depth': '3' },
  }, 'linux.resources', (w) => warnings.push(w));
  assert.equal(plan.map((w) => [w.controller, w.file, w.value]), [
    ['cpuset', 'cpuset.cpus', '0-1'],
    ['cpuset', 'cpuset.mems', '0'],
    ['memory', 'memory.swap.max', '2097152'],
    ['memory', 'memory.max', '1048576'],
    ['memory', 'memory.low', '4096'],
    ['cpu', 'cpu.weight', '39'],
    ['cpu', 'cpu.max', '50000 100000'],
    ['cpu', 'cpu.max.burst', '1000'],
    ['cpu', 'cpu.idle', '1'],
    ['pids', 'pids.max', 'max'],
    ['io', 'io.weight', '10000'],
    ['io', 'io.weight', '8:0 1'],
    ['io', 'io.max', '8:0 rbps=100'],
    ['io', 'io.max', '8:0 wiops=max'],
    ['hugetlb', 'hugetlb.2MB.max', '4194304'],
    ['rdma', 'rdma.max', 'mlx5_1 hca_handle=3'],
    ['memory', 'memory.high', '2000000'],
    ['', 'cgroup.max.depth', '3'],
  ]);
  for (const w of ['memory.kernel', 'memory.kernelTCP', 'memory.swappiness', 'memory.disableOOMKiller', 'network']) {
    assert.ok(warnings.some((x) => x.includes(w)), `a warning about ${w}: ${warnings}`);
  }
  // quota -1 / only a period
  assert.equal(m.plan({ cpu: { quota: -1, period: 20000 } }, 'r', () => {}).map((w) => w.value), ['max 20000']);
  assert.equal(m.plan({ memory: { limit: -1 } }, 'r', () => {}).map((w) => `${w.file}=${w.value}`), ['memory.swap.max=max', 'memory.max=max']);
  // BFQ: the weight unconverted
  fs.writeFileSync(path.join(d, 'io.bfq.weight'), 'default 100');
  assert.equal(m.plan({ blockIO: { weight: 300 } }, 'r', () => {}).map((w) => `${w.file}=${w.value}`), ['io.bfq.weight=300']);
  // what v2 cannot express
  assert.throws(() => m.plan({ cpu: { realtimeRuntime: 1000 } }, 'linux.resources', () => {}), /realtime/);
  assert.throws(() => m.plan({ blockIO: { leafWeight: 100 } }, 'linux.resources', () => {}), /leafWeight/);
  assert.throws(() => m.plan({ memory: { swap: 100 } }, 'linux.resources', () => {}), /needs a memory.limit/);
});

test('v2 apply: writes files; a missing controller is an error before anything is written', () => {
  const d = fakeDir('v2apply', { 'cgroup.controllers': 'cpu pids', 'cpu.weight': '100', 'pids.max': 'max', 'memory.max': 'max' });
  const m = new CgroupV2(d);
  m.apply({ cpu: { shares: 2 }, pids: { limit: 10 } }, { update: true });
  assert.is(read(d, 'cpu.weight'), '1');
  assert.is(read(d, 'pids.max'), '10');
  assert.throws(() => m.apply({ pids: { limit: 20 }, memory: { limit: 1048576 } }, { update: true }),
    (e) => /cannot set memory.max to 1048576: the memory controller is not available/.test(e.message));
  assert.is(read(d, 'pids.max'), '10', 'nothing written');
  assert.throws(() => m.apply({ pids: { limit: -3 } }, { update: true }), /linux.resources.pids.limit: -3/);
  // checkBeforeUpdate: a limit below the usage is refused on update
  fs.writeFileSync(path.join(d, 'cgroup.controllers'), 'cpu pids memory');
  fs.writeFileSync(path.join(d, 'memory.current'), '5000000');
  assert.throws(() => m.apply({ memory: { limit: 1048576, checkBeforeUpdate: true } }, { update: true }), /current usage 5000000 is higher/);
  m.apply({ memory: { limit: 1048576 } }, { update: true });
  assert.is(read(d, 'memory.max'), '1048576');
  // unified keys written as given
  m.apply({ unified: { 'cpu.weight': '77' } }, { update: true });
  assert.is(read(d, 'cpu.weight'), '77');
  assert.throws(() => m.apply({ unified: { 'io.max': '8:0 rbps=1' } }, { update: true }), /the io controller is not available/);
});

test('v2 create: every available controller enabled in each ancestor\'s cgroup.subtree_control', () => {
  const root = fakeDir('v2create/root', { 'cgroup.controllers': 'cpuset cpu io memory pids', 'cgroup.subtree_control': 'memory' });
  const mid = fakeDir('v2create/root/machine', { 'cgroup.controllers': 'cpu memory pids', 'cgroup.subtree_control': '' });
  const m = new CgroupV2(path.join(mid, 'deeper', 'c1'));
  // the new level gets its files from the kernel; here it is a plain directory, so give it some
  fs.mkdirSync(path.join(mid, 'deeper'));
  fs.writeFileSync(path.join(mid, 'deeper', 'cgroup.controllers'), 'cpu memory');
  fs.writeFileSync(path.join(mid, 'deeper', 'cgroup.subtree_control'), '');
  m.create();
  assert.ok(fs.statSync(m.paths['']).isDirectory());
  assert.is(read(root, 'cgroup.subtree_control'), '+cpuset +cpu +io +pids', 'root: what was not enabled yet');
  assert.is(read(mid, 'cgroup.subtree_control'), '+cpu +memory +pids');
  assert.is(read(path.join(mid, 'deeper'), 'cgroup.subtree_control'), '+cpu +memory');
  assert.not.ok(fs.existsSync(path.join(path.dirname(root), 'cgroup.subtree_control')), 'nothing above the hierarchy root');
});

test('v2 forContainer: relative paths below the parent of our own cgroup, absolute ones below the mount', () => {
  const own = new Map([['', '/system.slice/containerd.service']]);
  assert.is(CgroupV2.forContainer(own, undefined, 'c1').paths[''], '/sys/fs/cgroup/system.slice/c1');
  assert.is(CgroupV2.forContainer(own, '/kubepods/pod1/c1', 'c1').paths[''], '/sys/fs/cgroup/kubepods/pod1/c1');
  assert.is(CgroupV2.forContainer(new Map([['', '/']]), 'a/../../b', 'c1').paths[''], '/sys/fs/cgroup/b');
});

function fakeV1(name, extra = {}) {
  const dirs = {};
  const files = {
    memory: { 'memory.limit_in_bytes': '9223372036854771712', 'memory.memsw.limit_in_bytes': '9223372036854771712', 'memory.soft_limit_in_bytes': '', 'memory.kmem.tcp.limit_in_bytes': '', 'memory.swappiness': '60', 'memory.oom_control': '', 'memory.use_hierarchy': '1' },
    cpu: { 'cpu.shares': '1024', 'cpu.cfs_quota_us': '-1', 'cpu.cfs_period_us': '100000', 'cpu.cfs_burst_us': '0', 'cpu.rt_period_us': '', 'cpu.rt_runtime_us': '', 'cpu.idle': '0' },
    cpuset: { 'cpuset.cpus': '0-1', 'cpuset.mems': '0' },
    pids: { 'pids.max': 'max' },
    blkio: { 'blkio.bfq.weight': '100', 'blkio.bfq.weight_device': '', 'blkio.throttle.read_bps_device': '', 'blkio.throttle.write_iops_device': '' },
    devices: { 'devices.allow': '', 'devices.deny': '' },
    freezer: { 'freezer.state': 'THAWED' },
    ...extra,
  };
  for (const [c, f] of Object.entries(files)) dirs[c] = fakeDir(`${name}/${c}`, f);
  return { m: CgroupV1.fromPaths(dirs), dirs };
}

test('v1 apply: each value in its file', () => {
  const { m, dirs } = fakeV1('v1apply');
  const warnings = [];
  m.apply({
    memory: { limit: 104857600, swap: 209715200, reservation: 52428800, kernelTCP: 2097152, swappiness: 20, disableOOMKiller: true, useHierarchy: true },
    cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, realtimePeriod: 1000000, realtimeRuntime: 950000, idle: 1, cpus: '1', mems: '0' },
    pids: { limit: 0 },
    blockIO: { weight: 300, weightDevice: [{ major: 254, minor: 0, weight: 200 }], throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 254, minor: 0, rate: 100 }] },
  }, (w) => warnings.push(w));
  const want = {
    memory: { 'memory.limit_in_bytes': '104857600', 'memory.memsw.limit_in_bytes': '209715200', 'memory.soft_limit_in_bytes': '52428800', 'memory.kmem.tcp.limit_in_bytes': '2097152', 'memory.swappiness': '20', 'memory.oom_control': '1', 'memory.use_hierarchy': '1' },
    cpu: { 'cpu.shares': '512', 'cpu.cfs_quota_us': '50000', 'cpu.cfs_period_us': '100000', 'cpu.cfs_burst_us': '1000', 'cpu.rt_period_us': '1000000', 'cpu.rt_runtime_us': '950000', 'cpu.idle': '1' },
    cpuset: { 'cpuset.cpus': '1', 'cpuset.mems': '0' },
    pids: { 'pids.max': '0' },
    blkio: { 'blkio.bfq.weight': '300', 'blkio.bfq.weight_device': '254:0 200', 'blkio.throttle.read_bps_device': '254:0 1048576', 'blkio.throttle.write_iops_device': '254:0 100' },
  };
  for (const [c, files] of Object.entries(want)) for (const [f, v] of Object.entries(files)) assert.is(read(dirs[c], f), v, `${c}/${f}`);
  // the device controller got the last rule of the container's list (the fake file keeps only the last write)
  assert.is(read(dirs.devices, 'devices.allow'), 'c 10:200 rwm');
  assert.is(read(dirs.devices, 'devices.deny'), 'a');
  assert.equal(warnings, []);
  // -1 lifts limits; memory -1 without swap lifts the swap limit too
  m.apply({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1 } }, { update: true });
  assert.is(read(dirs.memory, 'memory.limit_in_bytes'), '-1');
  assert.is(read(dirs.memory, 'memory.memsw.limit_in_bytes'), '-1');
  assert.is(read(dirs.pids, 'pids.max'), 'max');
  assert.is(read(dirs.cpu, 'cpu.cfs_quota_us'), '-1');
});

test('v1 apply: settings this host cannot take', () => {
  const { m, dirs } = fakeV1('v1bad');
  // unified keys on v1
  assert.throws(() => m.apply({ unified: { 'memory.max': '1' } }), /^invalid configuration: cannot use unified on cgroup v1 \(linux.resources.unified: memory.max\)$/);
  // a controller that is not mounted
  assert.throws(() => m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] }), /cannot set hugetlb.2MB.limit_in_bytes to 2097152: the hugetlb cgroup controller is not mounted/);
  assert.throws(() => m.apply({ network: { classID: 1 } }), /net_cls.classid.*net_cls cgroup controller is not mounted/);
  assert.throws(() => m.apply({ rdma: { mlx: { hcaHandles: 1 } } }), /rdma cgroup controller is not mounted/);
  // a file the kernel does not have: named, with the value
  assert.throws(() => m.apply({ blockIO: { leafWeight: 100 } }, { update: true }), /cannot set blkio.leaf_weight to 100: no such file/);
  // kernel memory: ignored with a warning when the kernel has no such limit
  const warnings = [];
  m.apply({ memory: { kernel: 1048576 } }, { update: true, warn: (w) => warnings.push(w) });
  assert.match(warnings.join('\n'), /kernel memory limit 1048576 is ignored/);
  // ... and written where the kernel has it
  fs.writeFileSync(path.join(dirs.memory, 'memory.kmem.limit_in_bytes'), '');
  const w2 = [];
  m.apply({ memory: { kernel: 1048576 } }, { update: true, warn: (w) => w2.push(w) });
  assert.is(read(dirs.memory, 'memory.kmem.limit_in_bytes'), '1048576');
  assert.equal(w2, []);
});

test('v1 memory and swap: the write order keeps memory <= memory+swap', () => {
  const { m, dirs } = fakeV1('v1order');
  // record the order of writes through a file that only the first write may see as "not yet"
  fs.writeFileSync(path.join(dirs.memory, 'memory.limit_in_bytes'), '104857600');
  m.apply({ memory: { limit: 209715200, swap: 419430400 } }, { update: true });
  assert.is(read(dirs.memory, 'memory.limit_in_bytes'), '209715200');
  assert.is(read(dirs.memory, 'memory.memsw.limit_in_bytes'), '419430400');
});

// ---- stats, OOM, CLI parsing ----

test('stats JSON: bigints as exact digits, omitempty like runc', () => {
  assert.is(stats.toJson({ a: 9223372036854771712n, b: undefined, c: [1n, 2], d: null, e: 'x' }), '{"a":9223372036854771712,"c":[1,2],"d":null,"e":"x"}');
  const { dirs } = fakeV1('v1stats', {
    cpuacct: { 'cpuacct.usage': '123', 'cpuacct.usage_percpu': '100 23 ', 'cpuacct.stat': 'user 3\nsystem 1\n' },
    memory: { 'memory.limit_in_bytes': '9223372036854771712', 'memory.usage_in_bytes': '4096', 'memory.max_usage_in_bytes': '8192', 'memory.failcnt': '0', 'memory.stat': 'cache 5\nrss 7\n' },
    pids: { 'pids.current': '2', 'pids.max': 'max' },
    blkio: { 'blkio.throttle.io_service_bytes_recursive': '254:0 Read 4096\n254:0 Write 0\nTotal 4096\n' },
  });
  const s = JSON.parse(stats.toJson(stats.statsV1(dirs)));
  assert.equal(s.cpu.usage, { total: 123, percpu: [100, 23], kernel: 10000000, user: 30000000 });
  assert.equal(s.memory.usage, { limit: 9223372036854771712, usage: 4096, max: 8192, failcnt: 0 });
  assert.ok(stats.toJson(stats.statsV1(dirs)).includes('"limit":9223372036854771712'), 'exact digits');
  assert.is(s.memory.cache, 5);
  assert.equal(s.memory.raw, { cache: 5, rss: 7 });
  assert.equal(s.pids, { current: 2 });
  assert.equal(s.blkio.ioServiceBytesRecursive, [{ major: 254, op: 'Read', value: 4096 }, { major: 254, op: 'Write' }]);
  assert.equal(Object.keys(s), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
  assert.is(s.network_interfaces, null);
});

test('v2 stats and OOM counting from memory.events', () => {
  const d = fakeDir('v2stats', {
    'cpu.stat': 'usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 2\nnr_throttled 1\nthrottled_usec 3\n',
    'memory.current': '4096', 'memory.max': 'max', 'memory.events': 'low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\n',
    'memory.stat': 'anon 4096\nfile 0\n', 'pids.current': '1', 'pids.max': '10',
    'io.stat': '8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n',
  });
  const s = JSON.parse(stats.toJson(stats.statsV2(d)));
  assert.equal(s.cpu.usage, { total: 10000, kernel: 4000, user: 6000 });
  assert.equal(s.cpu.throttling, { periods: 2, throttledPeriods: 1, throttledTime: 3000 });
  assert.is(s.memory.usage.usage, 4096);
  assert.is(s.memory.usage.failcnt, 3);
  assert.equal(s.pids, { current: 1, limit: 10 });
  assert.equal(s.blkio.ioServiceBytesRecursive, [{ major: 8, op: 'Read', value: 100 }, { major: 8, op: 'Write', value: 200 }]);
  const w = oom.oomWatcherV2(d);
  assert.is(w.fd, undefined);
  assert.is(w.check(), 0);
  fs.writeFileSync(path.join(d, 'memory.events'), 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n');
  assert.is(w.check(), 2);
  assert.is(w.check(), 0);
  w.close();
});

test('CLI value parsing: durations, byte sizes, update flags', () => {
  assert.is(parseDuration('5s'), 5000);
  assert.is(parseDuration('250ms'), 250);
  assert.is(parseDuration('1m30s'), 90000);
  assert.is(parseDuration('1.5h'), 5400000);
  assert.is(parseDuration('0'), 0);
  assert.is(parseDuration('-1s'), -1000);
  assert.is(parseDuration('5'), undefined);
  assert.is(parseDuration('s'), undefined);
  assert.is(parseBytes('memory', '512'), 512);
  assert.is(parseBytes('memory', '100m'), 104857600);
  assert.is(parseBytes('memory', '1.5GiB'), 1610612736);
  assert.is(parseBytes('memory', '64kb'), 65536);
  assert.is(parseBytes('memory', '-1'), -1);
  assert.throws(() => parseBytes('memory', '-5'), /invalid value for memory: invalid size: '-5'/);
  assert.throws(() => parseBytes('memory', '5x'), /invalid size/);
  assert.equal(resourcesFromFlags({ memory: '10M', 'memory-swap': '-1', 'cpu-share': '512', 'cpu-quota': '-1', 'cpuset-cpus': '0', 'pids-limit': '5', 'blkio-weight': '300', 'kernel-memory': '1M' }), {
    memory: { limit: 10485760, swap: -1, kernel: 1048576 },
    cpu: { quota: -1, shares: 512, cpus: '0' },
    blockIO: { weight: 300 },
    pids: { limit: 5 },
  });
  assert.throws(() => resourcesFromFlags({ 'cpu-period': '-5' }), /invalid value for cpu-period/);
  assert.throws(() => resourcesFromFlags({ 'pids-limit': 'x' }), /invalid value for pids-limit/);
  assert.equal(resourcesFromFlags({}), {});
});

// ---- a real cgroup v2 directory, where this host has the v2 hierarchy ----

function v2Mount() {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep > 0 && line.slice(sep + 3).startsWith('cgroup2 ')) return line.split(' ')[4];
  }
  return undefined;
}
const V2 = process.getuid() === 0 ? v2Mount() : undefined;

function v2TestDir() {
  const d = path.join(V2, `tsrunc-unit-${process.pid}-${Math.random().toString(16).slice(2, 8)}`);
  fs.mkdirSync(d);
  cleanups.push(() => {
    for (const p of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (let i = 0; i < 100; i++) {
      try {
        fs.rmdirSync(d);
        return;
      } catch (e) {
        if (e.code === 'ENOENT') return;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  });
  return d;
}

/** Runs a shell script inside cgroup v2 directory `d` (it moves itself in first). */
function shIn(d, script) {
  return spawnSync('sh', ['-c', `echo $$ > ${d}/cgroup.procs || exit 99; ${script}`], { encoding: 'utf8' });
}

test('v2 on this host: the BPF device program is loaded, attached and enforced', () => {
  if (!V2) return console.log('  (skipped: no cgroup v2 hierarchy or not root)');
  const d = v2TestDir();
  const m = new CgroupV2(d);
  // deny-all with no list, as podman sends it: the default devices still work
  bpf.applyDeviceState(d, dev.containerDeviceState([{ allow: false, access: 'rwm' }], []));
  assert.is(bpf.attachedDevicePrograms(d), 1);
  const r = shIn(d, 'head -c1 /dev/zero >/dev/null && echo zero-ok; head -c1 /dev/urandom >/dev/null && echo urandom-ok; ' +
    'echo x > /dev/null && echo null-ok; for b in /dev/vda /dev/sda /dev/nvme0n1 /dev/loop0; do [ -b $b ] && { head -c1 $b >/dev/null 2>&1 && echo "$b-readable" || echo "$b-denied"; }; done; true');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /zero-ok/);
  assert.match(r.stdout, /urandom-ok/);
  assert.match(r.stdout, /null-ok/);
  assert.not.match(r.stdout, /-readable/);
  // applying again replaces the program (one attached, not two); emulate(): without the defaults appended
  bpf.applyDeviceState(d, dev.emulate([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 9, access: 'rwm' }]));
  assert.is(bpf.attachedDevicePrograms(d), 1);
  const r2 = shIn(d, 'head -c1 /dev/zero >/dev/null && echo zero-ok; head -c1 /dev/urandom >/dev/null 2>&1 && echo urandom-ok || echo urandom-denied');
  assert.match(r2.stdout, /zero-ok/);
  assert.match(r2.stdout, /urandom-denied/, JSON.stringify(r2));
  // through the manager (apply at create time attaches the program too)
  m.apply({ devices: [{ allow: false, access: 'rwm' }] }, { devices: [{ type: 'c', major: 1, minor: 9 }] });
  assert.is(bpf.attachedDevicePrograms(d), 1);
  assert.match(shIn(d, 'head -c1 /dev/urandom >/dev/null && echo urandom-ok').stdout, /urandom-ok/);
});

test('v2 on this host: freeze and thaw through cgroup.freeze', async () => {
  if (!V2) return console.log('  (skipped: no cgroup v2 hierarchy or not root)');
  const d = v2TestDir();
  const m = new CgroupV2(d);
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    m.addProcess(child.pid);
    assert.equal(m.processes(), [child.pid]);
    assert.is(m.isFrozen(), false);
    m.freeze();
    assert.is(m.isFrozen(), true);
    assert.match(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'), /^State:\s+[SD]/m);
    m.thaw();
    assert.is(m.isFrozen(), false);
    // a unified key the core owns is written as given
    m.apply({ unified: { 'cgroup.max.descendants': '5' } }, { update: true });
    assert.is(fs.readFileSync(path.join(d, 'cgroup.max.descendants'), 'utf8').trim(), '5');
  } finally {
    child.kill('SIGKILL');
  }
});
test.run();
