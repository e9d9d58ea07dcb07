import * as fs from 'fs';
import * as path from 'path';
import { type CgroupManager, applyOptions } from './manager';
import { innerPath } from './paths';
import { readPids, subtree, removeTree, mkdirs, writeFile, readText, readU64, exists } from './fsutil';
import { sleepMs } from '../linux/sys';
import { type CgroupView } from './manager';
import { type LinuxResources, type ApplyOptions, resourceProblems, digits, unlimited, isHuge, sharesToWeight, blkioToIoWeight, swapToV2, type ThrottleKind, throttleEntries } from './resources';
import { containerDeviceState } from './devices';
import { applyDeviceState } from './bpf';
import { statsV2, type Json } from './stats';
import { type OomWatcher, oomWatcherV2 } from './oom';
import { RuntimeError } from '../errors';

export const UNIFIED_MOUNT = '/sys/fs/cgroup';

const FREEZE_TIMEOUT_MS = 10_000;

/** One v2 write: file and value, with the controller that must be enabled for it. */
interface Write {
  controller: string;
  file: string;
  value: string;
}

export class CgroupV2 implements CgroupManager {
  readonly version = 2 as const;
  readonly paths: Record<string, string>;

  constructor(dir: string) {
    this.paths = { '': dir };
  }

  /**
   * A relative (or empty) cgroupsPath is placed below the *parent* of our own
   * cgroup, as runc's fs2 does: our own cgroup has processes (us), so no
   * controllers could be enabled for a child of it.
   */
  static forContainer(own: Map<string, string>, cgroupsPath: string | undefined, id: string): CgroupV2 {
    const mine = own.get('');
    return new CgroupV2(path.join(UNIFIED_MOUNT, innerPath(cgroupsPath, id, mine === undefined ? undefined : path.posix.dirname(mine))));
  }

  private get dir(): string {
    return this.paths[''];
  }

  /** The root of the v2 hierarchy the container's directory is in. */
  private mountRoot(): string {
    let d = path.dirname(this.dir);
    while (d !== '/' && fs.existsSync(path.join(path.dirname(d), 'cgroup.controllers'))) d = path.dirname(d);
    return d;
  }

