// What CRIU's own log (dump.log, restore.log) says went wrong: its "Error"
// lines, for the message of a failed checkpoint or restore and, with a few
// lines before each, for the warnings runc prints (logCriuErrors).
import * as fs from 'fs';
import * as path from 'path';

const BEFORE = 5;
// CRIU's log is read only to quote it: a huge one is read from its end
const MAX_READ = 4 * 1024 * 1024;

function readTail(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, MAX_READ);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export interface CriuLogErrors {
  file: string;
  /** The first error, without its timestamp and source location ("vdso: Unexpected rt vDSO area bounds"). */
  first?: string;
  /** Each error line with the lines before it, numbered ("12:(00.01) Error ..."), "..." between distant groups. */
  quoted: string[];
  /** CRIU's detection of the kernel's features failed: it cannot work with this kernel at all. */
  kerndat: boolean;
}

/** The errors in `dir`/`file`, or undefined when there is no such log. */
export function criuLogErrors(dir: string, file: string): CriuLogErrors | undefined {
  const logFile = path.join(dir, file);
  const text = readTail(logFile);
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const out: CriuLogErrors = { file: logFile, quoted: [], kerndat: false };
  let printed = 0;
  lines.forEach((line, i) => {
    if (!line.includes('Error')) return;
    if (/kerndat|kernel features detection/.test(line)) out.kerndat = true;
    out.first ??= line.replace(/^\(\s*[\d.]+\)\s*/, '').replace(/^(?:\S+ )?Error \([^)]*\):\s*/, '').trim();
    const from = Math.max(printed, i - BEFORE);
    if (printed && from > printed) out.quoted.push('...');
    for (let j = from; j <= i; j++) out.quoted.push(`${j + 1}:${lines[j]}`);
    printed = i + 1;
  });
  return out;
}
