// AppArmor and SELinux labels, applied to the next exec through
// /proc/self/attr (whether the host has the LSM: src/linux/lsm.ts).
import { writeProcFile } from '../../linux/procfs';

/** Writes the label for the next exec into this process's attr file, beneath a verified procfs. */
function writeAttr(field: string, procFd: number | undefined, files: string[], value: string): void {
  try {
    if (procFd === undefined) throw new Error('the container has no procfs at /proc');
    let lastError: unknown;
    for (const file of files) {
      try {
        writeProcFile(procFd, file, value);
        return;
      } catch (e) {
        lastError = e;
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') break;
      }
    }
    throw lastError;
  } catch (e) {
    throw new Error(`${field}: ${(e as Error).message}`, { cause: e });
  }
}

export function applyApparmor(profile: string, procFd: number | undefined): void {
  writeAttr(`process.apparmorProfile: cannot apply profile "${profile}"`, procFd, ['self/attr/apparmor/exec', 'self/attr/exec'], `exec ${profile}`);
}

export function applySelinuxLabel(label: string, procFd: number | undefined): void {
  writeAttr(`process.selinuxLabel: cannot apply label "${label}"`, procFd, ['self/attr/exec'], label);
}