  /**
   * Creates the directory and enables every available controller in the
   * cgroup.subtree_control of each ancestor, so the container's cgroup has
   * them (config-linux.md: the runtime MUST enable what the settings need).
   */
  create(): void {
    mkdirs(this.dir);
    const root = this.mountRoot();
    const chain: string[] = [];
    for (let d = path.dirname(this.dir); d.startsWith(root); d = path.dirname(d)) {
      chain.unshift(d);
      if (d === root) break;
    }
    for (const d of chain) {
      const available = (readText(d, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean);
      const enabled = new Set((readText(d, 'cgroup.subtree_control') ?? '').trim().split(/\s+/).filter(Boolean));
      const missing = available.filter((c) => !enabled.has(c));
      if (!missing.length) continue;
      try {
        fs.writeFileSync(path.join(d, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
      } catch {
        // one at a time: some may be refused (e.g. threaded cgroups); apply() names what is missing
        for (const c of missing) {
          try {
            fs.writeFileSync(path.join(d, 'cgroup.subtree_control'), `+${c}`);
          } catch {
            /* reported by apply() when a setting needs it */
          }
        }
      }
    }
  }

  /** Controllers the container's cgroup has. */
  controllers(): Set<string> {
    return new Set((readText(this.dir, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean));
  }

  apply(resources: LinuxResources | Record<string, unknown>, o?: ApplyOptions | ((msg: string) => void)): void {
    const r = resources as LinuxResources;
    const opts = applyOptions(o);
    const where = opts.where ?? 'linux.resources';
    const warn = opts.warn ?? (() => undefined);
    const problems = resourceProblems(r, where);
    if (problems.length) throw new RuntimeError(problems.join('; '));
    let writes: Write[];
    try {
      writes = this.plan(r, where, warn);
    } catch (e) {
      throw new RuntimeError((e as Error).message);
    }
    // every controller the writes need must be there before anything is written
    const have = this.controllers();
    for (const w of writes) {
      if (w.controller && !have.has(w.controller)) {
        throw new RuntimeError(`cannot set ${w.file} to ${w.value}: the ${w.controller} controller is not available in ${this.dir} (it has: ${[...have].join(' ') || 'none'})`);
      }
    }
    const mem = r.memory ?? {};
    try {
      if (opts.update && mem.checkBeforeUpdate && mem.limit && !unlimited(mem.limit)) {
        const usage = readU64(this.dir, 'memory.current');
        if (usage !== undefined && usage > BigInt(digits(mem.limit))) {
          throw new RuntimeError(`cannot set memory.max to ${digits(mem.limit)}: the current usage ${usage} is higher (checkBeforeUpdate)`);
        }
      }
      for (const w of writes) writeFile(this.dir, w.file, w.value);
      if (!opts.update) {
        try {
          applyDeviceState(this.dir, containerDeviceState(r.devices, opts.devices));
        } catch (e) {
          // without root (a delegated tree) BPF programs cannot be loaded: runc runs without them too
          if (process.getuid!() === 0 || (e as { errno?: number }).errno !== 1 /* EPERM */) throw e;
          warn(`device rules are not enforced: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      if (e instanceof RuntimeError) throw e;
      throw new RuntimeError((e as Error).message);
    }
  }

  /** The v2 writes for `r` (v1-style values converted), in order; unified keys last so they win. */
  plan(r: LinuxResources, where: string, warn: (msg: string) => void): Write[] {
    const out: Write[] = [];
    const add = (controller: string, file: string, value: string) => out.push({ controller, file, value });
    const m = r.memory ?? {};
    const c = r.cpu ?? {};
    const b = r.blockIO ?? {};

    if (c.cpus) add('cpuset', 'cpuset.cpus', c.cpus);
    if (c.mems) add('cpuset', 'cpuset.mems', c.mems);

    const swap = swapToV2(m.swap, m.limit);
    if (swap !== undefined && (m.swap || exists(this.dir, 'memory.swap.max'))) add('memory', 'memory.swap.max', swap);
    if (m.limit) add('memory', 'memory.max', unlimited(m.limit) ? 'max' : digits(m.limit));
    if (m.reservation) add('memory', 'memory.low', unlimited(m.reservation) ? 'max' : digits(m.reservation));
    // what v2 has no file for: ignored with a warning, as runc ignores it
    if (m.kernel) warn(`${where}.memory.kernel: kernel memory limits do not exist on cgroup v2; ignored`);
    if (m.kernelTCP) warn(`${where}.memory.kernelTCP: kernel TCP memory limits do not exist on cgroup v2; ignored`);
    if (m.swappiness !== undefined && !isHuge(m.swappiness)) warn(`${where}.memory.swappiness: cgroup v2 has no per-cgroup swappiness; ignored`);
    if (m.disableOOMKiller) warn(`${where}.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer; ignored`);
    if (m.useHierarchy === false) warn(`${where}.memory.useHierarchy: cgroup v2 accounting is always hierarchical; ignored`);

    if (c.shares) add('cpu', 'cpu.weight', String(sharesToWeight(c.shares)));
    if (c.quota || c.period) {
      let v = c.quota && !unlimited(c.quota) ? digits(c.quota) : 'max';
      if (c.period) v += ` ${digits(c.period)}`;
      add('cpu', 'cpu.max', v);
    }
    // 0 (the default) is not worth an error on kernels without the file
    if (c.burst || (c.burst === 0 && exists(this.dir, 'cpu.max.burst'))) add('cpu', 'cpu.max.burst', digits(c.burst));
    if (c.idle || (c.idle === 0 && exists(this.dir, 'cpu.idle'))) add('cpu', 'cpu.idle', String(c.idle));
    if (c.realtimeRuntime || c.realtimePeriod) {
      throw new Error(`${where}.cpu: realtimeRuntime and realtimePeriod cannot be applied: cgroup v2 has no realtime CPU limits`);
    }

    if (r.pids?.limit !== undefined) add('pids', 'pids.max', r.pids.limit === -1 || isHuge(r.pids.limit) ? 'max' : digits(r.pids.limit));

    const bfq = exists(this.dir, 'io.bfq.weight');
    if (b.weight) {
      if (bfq) add('io', 'io.bfq.weight', String(b.weight));
      else add('io', 'io.weight', String(blkioToIoWeight(b.weight)));
    }
    if (b.leafWeight || (b.weightDevice ?? []).some((d) => d.leafWeight)) {
      throw new Error(`${where}.blockIO: leafWeight cannot be applied: cgroup v2 has no leaf weights`);
    }
    for (const d of b.weightDevice ?? []) {
      if (!d.weight) continue;
      if (bfq) add('io', 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`);
      else add('io', 'io.weight', `${d.major}:${d.minor} ${blkioToIoWeight(d.weight)}`);
    }
    const keys: Record<ThrottleKind, string> = { readBps: 'rbps', writeBps: 'wbps', readIOPS: 'riops', writeIOPS: 'wiops' };
    for (const { kind, device: d } of throttleEntries(b)) {
      // v1 removes a limit with rate 0; v2 with "max"
      add('io', 'io.max', `${d.major}:${d.minor} ${keys[kind]}=${d.rate ? digits(d.rate) : 'max'}`);
    }

    for (const h of r.hugepageLimits ?? []) {
      add('hugetlb', `hugetlb.${h.pageSize}.max`, digits(h.limit));
      if (exists(this.dir, `hugetlb.${h.pageSize}.rsvd.max`)) add('hugetlb', `hugetlb.${h.pageSize}.rsvd.max`, digits(h.limit));
    }

    if (r.network && (r.network.classID !== undefined || r.network.priorities?.length)) {
      warn(`${where}.network: net_cls and net_prio do not exist on cgroup v2; ignored`);
    }

    for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
      const parts = [dev];
      if (lim.hcaHandles !== undefined) parts.push(`hca_handle=${lim.hcaHandles}`);
      if (lim.hcaObjects !== undefined) parts.push(`hca_object=${lim.hcaObjects}`);
      add('rdma', 'rdma.max', parts.join(' '));
    }

    for (const [key, value] of Object.entries(r.unified ?? {})) {
      const controller = key.slice(0, key.indexOf('.'));
      // cgroup.* files belong to the core, not to a controller
      add(controller === 'cgroup' ? '' : controller, key, value);
    }
    return out;
  }

  addProcess(pid: number): void {
    try {
      fs.writeFileSync(path.join(this.dir, 'cgroup.procs'), String(pid));
    } catch (e) {
      throw new Error(`cannot add process ${pid} to cgroup ${this.dir}: ${(e as Error).message}`, { cause: e });
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

  private setFrozen(frozen: boolean): void {
    writeFile(this.dir, 'cgroup.freeze', frozen ? '1' : '0');
    const deadline = Date.now() + FREEZE_TIMEOUT_MS;
    for (let i = 0; this.isFrozen() !== frozen; i++) {
      if (Date.now() > deadline) {
        if (frozen) {
          try {
            writeFile(this.dir, 'cgroup.freeze', '0');
          } catch {
            /* report the timeout */
          }
        }
        throw new RuntimeError(`cannot set cgroup.freeze to ${frozen ? 1 : 0}: the cgroup did not settle within ${FREEZE_TIMEOUT_MS / 1000} s`);
      }
      sleepMs(i < 10 ? 1 : 10);
    }
  }

  freeze(): void {
    this.setFrozen(true);
  }

  thaw(): void {
    this.setFrozen(false);
  }

  stats(): Json {
    return statsV2(this.dir);
  }

  oomWatcher(): OomWatcher {
    return oomWatcherV2(this.dir);
  }

  exists(): boolean {
    return fs.existsSync(this.dir);
  }

  destroy(): void {
    removeTree(this.dir);
  }

  views(): CgroupView[] {
    return [{ name: '', hostDir: this.dir }];
  }
}
