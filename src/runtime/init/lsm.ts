// AppArmor and SELinux: the labels are applied to the next exec through
// /proc/self/attr; requesting one on a host without that LSM is an error.
import * as fs from 'fs';

export function apparmorEnabled(): boolean {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

export function selinuxEnabled(): boolean {
  return fs.existsSync('/sys/fs/selinux/enforce');
}

export function applyApparmor(profile: string): void {
  const file = fs.existsSync('/proc/self/attr/apparmor/exec') ? '/proc/self/attr/apparmor/exec' : '/proc/self/attr/exec';
  try {
    fs.writeFileSync(file, `exec ${profile}`);
  } catch (e) {
    throw new Error(`process.apparmorProfile: cannot apply profile "${profile}": ${(e as Error).message}`);
  }
}

export function applySelinuxLabel(label: string): void {
  try {
    fs.writeFileSync('/proc/self/attr/exec', label);
  } catch (e) {
    throw new Error(`process.selinuxLabel: cannot apply label "${label}": ${(e as Error).message}`);
  }
}
