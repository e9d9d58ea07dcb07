'use strict';
// Tests for the JSON Schema layer (schemas/*.schema.json compiled into
// dist/validators/, wrapped by src/bundle/schema.ts):
//  - the upstream runtime-spec test vectors;
//  - real caller configs and `runc spec` output;
//  - a verdict cross-check against the upstream runtime-spec schemas over a
//    corpus of real and mutated documents, where every deliberate difference is
//    listed with its reason;
//  - the wording of messages.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const Ajv04 = require('ajv-draft-04').default;
const {
  validateConfigSchema,
  validateStateSchema,
  validateFeaturesSchema,
} = require('../../dist/bundle/schema.js');

const { shared } = require('../lib/shared');
const SPEC = shared('reference/runtime-spec/schema');
const CALLERS = shared('fixtures/caller-configs');

const ours = { config: validateConfigSchema, state: validateStateSchema, features: validateFeaturesSchema };

const readJSON = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

// The upstream schemas are draft-04 and refer to each other by file name
// ("defs.json#/definitions/uint32"), so each is registered under its file name.
function upstreamValidators() {
  const ajv = new Ajv04({ allErrors: true, strict: false });
  for (const file of fs.readdirSync(SPEC).filter((f) => f.endsWith('.json'))) {
    ajv.addSchema(readJSON(path.join(SPEC, file)), file);
  }
  const get = (id) => {
    const v = ajv.getSchema(id);
    return (doc) => v(doc);
  };
  return { config: get('config-schema.json'), state: get('state-schema.json'), features: get('features-schema.json') };
}
const upstream = upstreamValidators();

