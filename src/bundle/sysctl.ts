// linux.sysctl: only keys that belong to a namespace the container has of its
// own; anything else would change the host.

/** The namespace a sysctl key belongs to, or undefined when it is not namespaced. */
export function sysctlNamespace(key: string): 'ipc' | 'uts' | 'network' | undefined {
  if (/^kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)$/.test(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  if (key.startsWith('net.')) return 'network';
  return undefined;
}
