import * as fs from 'fs';
import * as path from 'path';
import { sleepMs } from '../linux/sys';

export function readPids(file: string): number[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Every directory below `dir` (deepest first), then `dir` itself. */
export function subtree(dir: string): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) if (e.isDirectory()) out.push(...subtree(path.join(dir, e.name)));
  out.push(dir);
  return out;
}

/** rmdir of a cgroup tree, retrying while dying processes still hold it. */
export function removeTree(dir: string): void {
  for (const d of subtree(dir)) {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.rmdirSync(d);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code === 'EBUSY' && attempt < 100) {
          sleepMs(10);
          continue;
        }
        throw new Error(`cannot remove cgroup ${d}: ${(e as Error).message}`, { cause: e });
      }
    }
  }
}

/** mkdir -p that returns the directories it created, outermost first. */
export function mkdirs(dir: string): string[] {
  const created: string[] = [];
  const missing: string[] = [];
  let d = dir;
  while (!fs.existsSync(d)) {
    missing.unshift(d);
    d = path.dirname(d);
  }
  for (const m of missing) {
    fs.mkdirSync(m);
    created.push(m);
  }
  return created;
}

/** strerror-like text of a Node fs error ("invalid argument"). */
export function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file: this kernel does not offer it';
  const m = /^E[A-Z0-9]+: ([^,]+)/.exec(err.message ?? '');
  return m ? m[1] : String(err.message ?? e);
}

/** Writes one cgroup file; the error names the file and the value. */
export function writeFile(dir: string, file: string, value: string): void {
  try {
    // never O_CREAT: a file the kernel does not offer is an error, not a new file
    const fd = fs.openSync(path.join(dir, file), fs.constants.O_WRONLY | fs.constants.O_TRUNC);
    try {
      fs.writeSync(fd, value);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    const shown = value.includes('\n') || value.length > 80 ? JSON.stringify(value) : value;
    const err = new Error(`cannot set ${file} to ${shown}: ${reason(e)}`) as NodeJS.ErrnoException;
    err.code = (e as NodeJS.ErrnoException).code;
    throw err;
  }
}

export function readText(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** A file holding one unsigned number ("max" reads as undefined). */
export function readU64(dir: string, file: string): bigint | undefined {
  const t = readText(dir, file)?.trim();
  if (t === undefined || !/^\d+$/.test(t)) return undefined;
  return BigInt(t);
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, ...). */
export function readKeyed(dir: string, file: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of (readText(dir, file) ?? '').split('\n')) {
    const m = /^(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out.set(m[1], BigInt(m[2]));
  }
  return out;
}

export function exists(dir: string, file: string): boolean {
  return fs.existsSync(path.join(dir, file));
}