// `runc spec` writes config.json into the current directory.
function runcSpec(rootless) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-schema-'));
  try {
    execFileSync('runc', rootless ? ['spec', '--rootless'] : ['spec'], { cwd: dir, stdio: 'pipe' });
    return readJSON(path.join(dir, 'config.json'));
  } catch (e) {
    if (e.code === 'ENOENT') return null; // runc not installed
    throw e;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const RUNC_SPECS = { 'runc spec': runcSpec(false), 'runc spec --rootless': runcSpec(true) };

const callerConfigs = () =>
  fs.readdirSync(CALLERS).filter((f) => f.endsWith('.json')).sort().map((f) => [f, readJSON(path.join(CALLERS, f))]);

// ---------------------------------------------------------------------------
// Upstream test vectors

// Vectors about non-Linux platform sections that we do not validate: tsrunc is
// a Linux runtime and only checks that e.g. "freebsd" is an object (the spec
// text for those sections is not part of our reference material either). They
// are not held to their good/bad verdict; instead the test pins down that we
// accept them. (Not a uvu skip: test/run.js miscounts skipped tests.)
const NOT_CHECKED = {
  'config/bad/freebsd-vnet-disable.json': 'it is about the inside of the freebsd section (jail.vnet), which tsrunc ignores',
};

function vectors() {
  const out = [];
  for (const kind of ['config', 'state', 'features']) {
    for (const verdict of ['good', 'bad']) {
      const dir = path.join(SPEC, 'test', kind, verdict);
      for (const file of fs.readdirSync(dir).sort()) {
        out.push({ kind, verdict, name: `${kind}/${verdict}/${file}`, file: path.join(dir, file) });
      }
    }
  }
  return out;
}

const Vectors = suite('schema: upstream test vectors');
for (const v of vectors()) {
  if (NOT_CHECKED[v.name]) {
    Vectors(`${v.name} is accepted: ${NOT_CHECKED[v.name]}`, () => {
      assert.equal(ours[v.kind](readJSON(v.file)), []);
    });
    continue;
  }
  Vectors(v.name, () => {
    let doc;
    try {
      doc = readJSON(v.file);
    } catch (e) {
      // bad/invalid-json.json is not JSON at all: rejecting it is the parser's job.
      assert.is(v.verdict, 'bad', `${v.name} does not parse: ${e.message}`);
      return;
    }
    const problems = ours[v.kind](doc);
    if (v.verdict === 'good') assert.equal(problems, [], `${v.name} should be valid`);
    else assert.ok(problems.length > 0, `${v.name} should be invalid`);
  });
}
Vectors.run();

// ---------------------------------------------------------------------------
// Real configs

const Real = suite('schema: real caller configs and runc spec');
for (const [name, config] of callerConfigs()) {
  Real(`caller config ${name} is valid`, () => {
    assert.equal(validateConfigSchema(config), []);
  });
}
for (const [name, config] of Object.entries(RUNC_SPECS)) {
  if (!config) {
    console.log(`note: runc is not installed, not checking \`${name}\``);
    continue;
  }
  Real(`${name} is valid`, () => {
    assert.equal(validateConfigSchema(config), []);
  });
}
Real.run();

// ---------------------------------------------------------------------------
// Cross-check against the upstream schemas

// A config that sets every field tsrunc's schema describes, valid under ours and upstream's.
const FULL_CONFIG = {
  ociVersion: '1.2.0',
  process: {
    terminal: true,
    consoleSize: { height: 24, width: 80 },
    user: { uid: 1000, gid: 1000, umask: 18, additionalGids: [5, 6], username: 'app' },
    args: ['sh', '-c', 'true'],
    commandLine: 'sh -c true',
    env: ['PATH=/usr/bin:/bin', 'TERM=xterm'],
    cwd: '/home/app',
    capabilities: {
      bounding: ['CAP_KILL', 'CAP_CHOWN'],
      effective: ['CAP_KILL'],
      inheritable: ['CAP_KILL'],
      permitted: ['CAP_KILL', 'CAP_CHOWN'],
      ambient: ['CAP_KILL'],
    },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 512 }],
    noNewPrivileges: true,
    apparmorProfile: 'tsrunc-default',
    oomScoreAdj: -500,
    selinuxLabel: 'system_u:system_r:container_t:s0',
    scheduler: {
      policy: 'SCHED_DEADLINE',
      nice: 0,
      priority: 0,
      flags: ['SCHED_FLAG_RECLAIM'],
      runtime: 1000000,
      deadline: 2000000,
      period: 3000000,
    },
    ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 4 },
    execCPUAffinity: { initial: '0-1', final: '2,3' },
  },
  root: { path: 'rootfs', readonly: false },
  hostname: 'box',
  domainname: 'example.test',
  mounts: [
    {
      destination: '/proc',
      type: 'proc',
      source: 'proc',
      options: ['nosuid', 'noexec', 'nodev'],
    },
    {
      destination: '/data',
      type: 'none',
      source: '/srv/data',
      options: ['rbind', 'ridmap'],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    },
  ],
  hooks: {
    prestart: [{ path: '/usr/bin/prestart', args: ['prestart', '-v'], env: ['A=1'], timeout: 5 }],
    createRuntime: [{ path: '/usr/bin/create-runtime' }],
    createContainer: [{ path: '/usr/bin/create-container' }],
    startContainer: [{ path: '/usr/bin/start-container' }],
    poststart: [{ path: '/usr/bin/poststart' }],
    poststop: [{ path: '/usr/bin/poststop', timeout: 1 }],
  },
  annotations: { 'com.example.key': 'value', 'com.example.empty': '' },
  linux: {
    namespaces: [
      { type: 'pid' },
      { type: 'network', path: '/var/run/netns/test' },
      { type: 'mount' },
      { type: 'ipc' },
      { type: 'uts' },
      { type: 'user' },
      { type: 'cgroup' },
      { type: 'time' },
    ],
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    timeOffsets: { monotonic: { secs: 172800, nanosecs: 0 }, boottime: { secs: -60, nanosecs: 500 } },
    devices: [
      {
        type: 'c',
        path: '/dev/fuse',
        major: 10,
        minor: 229,
        fileMode: 438,
        uid: 0,
        gid: 0,
      },
      { type: 'p', path: '/dev/myfifo' },
    ],
    netDevices: { eth1: { name: 'ceth1' }, eth2: {} },
    cgroupsPath: '/tsrunc/test',
    resources: {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
      ],
      memory: {
        limit: 536870912,
        reservation: 268435456,
        swap: 1073741824,
        kernel: -1,
        kernelTCP: -1,
        swappiness: 60,
        disableOOMKiller: false,
        useHierarchy: true,
        checkBeforeUpdate: true,
      },
      cpu: {
        shares: 1024,
        quota: 100000,
        burst: 10000,
        period: 100000,
        realtimeRuntime: 950000,
        realtimePeriod: 1000000,
        cpus: '0-3,7',
        mems: '0',
        idle: 0,
      },
      blockIO: {
        weight: 500,
        leafWeight: 300,
        weightDevice: [{ major: 8, minor: 0, weight: 100 }, { major: 8, minor: 16, leafWeight: 200 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      },
      hugepageLimits: [{ pageSize: '2MB', limit: 1048576 }],
      network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }] },
      pids: { limit: 100 },
      rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 100 } },
      unified: { 'memory.high': 'max' },
    },
    intelRdt: {
      closID: 'clos1',
      l3CacheSchema: 'L3:0=ff',
      memBwSchema: 'MB:0=50',
      schemata: ['L2:0=f'],
      enableMonitoring: true,
    },
    memoryPolicy: { mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] },
    sysctl: { 'net.ipv4.ip_forward': '1' },
    seccomp: {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      listenerPath: '/run/seccomp-agent.sock',
      listenerMetadata: 'meta',
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        {
          names: ['personality'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: 38,
          args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }],
        },
      ],
    },
    rootfsPropagation: 'slave',
    maskedPaths: ['/proc/kcore'],
    readonlyPaths: ['/proc/sys'],
    mountLabel: 'system_u:object_r:container_file_t:s0',
    personality: { domain: 'LINUX', flags: [] },
  },
};

