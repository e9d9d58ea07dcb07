import * as fs from 'fs';
import * as path from 'path';

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
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
          continue;
        }
        throw new Error(`cannot remove cgroup ${d}: ${(e as Error).message}`);
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
