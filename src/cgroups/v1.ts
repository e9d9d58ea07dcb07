import * as fs from 'fs';
import * as path from 'path';
import { type CgroupManager, applyOptions } from './manager';
import { type Hierarchy, innerPath, relativeToRoot } from './paths';
import { readPids, subtree, removeTree, mkdirs, writeFile, readText, readU64, exists } from './fsutil';
import { sleepMs } from '../linux/sys';
import { type CgroupView } from './manager';
import { type LinuxResources, type ApplyOptions, resourceProblems, unifiedOnV1Error, digits, unlimited, isHuge, type ThrottleKind, throttleEntries } from './resources';
import { containerDeviceState, v1Writes } from './devices';
import { statsV1, type Json } from './stats';
import { type OomWatcher, oomWatcherV1 } from './oom';
import { RuntimeError } from '../errors';

const FREEZE_TIMEOUT_MS = 10_000;

export class CgroupV1 implements CgroupManager {
  readonly version = 1 as const;
  readonly paths: Record<string, string> = {};

  constructor(hierarchies: Hierarchy[], own: Map<string, string>, cgroupsPath: string | undefined, id: string) {
    for (const h of hierarchies) {
      this.paths[h.name] = path.join(h.mountpoint, innerPath(cgroupsPath, id, relativeToRoot(own.get(h.name), h.root)));
    }
  }

  static fromPaths(paths: Record<string, string>): CgroupV1 {
    const m = new CgroupV1([], new Map(), undefined, '');
    Object.assign(m.paths, paths);
    return m;
  }

  /** The container's directory in the hierarchy that has `controller` ("cpu" finds "cpu,cpuacct"). */
  dirOf(controller: string): string | undefined {
    for (const [name, dir] of Object.entries(this.paths)) if (name.split(',').includes(controller)) return dir;
    return undefined;
  }

