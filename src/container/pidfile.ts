import { writeFileAtomic } from '../state/atomic-file';

/**
 * Writes the PID as bare digits (no newline: containerd parses it with Atoi),
 * atomically, never through a name another user planted (the pid file's
 * directory may be theirs, or /tmp). Mode 0644, as runc's.
 */
export function writePidFile(file: string, pid: number): void {
  writeFileAtomic(file, String(pid), 0o644);
}
