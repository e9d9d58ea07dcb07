import * as fs from 'fs';

/**
 * Start time of a process in clock ticks since boot (field 22 of
 * /proc/PID/stat), or undefined when the process is gone. Compared with the
 * value saved at create time, it tells a live init from a reused PID.
 */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19]
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined; // zombie: already dead
  return rest[19];
}

const PF_EXITING = 0x4;

/**
 * Whether the process has begun to exit (PF_EXITING in field 9 of
 * /proc/PID/stat) or is gone. An exiting process leaves its cgroup before it
 * becomes a zombie, and a pid namespace's init stays in between until every
 * other process of the namespace has exited: for that while it is neither
 * dead nor in its cgroup.
 */
export function processExiting(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return true;
  // rest[6] is field 9, the kernel's PF_* flags
  return (Number(rest[6]) & PF_EXITING) !== 0;
}
