// linux.sysctl written into the container's verified /proc (which keys may be
// set at all: src/bundle/sysctl.ts).
import { writeProcFile } from '../../linux/procfs';

/** Writes each key under sys/ of a verified procfs fd (the container's /proc). */
export function applySysctl(procFd: number, sysctl: Record<string, string>): void {
  for (const [key, value] of Object.entries(sysctl)) {
    try {
      // a key names one file below /proc/sys: no empty, "." or ".." component (a "/" in a key may make those)
      const rel = key.replace(/\./g, '/');
      if (rel.split('/').some((c) => c === '' || c === '.' || c === '..')) throw new Error('not a sysctl name');
      writeProcFile(procFd, `sys/${rel}`, value);
    } catch (e) {
      throw new Error(`linux.sysctl: cannot set ${key} to "${value}": ${(e as Error).message}`, { cause: e });
    }
  }
}
