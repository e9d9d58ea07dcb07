// Checks the JSON Schema cannot express: relations between fields and facts
// about this host. Each problem is a message that names the field.
import * as fs from 'fs';
import * as path from 'path';
import { type Spec, type Process, type IdMapping, type Namespace, type NetDevice, type MemoryPolicy } from './spec-types';
import { parseMountOptions, checkMountData } from './mount-options';
import { mountIdmapProblems } from './mount-idmap';
import { capNumber, currentBoundingSet, kernelLastCap } from '../linux/capabilities';
import { sysctlNamespace } from './sysctl';
import { SCHED_POLICIES, SCHED_FLAGS, IOPRIO_CLASSES, PERSONALITY_DOMAINS, parseCpuList } from '../linux/sched';
import { apparmorEnabled, selinuxEnabled } from '../linux/lsm';
import * as os from 'os';
import { namespaceTypeAt } from '../linux/namespaces';
import { deviceNameProblem } from '../linux/netlink';
import { MPOL_MODES, MPOL_FLAGS, parseNodeList } from '../linux/mempolicy';

/** No mount namespace is listed: the container runs in the runtime's (runtime-spec: an unlisted type is inherited). */
export function inRuntimeMountNs(spec: Spec): boolean {
  return !(spec.linux?.namespaces ?? []).some((n) => n.type === 'mount');
}

/**
 * A namespace to join must be of the type it is listed as: setns(2) would
 * only say EINVAL (runc 1.1.5: "failed to setns into net namespace: Invalid
 * argument"). A file that cannot be opened here is left to setns.
 */
function namespacePathProblems(field: string, p: string, type: string): string[] {
  const actual = namespaceTypeAt(p);
  if (actual === null) return [`${field}: ${p} is not a namespace file (a "${type}" namespace was asked for)`];
  if (actual !== undefined && actual !== type) return [`${field}: ${p} is a namespace of type "${actual}", not "${type}"`];
  return [];
}

const RLIMITS = new Set([
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS',
  'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
]);