// Features with every field features.md and features-linux.md define.
const FULL_FEATURES = {
  ociVersionMin: '1.0.0',
  ociVersionMax: '1.2.1',
  hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
  mountOptions: ['acl', 'async', 'atime', 'bind', 'defaults', 'dev'],
  linux: {
    namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts', 'time'],
    capabilities: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER'],
    cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true },
    seccomp: {
      enabled: true,
      actions: [
        'SCMP_ACT_ALLOW',
        'SCMP_ACT_ERRNO',
        'SCMP_ACT_KILL',
        'SCMP_ACT_LOG',
        'SCMP_ACT_NOTIFY',
        'SCMP_ACT_TRACE',
        'SCMP_ACT_TRAP',
      ],
      operators: [
        'SCMP_CMP_EQ',
        'SCMP_CMP_GE',
        'SCMP_CMP_GT',
        'SCMP_CMP_LE',
        'SCMP_CMP_LT',
        'SCMP_CMP_MASKED_EQ',
        'SCMP_CMP_NE',
      ],
      archs: [
        'SCMP_ARCH_AARCH64',
        'SCMP_ARCH_ARM',
        'SCMP_ARCH_MIPS',
        'SCMP_ARCH_MIPS64',
        'SCMP_ARCH_MIPS64N32',
        'SCMP_ARCH_MIPSEL',
        'SCMP_ARCH_MIPSEL64',
        'SCMP_ARCH_MIPSEL64N32',
        'SCMP_ARCH_PPC',
        'SCMP_ARCH_PPC64',
        'SCMP_ARCH_PPC64LE',
        'SCMP_ARCH_S390',
        'SCMP_ARCH_S390X',
        'SCMP_ARCH_X32',
        'SCMP_ARCH_X86',
        'SCMP_ARCH_X86_64',
      ],
      knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_LOG'],
      supportedFlags: ['SECCOMP_FILTER_FLAG_LOG'],
    },
    apparmor: { enabled: true },
    selinux: { enabled: true },
    netDevices: { enabled: true },
    memoryPolicy: { modes: ['MPOL_DEFAULT', 'MPOL_BIND'], flags: ['MPOL_F_STATIC_NODES'] },
    intelRdt: { enabled: true, schemata: true, monitoring: false },
    mountExtensions: { idmap: { enabled: true } },
  },
  annotations: {
    'io.github.seccomp.libseccomp.version': '2.5.4',
    'org.opencontainers.runc.checkpoint.enabled': 'true',
    'org.opencontainers.runc.commit': 'v1.1.0-368-ga1c51c56',
    'org.opencontainers.runc.version': '1.1.0+dev',
  },
  potentiallyUnsafeConfigAnnotations: ['com.example.foo.bar', 'org.systemd.property.'],
};

