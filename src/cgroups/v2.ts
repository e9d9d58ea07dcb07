import * as fs from 'fs';
import * as path from 'path';
import { CgroupManager } from './manager';
import { innerPath } from './paths';
import { readPids, subtree, removeTree, mkdirs } from './fsutil';
import { CgroupView } from '../runtime/init/mounts';

export const UNIFIED_MOUNT = '/sys/fs/cgroup';

export class CgroupV2 implements CgroupManager {
  readonly version = 2 as const;
  readonly paths: Record<string, string>;

  constructor(dir: string) {
    this.paths = { '': dir };
  }

  static forContainer(own: Map<string, string>, cgroupsPath: string | undefined, id: string): CgroupV2 {
    return new CgroupV2(path.join(UNIFIED_MOUNT, innerPath(cgroupsPath, id, own.get(''))));
  }

  private get dir(): string {
    return this.paths[''];
  }

  create(): void {
    mkdirs(this.dir);
  }

  addProcess(pid: number): void {
    try {
      fs.writeFileSync(path.join(this.dir, 'cgroup.procs'), String(pid));
    } catch (e) {
      throw new Error(`cannot add process ${pid} to cgroup ${this.dir}: ${(e as Error).message}`);
    }
  }

  processes(): number[] {
    const pids = new Set<number>();
    for (const d of subtree(this.dir)) for (const p of readPids(path.join(d, 'cgroup.procs'))) pids.add(p);
    return [...pids];
  }

  isFrozen(): boolean {
    try {
      return /^frozen 1$/m.test(fs.readFileSync(path.join(this.dir, 'cgroup.events'), 'utf8'));
    } catch {
      return false;
    }
  }

  destroy(): void {
    removeTree(this.dir);
  }

  views(): CgroupView[] {
    return [{ name: '', hostDir: this.dir }];
  }
}
