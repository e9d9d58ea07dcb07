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

/** Where this process's argv and environment strings lie (what /proc/PID/cmdline and environ read). */
export interface ArgEnvAreas {
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
}

/**
 * This process's argv and environment areas (fields 48-51 of
 * /proc/self/stat). A forked child has them at the same addresses: fork
 * copies the address space as it is.
 */
export function argEnvAreas(): ArgEnvAreas | undefined {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    // rest[0] is field 3: field N is rest[N - 3]
    const rest = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ').map(Number);
    const [argStart, argEnd, envStart, envEnd] = rest.slice(45, 49);
    if (![argStart, argEnd, envStart, envEnd].every((n) => Number.isSafeInteger(n) && n > 0) || argEnd < argStart || envEnd < envStart) return undefined;
    return { argStart, argEnd, envStart, envEnd };
  } catch {
    return undefined;
  }
}

/** A file this process has mapped or runs, as "major:minor:inode" and by path. */
export interface MappedFiles {
  ids: string[];
  paths: string[];
}

/**
 * The files this process runs and maps (its executable, shared libraries,
 * native addons): /proc/self/exe and every file-backed line of
 * /proc/self/maps, whose "major:minor inode" is the file /proc/self/map_files
 * leads to. A forked child has the same.
 */
export function mappedFiles(): MappedFiles {
  const ids = new Set<string>();
  const paths = new Set<string>();
  try {
    const st = fs.statSync('/proc/self/exe', { bigint: true });
    ids.add(`${Number(st.dev >> 8n) & 0xfff}:${Number(st.dev & 0xffn) | (Number(st.dev >> 12n) & 0xfff00)}:${st.ino}`);
    paths.add(fs.readlinkSync('/proc/self/exe'));
  } catch {
    /* no /proc: nothing to compare with, and nothing to reach either */
  }
  try {
    for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const m = /^\S+ \S+ \S+ ([0-9a-f]+):([0-9a-f]+) (\d+)\s+(\/.*)$/.exec(line);
      if (!m || m[3] === '0') continue;
      ids.add(`${parseInt(m[1], 16)}:${parseInt(m[2], 16)}:${m[3]}`);
      paths.add(m[4].replace(/ \(deleted\)$/, ''));
    }
  } catch {
    /* as above */
  }
  return { ids: [...ids], paths: [...paths] };
}