const PROPAGATIONS = new Set(['', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']);

/** Problems with a schema-valid config; `rootfs` is root.path made absolute. */
export function semanticProblems(spec: Spec, rootfs: string): string[] {
  const problems: string[] = [];
  const p = spec.process;
  if (!p) problems.push('process: is required to create a container');
  else problems.push(...processProblems(p));

  if (!spec.root) {
    problems.push('root: is required');
  } else {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(rootfs);
    } catch {
      problems.push(`root.path: ${rootfs} does not exist`);
    }
    if (st && !st.isDirectory()) problems.push(`root.path: ${rootfs} is not a directory`);
  }

  const namespaces = spec.linux?.namespaces ?? [];
  const types = new Set<string>();
  namespaces.forEach((ns, i) => {
    if (types.has(ns.type)) problems.push(`linux.namespaces[${i}]: namespace type "${ns.type}" is listed twice`);
    types.add(ns.type);
    if (ns.path !== undefined) {
      if (!path.isAbsolute(ns.path)) problems.push(`linux.namespaces[${i}].path: must be an absolute path (got "${ns.path}")`);
      else if (!fs.existsSync(ns.path)) problems.push(`linux.namespaces[${i}].path: ${ns.path} does not exist`);
      else problems.push(...namespacePathProblems(`linux.namespaces[${i}].path`, ns.path, ns.type));
    }
  });
  if (!types.has('mount')) {
    // The container then runs in the runtime's mount namespace (runtime-spec: an unlisted
    // type is inherited), chrooted into a private bind of the rootfs that holds its mounts.
    // runc 1.1.5 refuses masked and read-only paths without one, in these words.
    if (spec.linux?.maskedPaths?.length || spec.linux?.readonlyPaths?.length) {
      problems.push('linux.namespaces: unable to restrict sys entries without a private MNT namespace (no "mount" namespace, and linux.maskedPaths or linux.readonlyPaths are set)');
    }
    // a user namespace cannot mount in the runtime's mount namespace, which it does not own
    if (types.has('user')) problems.push('linux.namespaces: a user namespace needs a mount namespace of its own to mount the rootfs (no "mount" namespace is listed)');
  }
  if (spec.hostname && !types.has('uts')) problems.push('hostname: cannot set a hostname without a UTS namespace (linux.namespaces has no "uts")');
  if (spec.domainname && !types.has('uts')) problems.push('domainname: cannot set a domainname without a UTS namespace (linux.namespaces has no "uts")');

  const userNs = namespaces.find((n) => n.type === 'user');
  const hasMaps = (spec.linux?.uidMappings?.length ?? 0) > 0 || (spec.linux?.gidMappings?.length ?? 0) > 0;
  if (userNs && !userNs.path && !hasMaps) problems.push('linux.uidMappings: a new user namespace needs uidMappings and gidMappings');
  if (hasMaps && !userNs) problems.push('linux.uidMappings: mappings are given but linux.namespaces has no "user"');
  problems.push(...mappingProblems('linux.uidMappings', spec.linux?.uidMappings), ...mappingProblems('linux.gidMappings', spec.linux?.gidMappings));

  checkLinuxExtras(spec, types, problems);

  const prop = spec.linux?.rootfsPropagation;
  if (prop !== undefined && !PROPAGATIONS.has(prop)) problems.push(`linux.rootfsPropagation: unknown propagation "${prop}"`);

  (spec.mounts ?? []).forEach((m, i) => {
    const parsed = parseMountOptions(m.options, m.type);
    for (const msg of checkMountData(m.type ?? '', parsed)) problems.push(`mounts[${i}].options: ${msg}`);
    if (!m.type && !parsed.bind) problems.push(`mounts[${i}].type: is required unless options contain "bind" or "rbind"`);
    problems.push(...mountIdmapProblems(spec, i, mappingProblems));
    if (parsed.tmpcopyup && m.type !== 'tmpfs') problems.push(`mounts[${i}].options: tmpcopyup is only for tmpfs mounts`);
  });

  // runc 1.1.5 (specconv.CreateCgroupConfig) refuses an empty access with
  // this message (a missing one too: Go reads it as empty); other access
  // strings are checked with the resources (cgroups/resources.ts).
  const deviceRules = spec.linux?.resources?.devices;
  (Array.isArray(deviceRules) ? (deviceRules as { access?: string }[]) : []).forEach((d, i) => {
    if (!d.access) problems.push(`linux.resources.devices[${i}].access: device access at ${i} field cannot be empty`);
  });

  (spec.linux?.devices ?? []).forEach((d, i) => {
    if (!path.isAbsolute(d.path)) problems.push(`linux.devices[${i}].path: must be an absolute path (got "${d.path}")`);
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) {
      problems.push(`linux.devices[${i}]: major and minor are required for type "${d.type}"`);
    }
  });
  return problems;
}

function checkCpuList(field: string, list: string | undefined, problems: string[]): void {
  if (list === undefined) return;
  const cpus = parseCpuList(list);
  if (!cpus) problems.push(`${field}: "${list}" is not a CPU list like "0-3,7"`);
  else {
    const bad = cpus.filter((c) => c >= os.cpus().length);
    if (bad.length) problems.push(`${field}: CPU ${bad[0]} does not exist on this host (it has ${os.cpus().length})`);
  }
}

