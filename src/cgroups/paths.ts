// Where cgroup hierarchies are mounted and which cgroup a process is in.
import * as fs from 'fs';
import * as path from 'path';

export interface Hierarchy {
  /** "cpu", "cpu,cpuacct", "name=systemd"; "" for the v2 hierarchy. */
  name: string;
  mountpoint: string;
  /** The cgroup mounted there (mountinfo's root field): "/" unless a sub-cgroup is mounted (nested setups). */
  root?: string;
}

export function isUnifiedHost(): boolean {
  try {
    return fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
  } catch {
    return false;
  }
}

/** cgroup v1 hierarchies mounted on this host (from /proc/self/mountinfo). */
export function v1Hierarchies(): Hierarchy[] {
  const out: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOpts] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const fields = line.slice(0, sep).split(' ');
    const mountpoint = fields[4].replace(/\\040/g, ' ');
    const root = fields[3].replace(/\\040/g, ' ');
    // On a hybrid host the v2 hierarchy (usually /sys/fs/cgroup/unified) is joined too, as runc does: name "".
    const name = fstype === 'cgroup2' ? '' : superOpts.split(',').filter((o) => !['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'xattr', 'nsdelegate'].includes(o) && !o.startsWith('release_agent=')).join(',');
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, mountpoint, root });
  }
  return out;
}

/** The caller's own cgroup path per hierarchy name (from /proc/self/cgroup). */
export function ownCgroups(): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) own.set(m[1], m[2]);
  }
  return own;
}

/**
 * The container's cgroup path inside one hierarchy, as runc's cgroupfs
 * driver computes it: absolute cgroupsPath as given; relative or empty
 * (then the container id) below the runtime's own cgroup.
 */
export function innerPath(cgroupsPath: string | undefined, id: string, own: string | undefined): string {
  const p = cleanPath(cgroupsPath && cgroupsPath.length ? cgroupsPath : id);
  if (p.startsWith('/')) return p;
  return cleanPath(path.posix.join(own ?? '/', p));
}

/**
 * A cgroup path made safe the way runc's CleanPath does it: normalized, no
 * trailing slash, and a relative path cannot climb above where it starts
 * ("../../x" is "x").
 */
export function cleanPath(p: string): string {
  if (p.startsWith('/')) return stripSlash(path.posix.normalize(p));
  const rel = path.posix.normalize('/' + p).slice(1);
  return stripSlash(rel) || '.';
}

function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** `own` (from /proc/self/cgroup) relative to the cgroup a hierarchy is mounted from. */
export function relativeToRoot(own: string | undefined, root: string | undefined): string | undefined {
  if (own === undefined || !root || root === '/') return own;
  if (own === root) return '/';
  if (own.startsWith(root + '/')) return own.slice(root.length);
  return own;
}