// Where our verdict deliberately differs from upstream's. Keys are
// "<kind>: <mutation> <path>" with array indexes written as []; `ours` is our
// verdict (valid?) when the two differ. Anything not listed must agree.
const DELIBERATE = [
  {
    match: /^(config|state): (enum|empty) ociVersion$|^features: (enum|empty) ociVersionM(in|ax)$/,
    ours: false,
    why: 'config.md: ociVersion MUST be SemVer 2.0.0, and features.md says ociVersionMin/Max MUST be accepted as a config ociVersion (state carries the same version string); upstream only asks for a string',
  },
  {
    match: /^config: (emptyObject process\.user|delete process\.user\.(uid|gid))$/,
    ours: false,
    why: 'config.md: the POSIX user has uid and gid REQUIRED; upstream makes them optional',
  },
  {
    match: /^config: ((emptyArray|delete) process\.args|delete process\.args\[\])$/,
    ours: false,
    why: 'config.md: args needs at least one entry on non-Windows platforms',
  },
  {
    match: /^config: (empty|relative) process\.cwd$/,
    ours: false,
    why: 'config.md: cwd MUST be an absolute path',
  },
  {
    match: /^config: delete process\.ioPriority\.priority$/,
    ours: false,
    why: 'config.md: ioPriority.priority is REQUIRED; upstream only requires class',
  },
  {
    match: /^config: delete root$/,
    ours: false,
    why: 'config.md: root is REQUIRED on every platform except Windows',
  },
  {
    match: /^config: delete mounts\[\]\.(uid|gid)Mappings$/,
    ours: false,
    why: 'config.md: a mount\'s uidMappings and gidMappings MUST be specified together',
  },
  {
    match: /^config: (empty|relative) hooks\.\w+\[\]\.path$/,
    ours: false,
    why: 'config.md: a hook path MUST be absolute',
  },
  {
    match: /^config: (empty|relative) linux\.(namespaces\[\]\.path|maskedPaths\[\]|readonlyPaths\[\])$/,
    ours: false,
    why: 'config-linux.md: namespace paths, maskedPaths and readonlyPaths MUST be absolute',
  },
  {
    match: /^config: delete linux\.devices\[\]\.(major|minor)$/,
    ours: false,
    why: 'config-linux.md: major and minor are REQUIRED unless the device type is p',
  },
  {
    match: /^config: (enum|empty) linux\.resources\.devices\[\]\.(type|access)$/,
    ours: false,
    why: 'config-linux.md: a device rule type is a, c or b and access is made of r, w and m; upstream takes any string',
  },
  {
    match: /^config: enum linux\.(resources\.cpu\.(cpus|mems)|memoryPolicy\.nodes)$/,
    ours: false,
    why: 'config-linux.md: cpus, mems and nodes are comma-separated lists with dash ranges (upstream checks this format only for execCPUAffinity)',
  },
  {
    match: /^config: delete linux\.resources\.blockIO\.weightDevice\[\]\.(weight|leafWeight)$/,
    ours: false,
    why: 'config-linux.md: each weightDevice entry MUST set weight or leafWeight',
  },
  {
    match: /^config: delete linux\.resources\.blockIO\.throttle\w+Device\[\]\.rate$/,
    ours: false,
    why: 'config-linux.md: rate is REQUIRED in throttle entries',
  },
  {
    match: /^config: (emptyObject linux\.resources\.pids|delete linux\.resources\.pids\.limit)$/,
    ours: true,
    why: 'config-linux.md: pids.limit is OPTIONAL; upstream still requires it',
  },
  {
    match: /^config: (emptyObject linux\.resources\.rdma\.[^.]+|delete linux\.resources\.rdma\.[^.]+\.hca(Handles|Objects))$/,
    ours: false,
    why: 'config-linux.md: each rdma entry MUST set hcaHandles or hcaObjects',
  },
  {
    match: /^config: (emptyObject linux\.memoryPolicy|delete linux\.memoryPolicy\.mode)$/,
    ours: false,
    why: 'config-linux.md: memoryPolicy.mode is REQUIRED',
  },
  {
    match: /^config: delete linux\.seccomp\.listenerPath$/,
    ours: false,
    why: 'config-linux.md: listenerMetadata MUST NOT be set without listenerPath',
  },
  {
    match: /^config: (emptyObject linux\.personality|delete linux\.personality\.domain)$/,
    ours: false,
    why: 'config-linux.md: personality.domain is REQUIRED',
  },
  {
    match: /^config: \w+ (freebsd|zos|solaris|windows|vm)\./,
    ours: true,
    why: 'non-Linux platform sections are only checked to be objects',
  },
  {
    match: /^config: vector config\/bad\/freebsd-vnet-disable\.json$/,
    ours: true,
    why: 'non-Linux platform sections are only checked to be objects (see NOT_CHECKED)',
  },
  {
    match: /^state: (enum|empty) status$/,
    ours: true,
    why: 'runtime.md lets runtimes define additional states (runc reports "paused"); upstream lists four',
  },
  {
    match: /^state: delete pid$/,
    ours: false,
    why: 'runtime.md: on Linux pid is REQUIRED when status is created or running',
  },
  {
    match: /^state: (empty|relative) bundle$/,
    ours: false,
    why: 'runtime.md: bundle is the absolute path of the bundle',
  },
  {
    match: /^features: null [^[]+$/,
    ours: true,
    why: 'features.md: every property except ociVersionMin/Max MAY be null; upstream rejects null',
  },
  {
    match: /^features: \w+ linux\.memoryPolicy(\.|$)/,
    ours: false,
    why: 'features-linux.md defines linux.memoryPolicy; the upstream schema does not, so it accepts anything there',
  },
  {
    match: /^features: type linux\.intelRdt\.(schemata|monitoring)$/,
    ours: false,
    why: 'features-linux.md defines intelRdt.schemata and .monitoring as booleans; the upstream schema does not have them',
  },
];

// Hand-made documents for differences and edge cases the mutations do not reach.
// `ours` and `upstream` are the expected verdicts (valid?); `why` explains a difference.
const CASES = [
  { name: 'unknown properties everywhere', kind: 'config', ours: true, upstream: true,
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs', x: 1 }, future: {}, process: { cwd: '/', args: ['sh'], later: [] }, linux: { futureThing: 1, resources: { newController: {} } } } },
  { name: 'rootfsPropagation rshared', kind: 'config', ours: true, upstream: false,
    why: 'runc accepts the recursive propagation modes and containerd CRI and Docker plugins send rshared',
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { rootfsPropagation: 'rshared' } } },
  { name: 'rootfsPropagation bogus', kind: 'config', ours: false, upstream: false,
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { rootfsPropagation: 'recursive' } } },
  { name: 'device fileMode with setuid/sticky bits', kind: 'config', ours: true, upstream: false,
    why: 'config-linux.md: fileMode is a uint32; upstream caps it at 0777',
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { devices: [{ type: 'c', path: '/dev/x', major: 1, minor: 3, fileMode: 4095 }] } } },
  { name: 'FIFO device without major/minor', kind: 'config', ours: true, upstream: true,
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { devices: [{ type: 'p', path: '/dev/fifo' }] } } },
  { name: 'unbuffered char device without major/minor', kind: 'config', ours: false, upstream: true,
    why: 'config-linux.md: major and minor are REQUIRED unless type is p',
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { devices: [{ type: 'u', path: '/dev/x' }] } } },
  { name: 'device type outside c/b/u/p', kind: 'config', ours: false, upstream: false,
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { devices: [{ type: 'x', path: '/dev/x', major: 1, minor: 1 }] } } },
  { name: 'empty annotation key', kind: 'config', ours: false, upstream: true,
    why: 'config.md: annotation keys MUST NOT be empty',
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, annotations: { '': 'v' } } },
  { name: 'empty annotation value', kind: 'config', ours: true, upstream: true,
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, annotations: { k: '' } } },
  { name: 'ociVersion with a v prefix', kind: 'config', ours: false, upstream: true,
    why: 'config.md: ociVersion MUST be SemVer 2.0.0',
    doc: { ociVersion: 'v1.0.0', root: { path: 'rootfs' } } },
  { name: 'ociVersion with pre-release and build metadata', kind: 'config', ours: true, upstream: true,
    doc: { ociVersion: '1.0.2-rc.1+build.5', root: { path: 'rootfs' } } },
  { name: 'largest uint64 rlimit', kind: 'config', ours: true, upstream: true,
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['sh'], rlimits: [{ type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 }] } } },
  { name: 'lower-case rlimit', kind: 'config', ours: false, upstream: false,
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['sh'], rlimits: [{ type: 'RLIMIT_nofile', soft: 1, hard: 1 }] } } },
  { name: 'seccomp rule without names', kind: 'config', ours: false, upstream: false,
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] } } } },
  { name: 'memBwSchema with a newline', kind: 'config', ours: false, upstream: false,
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { intelRdt: { memBwSchema: 'MB:0=50\nL3:0=f' } } } },
  { name: 'schemata line with a newline', kind: 'config', ours: false, upstream: true,
    why: 'config-linux.md: schemata values MUST NOT contain newlines',
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { intelRdt: { schemata: ['L3:0=f\nMB:0=1'] } } } },
  { name: 'time offset for an unknown clock with a bad value', kind: 'config', ours: false, upstream: true,
    why: 'config-linux.md: every timeOffsets entry (keyed by clock name) is a {secs, nanosecs} object; upstream only describes boottime and monotonic',
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { timeOffsets: { realtime: { secs: 'soon' } } } } },
  { name: 'swappiness 2^64-1 (Go uint64(-1), "unset" for runc)', kind: 'config', ours: true, upstream: true,
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, linux: { resources: { memory: { swappiness: 18446744073709551615 } } } } },
  { name: 'Windows config without root and uid/gid', kind: 'config', ours: true, upstream: true,
    doc: { ociVersion: '1.0.0', windows: { layerFolders: ['C:\\layers\\1'] }, process: { cwd: 'c:\\foo', user: { username: 'ContainerUser' } } } },
  { name: 'Windows config with a relative cwd', kind: 'config', ours: false, upstream: true,
    why: 'config.md: cwd MUST be absolute (a Windows path here)',
    doc: { ociVersion: '1.0.0', windows: { layerFolders: ['C:\\layers\\1'] }, process: { cwd: 'foo' } } },
  { name: 'POSIX config with a Windows cwd', kind: 'config', ours: false, upstream: true,
    why: 'config.md: cwd MUST be absolute; without a windows section the config is POSIX',
    doc: { ociVersion: '1.0.0', root: { path: 'rootfs' }, process: { cwd: 'c:\\foo', args: ['sh'] } } },
  { name: 'config that is not an object', kind: 'config', ours: false, upstream: false, doc: ['ociVersion'] },
  { name: 'state of a paused container', kind: 'state', ours: true, upstream: false,
    why: 'runtime.md lets runtimes add states; runc reports "paused"',
    doc: { ociVersion: '1.0.2', id: 'c1', status: 'paused', pid: 42, bundle: '/b' } },
  { name: 'created state without pid', kind: 'state', ours: false, upstream: true,
    why: 'runtime.md: on Linux pid is REQUIRED when status is created or running',
    doc: { ociVersion: '1.0.2', id: 'c1', status: 'created', bundle: '/b' } },
  { name: 'stopped state without pid', kind: 'state', ours: true, upstream: true,
    doc: { ociVersion: '1.0.2', id: 'c1', status: 'stopped', bundle: '/b' } },
  { name: 'runc-style state with extra fields', kind: 'state', ours: true, upstream: true,
    doc: { ociVersion: '1.0.2-dev', id: 'c1', pid: 7, status: 'running', bundle: '/run/b', rootfs: '/run/b/rootfs', created: '2024-01-01T00:00:00Z', owner: '' } },
  { name: 'features with null optional properties', kind: 'features', ours: true, upstream: false,
    why: 'features.md: properties other than ociVersionMin/Max MAY be null',
    doc: { ociVersionMin: '1.0.0', ociVersionMax: '1.2.0', hooks: null, linux: { namespaces: null, seccomp: { enabled: null } } } },
  { name: 'features with a null ociVersionMax', kind: 'features', ours: false, upstream: false,
    doc: { ociVersionMin: '1.0.0', ociVersionMax: null } },
  { name: 'features with a bad capability name', kind: 'features', ours: false, upstream: false,
    doc: { ociVersionMin: '1.0.0', ociVersionMax: '1.2.0', linux: { capabilities: ['chown'] } } },
];

