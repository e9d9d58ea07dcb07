// Which LSMs this host runs: requesting a label of one it lacks is an error
// (bundle/semantic.ts), and `features` says which it has.
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
