// linux.sysctl: only keys that belong to a namespace the container has of its
// own; anything else would change the host.
import * as fs from 'fs';

/** The namespace a sysctl key belongs to, or undefined when it is not namespaced. */
export function sysctlNamespace(key: string): 'ipc' | 'uts' | 'network' | undefined {
  if (/^kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)$/.test(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  if (key.startsWith('net.')) return 'network';
  return undefined;
}

/** Writes each key under /proc/sys (the container's /proc, after pivot_root). */
export function applySysctl(sysctl: Record<string, string>): void {
  for (const [key, value] of Object.entries(sysctl)) {
    const file = '/proc/sys/' + key.replace(/\./g, '/');
    try {
      fs.writeFileSync(file, value);
    } catch (e) {
      throw new Error(`linux.sysctl: cannot set ${key} to "${value}": ${(e as Error).message}`);
    }
  }
}