// Mutations: each node of a base document is replaced by values of the wrong
// type, null, edge values, or deleted; each result is one corpus document.
function wrongType(v) {
  if (typeof v === 'string') return 42;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return 'true';
  if (Array.isArray(v)) return {};
  if (v && typeof v === 'object') return [];
  return 1;
}

function replacements(v) {
  const out = [['type', wrongType(v)], ['null', null]];
  if (typeof v === 'string') {
    out.push(['enum', `${v}X`], ['empty', '']);
    if (v.startsWith('/')) out.push(['relative', v.slice(1)]);
  } else if (typeof v === 'number') {
    out.push(['negative', -1], ['fraction', v + 0.5], ['huge', 2 ** 65], ['zero', 0]);
  } else if (Array.isArray(v)) {
    out.push(['emptyArray', []]);
  } else if (v && typeof v === 'object') {
    out.push(['emptyObject', {}]);
  }
  return out;
}

function* nodePaths(v, at = []) {
  yield at;
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) yield* nodePaths(v[k], [...at, Array.isArray(v) ? Number(k) : k]);
  }
}

const valueAt = (doc, at) => at.reduce((node, k) => node[k], doc);

function replaced(doc, at, value) {
  if (at.length === 0) return value;
  const copy = structuredClone(doc);
  valueAt(copy, at.slice(0, -1))[at[at.length - 1]] = value;
  return copy;
}