/** scheduler, ioPriority, execCPUAffinity, AppArmor and SELinux labels. */
function checkProcessExtras(p: Process, problems: string[]): void {
  if (p.scheduler) {
    if (SCHED_POLICIES[p.scheduler.policy] === undefined) problems.push(`process.scheduler.policy: unknown policy "${p.scheduler.policy}"`);
    (p.scheduler.flags ?? []).forEach((f, i) => {
      if (SCHED_FLAGS[f] === undefined) problems.push(`process.scheduler.flags[${i}]: unknown flag "${f}"`);
    });
  }
  if (p.ioPriority) {
    if (IOPRIO_CLASSES[p.ioPriority.class] === undefined) problems.push(`process.ioPriority.class: unknown class "${p.ioPriority.class}"`);
    if (!(p.ioPriority.priority >= 0 && p.ioPriority.priority <= 7)) problems.push(`process.ioPriority.priority: must be 0 to 7 (got ${p.ioPriority.priority})`);
  }
  checkCpuList('process.execCPUAffinity.initial', p.execCPUAffinity?.initial, problems);
  checkCpuList('process.execCPUAffinity.final', p.execCPUAffinity?.final, problems);
  if (p.apparmorProfile && !apparmorEnabled()) problems.push(`process.apparmorProfile: AppArmor is not enabled on this host (profile "${p.apparmorProfile}")`);
  if (p.selinuxLabel && !selinuxEnabled()) problems.push(`process.selinuxLabel: SELinux is not enabled on this host (label "${p.selinuxLabel}")`);
}

/** sysctl, personality, time offsets, and the linux fields tsrunc cannot apply here. */
function checkLinuxExtras(spec: Spec, namespaces: Set<string>, problems: string[]): void {
  const linux = spec.linux ?? {};
  const newNs = new Set((linux.namespaces ?? []).filter((n) => !n.path).map((n) => n.type));
  for (const key of Object.keys(linux.sysctl ?? {})) {
    const ns = sysctlNamespace(key);
    if (!ns) problems.push(`linux.sysctl: "${key}" is not namespaced: setting it would change the host`);
    else if (!namespaces.has(ns)) problems.push(`linux.sysctl: "${key}" needs a "${ns}" namespace (linux.namespaces has none)`);
  }
  if (linux.personality) {
    if (PERSONALITY_DOMAINS[linux.personality.domain] === undefined) problems.push(`linux.personality.domain: unknown domain "${linux.personality.domain}"`);
    (linux.personality.flags ?? []).forEach((f, i) => problems.push(`linux.personality.flags[${i}]: "${f}" is not supported (no personality flags are)`));
  }
  if (linux.timeOffsets) {
    if (!newNs.has('time')) problems.push('linux.timeOffsets: needs a new "time" namespace in linux.namespaces');
    for (const clock of Object.keys(linux.timeOffsets)) {
      if (clock !== 'monotonic' && clock !== 'boottime') problems.push(`linux.timeOffsets: unknown clock "${clock}" (monotonic or boottime)`);
    }
  }
  if (linux.intelRdt) {
    problems.push(fs.existsSync('/sys/fs/resctrl/schemata')
      ? 'linux.intelRdt: Intel RDT is not supported by tsrunc yet'
      : 'linux.intelRdt: Intel RDT is not available: no resctrl filesystem is mounted on this host');
  }
  // Without SELinux a mount label has nothing to label: ignored, as crun does (runc 1.1.5
  // passes context= to the kernel anyway and fails on EINVAL mounting /dev).
  if (linux.mountLabel && selinuxEnabled()) problems.push('linux.mountLabel: SELinux mount labels are not supported by tsrunc yet');
  // an empty set moves nothing and needs nothing (as runc)
  if (linux.netDevices && Object.keys(linux.netDevices).length) checkNetDevices(linux.netDevices, linux.namespaces ?? [], problems);
  if (linux.memoryPolicy) checkMemoryPolicy(linux.memoryPolicy, problems);
}

/**
 * linux.netDevices: a network namespace to move them into, device names the
 * kernel takes, no two devices to one name. Whether each exists and its name
 * is free in the container is checked once the namespace exists (container/netdevices.ts).
 */
