// Checks the JSON Schema cannot express: relations between fields and facts
// about this host. Each problem is a message that names the field.
import * as fs from 'fs';
import * as path from 'path';
import { Spec } from './spec-types';
import { parseMountOptions, checkMountData } from './mount-options';
import { capNumber } from '../linux/capabilities';

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
  if (!p) {
    problems.push('process: is required to create a container');
  } else {
    if (!path.isAbsolute(p.cwd)) problems.push(`process.cwd: must be an absolute path (got "${p.cwd}")`);
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
    for (const [set, names] of Object.entries(p.capabilities ?? {})) {
      (names as string[]).forEach((name, i) => {
        if (capNumber(name) === undefined) problems.push(`process.capabilities.${set}[${i}]: unknown capability "${name}"`);
      });
    }
    (p.env ?? []).forEach((e, i) => {
      if (!e.includes('=')) problems.push(`process.env[${i}]: "${e}" is not of the form NAME=value`);
    });
  }

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
    }
  });
  if (!types.has('mount')) problems.push('linux.namespaces: a mount namespace is required');
  if (spec.hostname && !types.has('uts')) problems.push('hostname: cannot set a hostname without a UTS namespace (linux.namespaces has no "uts")');
  if (spec.domainname && !types.has('uts')) problems.push('domainname: cannot set a domainname without a UTS namespace (linux.namespaces has no "uts")');

  const userNs = namespaces.find((n) => n.type === 'user');
  const hasMaps = (spec.linux?.uidMappings?.length ?? 0) > 0 || (spec.linux?.gidMappings?.length ?? 0) > 0;
  if (userNs && !userNs.path && !hasMaps) problems.push('linux.uidMappings: a new user namespace needs uidMappings and gidMappings');
  if (hasMaps && !userNs) problems.push('linux.uidMappings: mappings are given but linux.namespaces has no "user"');

  const prop = spec.linux?.rootfsPropagation;
  if (prop !== undefined && !PROPAGATIONS.has(prop)) problems.push(`linux.rootfsPropagation: unknown propagation "${prop}"`);

  (spec.mounts ?? []).forEach((m, i) => {
    const parsed = parseMountOptions(m.options, m.type);
    for (const msg of checkMountData(m.type ?? '', parsed)) problems.push(`mounts[${i}].options: ${msg}`);
    if (!m.type && !parsed.bind) problems.push(`mounts[${i}].type: is required unless options contain "bind" or "rbind"`);
    if (parsed.idmap) problems.push(`mounts[${i}].options: idmapped mounts are not supported yet`);
  });

  (spec.linux?.devices ?? []).forEach((d, i) => {
    if (!path.isAbsolute(d.path)) problems.push(`linux.devices[${i}].path: must be an absolute path (got "${d.path}")`);
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) {
      problems.push(`linux.devices[${i}]: major and minor are required for type "${d.type}"`);
    }
  });
  return problems;
}