function deleted(doc, at) {
  const copy = structuredClone(doc);
  const parent = valueAt(copy, at.slice(0, -1));
  const key = at[at.length - 1];
  if (Array.isArray(parent)) parent.splice(key, 1);
  else delete parent[key];
  return copy;
}

const pathKey = (at) => at.map((k) => (typeof k === 'number' ? '[]' : `.${k}`)).join('').replace(/^\./, '');

// Array items that share a path key (e.g. the 300 names of a seccomp rule)
// are mutated through their first occurrence only: the others add time, not cases.
function* mutants(doc) {
  const seen = new Set();
  for (const at of nodePaths(doc)) {
    const p = pathKey(at);
    if (seen.has(p)) continue;
    seen.add(p);
    for (const [how, value] of replacements(valueAt(doc, at))) yield [`${how} ${p}`, replaced(doc, at, value)];
    if (at.length) yield [`delete ${p}`, deleted(doc, at)];
  }
}

const hits = new Set();

/** Compares verdicts over `docs` ([label, doc] pairs); returns the unexplained differences. */
function crossCheck(kind, docs) {
  const problems = [];
  for (const [label, doc] of docs) {
    const mine = ours[kind](doc).length === 0;
    const theirs = upstream[kind](doc);
    if (mine === theirs) continue;
    const key = `${kind}: ${label}`;
    const known = DELIBERATE.find((d) => d.match.test(key));
    if (!known) problems.push(`${key}: ours ${mine ? 'valid' : 'invalid'}, upstream ${theirs ? 'valid' : 'invalid'}`);
    else if (known.ours !== mine) problems.push(`${key}: expected ours ${known.ours ? 'valid' : 'invalid'} (${known.why})`);
    else hits.add(known);
  }
  return problems;
}

