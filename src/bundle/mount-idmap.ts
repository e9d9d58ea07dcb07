// Idmapped mounts (config.md, mounts: the idmap and ridmap options and a
// mount's uidMappings / gidMappings): which mounts have one, with which
// mapping, and what is wrong with a mount's request. Done as runc 1.2 does:
// bind mounts only, mappings without an option mean "idmap", and an option
// without mappings takes the container's user namespace's.
import { type Spec, type Mount, type IdMapping } from './spec-types';
import { parseMountOptions } from './mount-options';

export interface MountIdmap {
  /** ridmap: every mount of an rbind tree is mapped, not only its top one. */
  recursive: boolean;
  /** The mount's own mapping; undefined: the container's user namespace is the mapping. */
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

/** uid_map / gid_map text of a mapping: "containerID hostID size" per line. */
export function idMapText(maps: IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function sameMappings(a: IdMapping[] | undefined, b: IdMapping[] | undefined): boolean {
  return idMapText(a ?? []) === idMapText(b ?? []);
}

/**
 * The id mapping mounts[i] asks for, or undefined for a mount without one.
 * A mount whose mapping is the one of the container's new user namespace
 * uses that namespace (as crun) rather than a new one with the same maps.
 */
export function mountIdmap(spec: Spec, m: Mount): MountIdmap | undefined {
  const option = parseMountOptions(m.options, m.type).idmap;
  if (!option && m.uidMappings === undefined && m.gidMappings === undefined) return undefined;
  const recursive = option === 'ridmap';
  const linux = spec.linux ?? {};
  const newUserNs = (linux.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
  const own = m.uidMappings !== undefined || m.gidMappings !== undefined;
  if (!own || (newUserNs && sameMappings(m.uidMappings, linux.uidMappings) && sameMappings(m.gidMappings, linux.gidMappings))) return { recursive };
  return { recursive, uidMappings: m.uidMappings, gidMappings: m.gidMappings };
}

/**
 * Problems with mounts[i]'s id mapping, each naming the field. `checkRanges`
 * checks one mapping's ranges (the rules of linux.uidMappings). One of
 * uidMappings and gidMappings without the other is the schema's to refuse.
 */
export function mountIdmapProblems(spec: Spec, i: number, checkRanges: (field: string, maps: IdMapping[]) => string[]): string[] {
  const m = (spec.mounts ?? [])[i];
  const parsed = parseMountOptions(m.options, m.type);
  const hasUid = m.uidMappings !== undefined;
  const hasGid = m.gidMappings !== undefined;
  if (!parsed.idmap && !hasUid && !hasGid) return [];
  const field = `mounts[${i}]`;
  // the field the request came from: the option, or the mappings given without one
  const asked = parsed.idmap ? `${field}.options: "${parsed.idmap}"` : `${field}.uidMappings`;
  const problems: string[] = [];
  if (!parsed.bind) problems.push(`${asked}: idmapped mounts are only supported for bind mounts (type "${m.type ?? ''}" without "bind" or "rbind")`);
  if (process.geteuid?.() !== 0) problems.push(`${asked}: idmapped mounts need a runtime running as root (MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the source's filesystem)`);
  for (const [name, maps] of [['uidMappings', m.uidMappings], ['gidMappings', m.gidMappings]] as const) {
    if (maps === undefined) continue;
    if (maps.length === 0) problems.push(`${field}.${name}: must list at least one mapping`);
    problems.push(...checkRanges(`${field}.${name}`, maps));
  }
  if (!hasUid && !hasGid && !(spec.linux?.namespaces ?? []).some((n) => n.type === 'user')) {
    problems.push(`${asked}: no uidMappings and gidMappings on the mount, and no user namespace in linux.namespaces to take the mapping from`);
  }
  return problems;
}
