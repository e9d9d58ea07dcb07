// linux.sysctl: only keys that belong to a namespace the container has of its
// own; anything else would change the host.
import { writeProcFile } from '../../linux/procfs';

/** The namespace a sysctl key belongs to, or undefined when it is not namespaced. */
export function sysctlNamespace(key: string): 'ipc' | 'uts' | 'network' | undefined {
  if (/^kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)$/.test(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  if (key.startsWith('net.')) return 'network';
  return undefined;
}

/** Writes each key under sys/ of a verified procfs fd (the container's /proc). */
export function applySysctl(procFd: number, sysctl: Record<string, string>): void {
  for (const [key, value] of Object.entries(sysctl)) {
    try {
      // a key names one file below /proc/sys: no empty, "." or ".." component (a "/" in a key may make those)
      const rel = key.replace(/\./g, '/');
      if (rel.split('/').some((c) => c === '' || c === '.' || c === '..')) throw new Error('not a sysctl name');
      writeProcFile(procFd, `sys/${rel}`, value);
    } catch (e) {
      throw new Error(`linux.sysctl: cannot set ${key} to "${value}": ${(e as Error).message}`);
    }
  }
}