const mutatedFrom = (doc) => [['unchanged', doc], ...mutants(doc)];

const Cross = suite('schema: verdicts agree with the upstream schemas');

const BASES = {
  config: [
    ['FULL_CONFIG', FULL_CONFIG],
    ...callerConfigs(),
    ...Object.entries(RUNC_SPECS).filter(([, c]) => c),
  ],
  state: [['runc-style state', CASES.find((c) => c.name === 'runc-style state with extra fields').doc]],
  features: [['FULL_FEATURES', FULL_FEATURES]],
};
// The good upstream vectors are mutated too; every parseable vector is also
// checked as it is (bad ones stay bad under any mutation, so mutating them says
// nothing).
const VECTOR_DOCS = { config: [], state: [], features: [] };
for (const v of vectors()) {
  let doc;
  try {
    doc = readJSON(v.file);
  } catch {
    continue; // invalid-json.json: covered above
  }
  VECTOR_DOCS[v.kind].push([`vector ${v.name}`, doc]);
  if (v.verdict === 'good') BASES[v.kind].push([v.name, doc]);
}

for (const [kind, docs] of Object.entries(VECTOR_DOCS)) {
  Cross(`${kind} upstream vectors as they are`, () => {
    assert.equal(crossCheck(kind, docs), []);
  });
}
for (const [kind, bases] of Object.entries(BASES)) {
  for (const [name, doc] of bases) {
    Cross(`${kind} ${name} and its mutations`, () => {
      assert.equal(crossCheck(kind, mutatedFrom(doc)), []);
    });
  }
}

for (const c of CASES) {
  Cross(`case: ${c.name}`, () => {
    assert.is(ours[c.kind](c.doc).length === 0, c.ours, `our verdict on "${c.name}": ${ours[c.kind](c.doc).join('; ')}`);
    assert.is(upstream[c.kind](c.doc), c.upstream, `upstream verdict on "${c.name}"`);
    if (c.ours !== c.upstream) assert.ok(c.why, 'a difference from upstream needs a reason');
  });
}

Cross('every listed deliberate difference actually occurs', () => {
  const unused = DELIBERATE.filter((d) => !hits.has(d)).map((d) => String(d.match));
  assert.equal(unused, []);
});

Cross.run();

// ---------------------------------------------------------------------------
// Messages

const Messages = suite('schema: messages');
const base = () => ({ ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 } } });
const withChange = (change) => {
  const doc = base();
  change(doc);
  return validateConfigSchema(doc);
};

Messages('a valid config has no messages', () => {
  assert.equal(validateConfigSchema(base()), []);
});

Messages('wrong type names the field once', () => {
  // cwd is checked by the general rule and by the POSIX absolute-path rule: one message.
  assert.equal(withChange((d) => (d.process.cwd = 5)), ['process.cwd: must be string']);
});