  create(): void {
    for (const [name, dir] of Object.entries(this.paths)) {
      mkdirs(dir);
      // A new cpuset cgroup has no CPUs or memory nodes, and no process can join it: copy the
      // parent's, level by level from the top, as runc does (also into levels that existed
      // empty, such as a pod's cgroup its manager made with mkdir).
      if (name.split(',').includes('cpuset')) {
        const levels: string[] = [];
        for (let d = dir; fs.existsSync(path.join(path.dirname(d), 'cpuset.cpus')); d = path.dirname(d)) levels.unshift(d);
        for (const d of levels) {
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

  apply(resources: LinuxResources | Record<string, unknown>, o?: ApplyOptions | ((msg: string) => void)): void {
    const r = resources as LinuxResources;
    const opts = applyOptions(o);
    const where = opts.where ?? 'linux.resources';
    const warn = opts.warn ?? (() => undefined);
    const problems = resourceProblems(r, where);
    if (problems.length) throw new RuntimeError(problems.join('; '));
    if (r.unified && Object.keys(r.unified).length) {
      throw unifiedOnV1Error(r.unified, where);
    }
    // Every controller a setting needs must be mounted: check them all before writing anything.
    const need = (controller: string, file: string, value: string | number): string => {
      const dir = this.dirOf(controller);
      if (!dir) throw new RuntimeError(`cannot set ${file} to ${value}: the ${controller} cgroup controller is not mounted on this host`);
      return dir;
    };
    const mem = r.memory ?? {};
    const cpu = r.cpu ?? {};
    const bio = r.blockIO ?? {};
    const memSet = [mem.limit, mem.reservation, mem.swap, mem.kernel, mem.kernelTCP].some((v) => v) ||
      (mem.swappiness !== undefined && !isHuge(mem.swappiness)) || mem.disableOOMKiller !== undefined || mem.useHierarchy !== undefined;
    if (memSet) need('memory', 'memory.limit_in_bytes', mem.limit ?? 0);
    for (const h of r.hugepageLimits ?? []) need('hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, h.limit);
    if (r.network?.classID !== undefined) need('net_cls', 'net_cls.classid', r.network.classID);
    for (const p of r.network?.priorities ?? []) need('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
    for (const dev of Object.keys(r.rdma ?? {})) need('rdma', 'rdma.max', dev);
    if (r.pids?.limit !== undefined) need('pids', 'pids.max', r.pids.limit);
    if (cpu.cpus || cpu.mems) need('cpuset', 'cpuset.cpus', cpu.cpus || cpu.mems || '');
    const bioSet = bio.weight || bio.leafWeight || bio.weightDevice?.length || bio.throttleReadBpsDevice?.length ||
      bio.throttleWriteBpsDevice?.length || bio.throttleReadIOPSDevice?.length || bio.throttleWriteIOPSDevice?.length;
    if (bioSet) need('blkio', 'blkio.weight', bio.weight ?? 0);

    try {
      if (cpu.cpus || cpu.mems) this.applyCpuset(cpu.cpus, cpu.mems);
      if (!opts.update) {
        const dir = this.dirOf('devices');
        if (dir) for (const [file, line] of v1Writes(containerDeviceState(r.devices, opts.devices))) writeFile(dir, file, line);
      }
      if (memSet) this.applyMemory(r, warn, Boolean(opts.update));
      this.applyCpu(r);
      if (r.pids?.limit !== undefined) writeFile(this.dirOf('pids')!, 'pids.max', r.pids.limit === -1 || isHuge(r.pids.limit) ? 'max' : digits(r.pids.limit));
      if (bioSet) this.applyBlkio(r);
      for (const h of r.hugepageLimits ?? []) {
        const dir = this.dirOf('hugetlb')!;
        writeFile(dir, `hugetlb.${h.pageSize}.limit_in_bytes`, digits(h.limit));
        if (exists(dir, `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`)) writeFile(dir, `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, digits(h.limit));
      }
      if (r.network?.classID !== undefined) writeFile(this.dirOf('net_cls')!, 'net_cls.classid', String(r.network.classID));
      for (const p of r.network?.priorities ?? []) writeFile(this.dirOf('net_prio')!, 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
      for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
        const parts = [dev];
        if (lim.hcaHandles !== undefined) parts.push(`hca_handle=${lim.hcaHandles}`);
        if (lim.hcaObjects !== undefined) parts.push(`hca_object=${lim.hcaObjects}`);
        writeFile(this.dirOf('rdma')!, 'rdma.max', parts.join(' '));
      }
    } catch (e) {
      if (e instanceof RuntimeError) throw e;
      throw new RuntimeError((e as Error).message);
    }
  }

  private applyCpuset(cpus: string | undefined, mems: string | undefined): void {
    const dir = this.dirOf('cpuset')!;
    if (cpus) writeFile(dir, 'cpuset.cpus', cpus);
    if (mems) writeFile(dir, 'cpuset.mems', mems);
  }

  private applyMemory(r: LinuxResources, warn: (msg: string) => void, update: boolean): void {
    const dir = this.dirOf('memory')!;
    const m = r.memory ?? {};
    const val = (n: number) => (unlimited(n) ? '-1' : digits(n));
    let swap = m.swap;
    // lifting the memory limit lifts the swap limit too unless swap is given
    if (unlimited(m.limit) && !swap && exists(dir, 'memory.memsw.limit_in_bytes')) swap = -1;
    if (m.limit && swap) {
      // the kernel keeps memory <= memory+swap at every step: pick the order that does
      const cur = readU64(dir, 'memory.limit_in_bytes') ?? 0n;
      if (unlimited(swap) || cur < BigInt(digits(swap))) {
        writeFile(dir, 'memory.memsw.limit_in_bytes', val(swap));
        writeFile(dir, 'memory.limit_in_bytes', val(m.limit));
      } else {
        writeFile(dir, 'memory.limit_in_bytes', val(m.limit));
        writeFile(dir, 'memory.memsw.limit_in_bytes', val(swap));
      }
    } else if (m.limit) {
      writeFile(dir, 'memory.limit_in_bytes', val(m.limit));
    } else if (swap) {
      writeFile(dir, 'memory.memsw.limit_in_bytes', val(swap));
    }
    if (m.reservation) writeFile(dir, 'memory.soft_limit_in_bytes', val(m.reservation));
    if (m.kernel) this.applyKernelMemory(dir, m.kernel, warn);
    if (m.kernelTCP) writeFile(dir, 'memory.kmem.tcp.limit_in_bytes', val(m.kernelTCP));
    if (m.swappiness !== undefined && !isHuge(m.swappiness)) writeFile(dir, 'memory.swappiness', String(m.swappiness));
    // the defaults (OOM killer on, hierarchical) are only written to change them back on update
    if (m.disableOOMKiller || (m.disableOOMKiller === false && update)) writeFile(dir, 'memory.oom_control', m.disableOOMKiller ? '1' : '0');
    if (m.useHierarchy === false || (m.useHierarchy && update)) writeFile(dir, 'memory.use_hierarchy', m.useHierarchy ? '1' : '0');
  }

  /**
   * Kernel memory limits are gone from recent kernels (the file may still
   * exist and accept writes without effect). As runc does, a limit the kernel
   * does not enforce is ignored with a warning.
   */
  private applyKernelMemory(dir: string, kernel: number, warn: (msg: string) => void): void {
    const ignored = () => warn(`kernel memory limit ${kernel} is ignored: this kernel does not support kernel memory limits (memory.kmem.limit_in_bytes)`);
    if (!exists(dir, 'memory.kmem.limit_in_bytes')) return ignored();
    try {
      writeFile(dir, 'memory.kmem.limit_in_bytes', unlimited(kernel) ? '-1' : digits(kernel));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EOPNOTSUPP' || code === 'ENOTSUP' || code === 'ENOENT') return ignored();
      throw e;
    }
    if (!unlimited(kernel) && (readU64(dir, 'memory.kmem.limit_in_bytes') ?? 0n) >= 1n << 62n) ignored();
  }

  private applyCpu(r: LinuxResources): void {
    const c = r.cpu ?? {};
    const any = c.shares || c.quota || c.period || c.burst !== undefined || c.realtimePeriod || c.realtimeRuntime || c.idle !== undefined;
    if (!any) return;
    const dir = this.dirOf('cpu');
    if (!dir) throw new RuntimeError('cannot set cpu limits: the cpu cgroup controller is not mounted on this host');
    if (c.shares) {
      writeFile(dir, 'cpu.shares', digits(c.shares));
      const got = Number(readU64(dir, 'cpu.shares') ?? 0n);
      if (got !== c.shares) {
        throw new RuntimeError(`cannot set cpu.shares to ${c.shares}: the kernel's ${c.shares > got ? 'maximum' : 'minimum'} is ${got}`);
      }
    }
    const pair = (a: [string, string] | undefined, b: [string, string] | undefined) => {
      // one order can be refused where the other works (the kernel checks the ratio at each step)
      const steps = [a, b].filter((x): x is [string, string] => Boolean(x));
      try {
        for (const [f, v] of steps) writeFile(dir, f, v);
      } catch (first) {
        try {
          for (const [f, v] of steps.reverse()) writeFile(dir, f, v);
        } catch {
          throw first;
        }
      }
    };
    pair(c.period ? ['cpu.cfs_period_us', digits(c.period)] : undefined,
      c.quota ? ['cpu.cfs_quota_us', unlimited(c.quota) ? '-1' : digits(c.quota)] : undefined);
    // 0 (the default) is not worth an error on kernels without the file
    if (c.burst || (c.burst === 0 && exists(dir, 'cpu.cfs_burst_us'))) writeFile(dir, 'cpu.cfs_burst_us', digits(c.burst));
    pair(c.realtimePeriod ? ['cpu.rt_period_us', digits(c.realtimePeriod)] : undefined,
      c.realtimeRuntime ? ['cpu.rt_runtime_us', unlimited(c.realtimeRuntime) ? '-1' : digits(c.realtimeRuntime)] : undefined);
    if (c.idle || (c.idle === 0 && exists(dir, 'cpu.idle'))) writeFile(dir, 'cpu.idle', String(c.idle));
  }

  private applyBlkio(r: LinuxResources): void {
    const dir = this.dirOf('blkio')!;
    const b = r.blockIO ?? {};
    // CFQ's files on kernels that have it, BFQ's otherwise
    const weightFile = exists(dir, 'blkio.weight') || !exists(dir, 'blkio.bfq.weight') ? 'blkio.weight' : 'blkio.bfq.weight';
    const weightDeviceFile = exists(dir, 'blkio.weight_device') || !exists(dir, 'blkio.bfq.weight_device') ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
    if (b.weight) writeFile(dir, weightFile, String(b.weight));
    if (b.leafWeight) writeFile(dir, 'blkio.leaf_weight', String(b.leafWeight));
    for (const d of b.weightDevice ?? []) {
      if (d.weight) writeFile(dir, weightDeviceFile, `${d.major}:${d.minor} ${d.weight}`);
      if (d.leafWeight) writeFile(dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
    }
    const files: Record<ThrottleKind, string> = {
      readBps: 'blkio.throttle.read_bps_device',
      writeBps: 'blkio.throttle.write_bps_device',
      readIOPS: 'blkio.throttle.read_iops_device',
      writeIOPS: 'blkio.throttle.write_iops_device',
    };
    for (const { kind, device: d } of throttleEntries(b)) writeFile(dir, files[kind], `${d.major}:${d.minor} ${digits(d.rate)}`);
  }

  addProcess(pid: number): void {
    for (const dir of Object.values(this.paths)) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      } catch (e) {
        throw new Error(`cannot add process ${pid} to cgroup ${dir}: ${(e as Error).message}`, { cause: e });
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

  private setFreezer(want: 'FROZEN' | 'THAWED'): void {
    const dir = this.dirOf('freezer');
    if (!dir) throw new RuntimeError('cannot freeze or thaw the container: the freezer cgroup controller is not mounted on this host');
    const deadline = Date.now() + FREEZE_TIMEOUT_MS;
    for (let i = 0; ; i++) {
      // FREEZING settles to FROZEN once every task has stopped; writing again nudges tasks that were busy
      if (i % 10 === 0) writeFile(dir, 'freezer.state', want);
      const state = (readText(dir, 'freezer.state') ?? '').trim();
      if (state === want) return;
      if (Date.now() > deadline) {
        if (want === 'FROZEN') {
          try {
            writeFile(dir, 'freezer.state', 'THAWED');
          } catch {
            /* report the timeout */
          }
        }
        throw new RuntimeError(`cannot set freezer.state to ${want}: still ${state || 'unknown'} after ${FREEZE_TIMEOUT_MS / 1000} s`);
      }
      sleepMs(i < 10 ? 1 : 10);
    }
  }

  freeze(): void {
    this.setFreezer('FROZEN');
  }

  thaw(): void {
    this.setFreezer('THAWED');
  }

  stats(): Json {
    return statsV1(this.paths);
  }

  oomWatcher(): OomWatcher {
    const dir = this.dirOf('memory');
    if (!dir) throw new RuntimeError('cannot watch for OOM events: the memory cgroup controller is not mounted on this host');
    try {
      return oomWatcherV1(dir);
    } catch (e) {
      throw new RuntimeError((e as Error).message);
    }
  }

  exists(): boolean {
    const dir = this.anyDir();
    return dir !== undefined && fs.existsSync(dir);
  }

  destroy(): void {
    for (const dir of Object.values(this.paths)) removeTree(dir);
  }

  views(): CgroupView[] {
    // the hybrid host's v2 hierarchy ("") is joined but not shown, as runc does
    return Object.entries(this.paths).filter(([name]) => name !== '').map(([name, hostDir]) => ({
      name: name.startsWith('name=') ? name.slice(5) : name,
      hostDir,
    }));
  }
}
