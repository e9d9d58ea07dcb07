import * as fs from 'fs';
import * as path from 'path';
import { CgroupManager } from './manager';
import { Hierarchy, innerPath } from './paths';
import { readPids, subtree, removeTree, mkdirs } from './fsutil';
import { CgroupView } from '../runtime/init/mounts';

export class CgroupV1 implements CgroupManager {
  readonly version = 1 as const;
  readonly paths: Record<string, string> = {};

  constructor(hierarchies: Hierarchy[], own: Map<string, string>, cgroupsPath: string | undefined, id: string) {
    for (const h of hierarchies) {
      this.paths[h.name] = path.join(h.mountpoint, innerPath(cgroupsPath, id, own.get(h.name)));
    }
  }

  static fromPaths(paths: Record<string, string>): CgroupV1 {
    const m = new CgroupV1([], new Map(), undefined, '');
    Object.assign(m.paths, paths);
    return m;
  }

  create(): void {
    for (const [name, dir] of Object.entries(this.paths)) {
      const created = mkdirs(dir);
      // A new cpuset cgroup has no CPUs or memory nodes: copy the parent's, level by level.
      if (name.split(',').includes('cpuset')) {
        for (const d of created) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) {
            const mine = path.join(d, f);
            if (fs.readFileSync(mine, 'utf8').trim() === '') {
              fs.writeFileSync(mine, fs.readFileSync(path.join(path.dirname(d), f), 'utf8').trim());
            }
          }
        }
      }
    }
  }

  addProcess(pid: number): void {
    for (const dir of Object.values(this.paths)) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      } catch (e) {
        throw new Error(`cannot add process ${pid} to cgroup ${dir}: ${(e as Error).message}`);
      }
    }
  }

  private anyDir(): string | undefined {
    return this.paths['freezer'] ?? this.paths['pids'] ?? this.paths['memory'] ?? Object.values(this.paths)[0];
  }

  processes(): number[] {
    const dir = this.anyDir();
    if (!dir) return [];
    const pids = new Set<number>();
    for (const d of subtree(dir)) for (const p of readPids(path.join(d, 'cgroup.procs'))) pids.add(p);
    return [...pids];
  }

  isFrozen(): boolean {
    const dir = this.paths['freezer'];
    if (!dir) return false;
    try {
      return fs.readFileSync(path.join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN';
    } catch {
      return false;
    }
  }

  destroy(): void {
    for (const dir of Object.values(this.paths)) removeTree(dir);
  }

  views(): CgroupView[] {
    return Object.entries(this.paths).map(([name, hostDir]) => ({
      name: name.startsWith('name=') ? name.slice(5) : name,
      hostDir,
    }));
  }
}