Messages('array items are written with [index]', () => {
  assert.equal(
    withChange((d) => (d.mounts = [{ destination: '/proc' }, { destination: 7 }])),
    ['mounts[1].destination: must be string'],
  );
});

Messages('bad enum value lists the allowed values and the value given', () => {
  assert.equal(
    withChange((d) => (d.linux = { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'pidd' }] })),
    ['linux.namespaces[2].type: must be one of pid, network, mount, ipc, uts, user, cgroup, time (got "pidd")'],
  );
  // A non-string there gets the same single message, not an extra "must be string".
  assert.equal(
    withChange((d) => (d.linux = { namespaces: [{ type: 3 }] })),
    ['linux.namespaces[0].type: must be one of pid, network, mount, ipc, uts, user, cgroup, time (got 3)'],
  );
});

Messages('missing required fields name the parent and the field', () => {
  assert.equal(withChange((d) => delete d.process.cwd), ['process: missing required field "cwd"']);
  assert.equal(validateConfigSchema({ root: { path: 'rootfs' } }), ['(root): missing required field "ociVersion"']);
});

Messages('patterns are explained in words', () => {
  assert.equal(withChange((d) => (d.ociVersion = '1.0')), ['ociVersion: must be a SemVer 2.0.0 version like "1.0.2" (got "1.0")']);
  assert.equal(withChange((d) => (d.process.cwd = 'tmp')), ['process.cwd: must be an absolute path (got "tmp")']);
  assert.equal(
    withChange((d) => (d.process.rlimits = [{ type: 'NOFILE', soft: 1, hard: 1 }])),
    ['process.rlimits[0].type: must be a resource limit name like "RLIMIT_NOFILE" (got "NOFILE")'],
  );
});

Messages('range errors give the bound and the value', () => {
  assert.equal(withChange((d) => (d.process.user.uid = -1)), ['process.user.uid: must be >= 0 (got -1)']);
  assert.equal(withChange((d) => (d.process.user.gid = 1.5)), ['process.user.gid: must be integer']);
});

Messages('keys that are not identifiers are quoted', () => {
  assert.equal(
    withChange((d) => (d.linux = { sysctl: { 'net.ipv4.ip_forward': 1 } })),
    ['linux.sysctl["net.ipv4.ip_forward"]: must be string'],
  );
  assert.equal(withChange((d) => (d.annotations = { '': 'x' })), ['annotations: keys must not be empty']);
});

Messages('"at least one of" rules give one message', () => {
  assert.equal(
    withChange((d) => (d.linux = { resources: { blockIO: { weightDevice: [{ major: 8, minor: 0 }] } } })),
    ['linux.resources.blockIO.weightDevice[0]: must set at least one of "weight", "leafWeight"'],
  );
});

Messages('conditional rules report only the failing requirement', () => {
  assert.equal(
    withChange((d) => (d.linux = { devices: [{ type: 'c', path: '/dev/x', major: 1 }] })),
    ['linux.devices[0]: missing required field "minor"'],
  );
  assert.equal(
    withChange((d) => (d.linux = { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'm' } })),
    ['linux.seccomp: "listenerMetadata" requires "listenerPath" to be set as well'],
  );
});

Messages('messages follow the order of the document', () => {
  const doc = { ociVersion: 'x', process: { cwd: 1, args: [] }, mounts: [{}] };
  assert.equal(validateConfigSchema(doc), [
    '(root): missing required field "root"',
    'ociVersion: must be a SemVer 2.0.0 version like "1.0.2" (got "x")',
    'process.cwd: must be string',
    'process.args: must have at least 1 item',
    'mounts[0]: missing required field "destination"',
  ]);
});

Messages('non-object documents', () => {
  assert.equal(validateConfigSchema(null), ['(root): must be object']);
  assert.equal(validateStateSchema('running'), ['(root): must be object']);
  assert.equal(validateFeaturesSchema([]), ['(root): must be object']);
});

Messages('state and features messages', () => {
  assert.equal(
    validateStateSchema({ ociVersion: '1.0.2', id: 'c', status: 'running', bundle: 'b' }),
    ['(root): missing required field "pid"', 'bundle: must be an absolute path (got "b")'],
  );
  assert.equal(
    validateFeaturesSchema({ ociVersionMin: '1.0.0', ociVersionMax: '1.1.0', linux: { cgroup: { v2: 'yes' } } }),
    ['linux.cgroup.v2: must be boolean or null'],
  );
});

Messages.run();