function checkNetDevices(devices: Record<string, NetDevice>, namespaces: Namespace[], problems: string[]): void {
  const netns = namespaces.find((n) => n.type === 'network');
  if (!netns) problems.push('linux.netDevices: unable to move network devices without a NET namespace (linux.namespaces has no "network")');
  else if (netns.path && sameFile(netns.path, '/proc/self/ns/net')) {
    problems.push(`linux.netDevices: the "network" namespace ${netns.path} is the runtime's own: the devices cannot move into it`);
  }
  if (process.geteuid?.() !== 0) problems.push('linux.netDevices: network devices are not supported for rootless containers');
  const names = new Map<string, string>();
  for (const [hostName, d] of Object.entries(devices)) {
    const field = `linux.netDevices[${JSON.stringify(hostName)}]`;
    const bad = deviceNameProblem(hostName, false);
    if (bad) problems.push(`${field}: invalid network device name ${JSON.stringify(hostName)}: ${bad}`);
    if (d.name) {
      const badName = deviceNameProblem(d.name, true);
      if (badName) problems.push(`${field}.name: invalid network device name ${JSON.stringify(d.name)}: ${badName}`);
    }
    const name = d.name || hostName;
    if (name.includes('%')) continue; // a template: the kernel picks a free name
    const other = names.get(name);
    if (other !== undefined) problems.push(`${field}: "${other}" is moved in as "${name}" too: two devices cannot have one name`);
    else names.set(name, hostName);
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [fs.statSync(a), fs.statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

const ANY_NODE_FLAGS = ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'];

/** linux.memoryPolicy: what set_mempolicy(2) would refuse, said by field before anything exists. */
function checkMemoryPolicy(mp: MemoryPolicy, problems: string[]): void {
  const field = 'linux.memoryPolicy';
  if (typeof mp.mode !== 'string') return void problems.push(`${field}.mode: is required`);
  if (MPOL_MODES[mp.mode] === undefined) problems.push(`${field}.mode: unknown mode "${mp.mode}"`);
  const flags = mp.flags ?? [];
  flags.forEach((f, i) => {
    if (MPOL_FLAGS[f] === undefined) problems.push(`${field}.flags[${i}]: unknown flag "${f}"`);
  });
  const nodes = parseNodeList(mp.nodes);
  if (typeof nodes === 'string') return void problems.push(`${field}.nodes: ${nodes}`);
  const anyNode = ANY_NODE_FLAGS.filter((f) => flags.includes(f));
  if (anyNode.length === 2) problems.push(`${field}.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other`);
  if (flags.includes('MPOL_F_NUMA_BALANCING') && mp.mode !== 'MPOL_BIND' && mp.mode !== 'MPOL_PREFERRED_MANY') {
    problems.push(`${field}.flags: MPOL_F_NUMA_BALANCING is only for MPOL_BIND and MPOL_PREFERRED_MANY (the mode is ${mp.mode})`);
  }
  switch (mp.mode) {
    case 'MPOL_DEFAULT':
    case 'MPOL_LOCAL':
      if (nodes.length) problems.push(`${field}.nodes: ${mp.mode} takes no nodes (got "${mp.nodes}")`);
      if (mp.mode === 'MPOL_LOCAL' && anyNode.length) problems.push(`${field}.flags: MPOL_LOCAL takes no ${anyNode.join(' or ')}`);
      return;
    case 'MPOL_PREFERRED':
      if (!nodes.length && anyNode.length) problems.push(`${field}.nodes: MPOL_PREFERRED with ${anyNode.join(' or ')} needs at least one node`);
      break;
    default:
      if (!nodes.length) problems.push(`${field}.nodes: ${mp.mode} needs at least one node`);
  }
  // Without those flags the kernel keeps only the nodes that have memory, and refuses none at all.
  const withMemory = nodes.length && !anyNode.length ? nodesWithMemory() : undefined;
  if (withMemory && !nodes.some((n) => withMemory.includes(n))) {
    problems.push(`${field}.nodes: none of nodes "${mp.nodes}" has memory on this host (nodes with memory: ${withMemory.join(',')})`);
  }
}

/** The NUMA nodes with memory, or undefined when the host does not say. */
function nodesWithMemory(): number[] | undefined {
  try {
    const nodes = parseNodeList(fs.readFileSync('/sys/devices/system/node/has_memory', 'utf8').trim());
    return typeof nodes === 'string' ? undefined : nodes;
  } catch {
    return undefined;
  }
}

/** Problems with a process object (config.json's, or exec's --process). */
export function processProblems(p: Process): string[] {
  const problems: string[] = [];
  if (typeof p.cwd !== 'string' || !path.isAbsolute(p.cwd)) problems.push(`process.cwd: must be an absolute path (got ${JSON.stringify(p.cwd)})`);
  if (!p.user || typeof p.user.uid !== 'number' || typeof p.user.gid !== 'number') problems.push('process.user: uid and gid are required');
  if (!p.args || p.args.length === 0) problems.push('process.args: must name the program to run');
  (p.rlimits ?? []).forEach((r, i) => {
    if (!RLIMITS.has(r.type)) problems.push(`process.rlimits[${i}].type: unknown resource limit "${r.type}"`);
    if (r.soft > r.hard) problems.push(`process.rlimits[${i}]: soft limit ${r.soft} is above hard limit ${r.hard}`);
  });
  const seen = new Set<string>();
  (p.rlimits ?? []).forEach((r, i) => {
    if (seen.has(r.type)) problems.push(`process.rlimits[${i}].type: "${r.type}" is listed twice`);
    seen.add(r.type);
  });
  const hostCaps = p.capabilities ? currentBoundingSet() : 0n;
  for (const [set, names] of Object.entries(p.capabilities ?? {})) {
    (names as string[]).forEach((name, i) => {
      const n = capNumber(name);
      const field = `process.capabilities.${set}[${i}]`;
      if (n === undefined) problems.push(`${field}: unknown capability "${name}"`);
      else if (n > kernelLastCap()) problems.push(`${field}: ${name} is not known to this kernel`);
      else if (!(hostCaps & (1n << BigInt(n)))) problems.push(`${field}: ${name} is not in this host's capability bounding set`);
    });
  }
  const permitted = new Set(p.capabilities?.permitted ?? []);
  (p.capabilities?.effective ?? []).forEach((name, i) => {
    if (capNumber(name) !== undefined && !permitted.has(name)) problems.push(`process.capabilities.effective[${i}]: ${name} is not in process.capabilities.permitted`);
  });
  checkProcessExtras(p, problems);
  (p.env ?? []).forEach((e, i) => {
    if (!e.includes('=')) problems.push(`process.env[${i}]: "${e}" is not of the form NAME=value`);
  });

  return problems;
}

// uid_map and gid_map take at most this many lines (user_namespaces(7), since Linux 4.15)
const MAX_ID_RANGES = 340;

/** Id ranges the kernel would refuse in uid_map/gid_map: empty, too many, or overlapping on either side. */
function mappingProblems(field: string, maps: IdMapping[] | undefined): string[] {
  const problems: string[] = [];
  if ((maps ?? []).length > MAX_ID_RANGES) problems.push(`${field}: ${maps?.length} ranges, the kernel takes at most ${MAX_ID_RANGES}`);
  (maps ?? []).forEach((m, i) => {
    if (!(m.size > 0)) problems.push(`${field}[${i}].size: must be at least 1 (got ${m.size})`);
  });
  const overlaps = (a: number, n: number, b: number, k: number) => a < b + k && b < a + n;
  (maps ?? []).forEach((m, i) => {
    (maps ?? []).slice(0, i).forEach((o, j) => {
      if (overlaps(m.containerID, m.size, o.containerID, o.size)) problems.push(`${field}[${i}]: container ids overlap with ${field}[${j}]`);
      else if (overlaps(m.hostID, m.size, o.hostID, o.size)) problems.push(`${field}[${i}]: host ids overlap with ${field}[${j}]`);
    });
  });
  return problems;
}
