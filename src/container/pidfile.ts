import * as fs from 'fs';
import * as path from 'path';

/** Writes the PID as bare digits (no newline: containerd parses it with Atoi), atomically. */
export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}`);
  fs.writeFileSync(tmp, String(pid));
  fs.renameSync(tmp, abs);
}
