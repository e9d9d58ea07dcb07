// tsrunc as a library: `const { Container } = require('tsrunc')`. The CLI
// (src/cli/) is a client of the same functions; this is the stable surface
// for Node programs that run containers without spawning the CLI.
//
// The process model: `create` and `exec` fork the calling Node process, and
// the child keeps running JavaScript until it execs the container's process
// (shared/notes/process-model.md). A fork of a Node with V8 worker threads
// hangs at the child's first garbage collection, so the program that calls
// them must run as `node --single-threaded` (the other methods have no such
// need). Without it they throw a TsruncError instead of hanging. A program
// that cannot run that way spawns `tsrunc create` for that step and uses
// this API for the rest.
import * as path from 'path';
import { StateStore } from './state/store';
import { startContainer, killContainer, deleteContainer, loadWithStatus } from './container/lifecycle';
import type { ContainerEvent } from './container/cgroup-ops';
import type * as CreateModule from './container/create';
import type * as ExecModule from './container/exec';
import type * as CgroupOpsModule from './container/cgroup-ops';
import type * as BundleModule from './bundle/load';
import type * as CriuOptionsModule from './container/criu-options';
import type * as CheckpointModule from './container/checkpoint';
import type * as RestoreModule from './container/restore';
import { ociState } from './container/status';
import { parseSignal } from './linux/signals';
import { RuntimeError } from './errors';
import type { Process } from './bundle/spec-types';
import type { LinuxResources } from './cgroups/resources';

export type { Bundle } from './bundle/load';
export { RuntimeError as TsruncError } from './errors';
export { SyscallError } from './linux/errors';
export type { Spec, Process } from './bundle/spec-types';
export type { LinuxResources } from './cgroups/resources';
export type { ContainerEvent } from './container/cgroup-ops';

/** The state of a container as runc's `state` prints it (runtime.md "State"). */
export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

export interface StoreOptions {
  /** The state directory (runc's --root); default /run/tsrunc, or $XDG_RUNTIME_DIR/tsrunc without root. */
  root?: string;
}

export interface CreateContainerOptions extends StoreOptions {
  /** The bundle directory; default the current directory. */
  bundle?: string;
  pidFile?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** The fds 3 .. 3+N-1 of this process that the container's process keeps. */
  preserveFds?: number;
  /** process.terminal: gets the pty master, and owns the fd. */
  onConsole?: (master: number) => void;
  /** Warnings (a failed poststop hook) go here. */
  warn?: (msg: string) => void;
  /** The systemd cgroup driver (runc's --systemd-cgroup): linux.cgroupsPath is "slice:prefix:name". */
  systemdCgroup?: boolean;
}

export interface ExecContainerOptions {
  pidFile?: string;
  preserveFds?: number;
  onConsole?: (master: number) => void;
  /** Sub-cgroups to join, as `exec --cgroup` takes them. */
  cgroup?: string[];
  /** Exec into a paused container too (runc's --ignore-paused). */
  ignorePaused?: boolean;
}

/**
 * CRIU's options for checkpoint() and restore(), as runc's flags name them
 * (imagePath: --image-path, default ./checkpoint; criu: the binary, --criu).
 */
export type CriuOptions = CriuOptionsModule.CriuFlags;

export interface RestoreContainerOptions extends StoreOptions, CriuOptions {
  /** The bundle whose config.json the restored container has; default the current directory. */
  bundle?: string;
  pidFile?: string;
  systemdCgroup?: boolean;
  /** process.terminal: gets the new pty master, and owns the fd. */
  onConsole?: (master: number) => void;
  warn?: (msg: string) => void;
}

/** The state root: runc's defaults. */
export function defaultRoot(): string {
  if (process.getuid && process.getuid() !== 0 && process.env.XDG_RUNTIME_DIR) return path.join(process.env.XDG_RUNTIME_DIR, 'tsrunc');
  return '/run/tsrunc';
}

export function storeFor(opts: StoreOptions = {}): StateStore {
  return new StateStore(path.resolve(opts.root || defaultRoot()));
}

/** Forking needs a Node without V8 worker threads (see the top of this file). */
function requireSingleThreaded(what: string): void {
  if (!process.execArgv.includes('--single-threaded')) {
    throw new RuntimeError(`${what} forks this process, which needs node --single-threaded (a fork of a Node with worker threads hangs)`);
  }
}

// Loaded when used: a CLI command runs one method, and each of these pulls in
// much (seccomp, cgroup writers, the stages) that the others do not need.
const creating = (): typeof CreateModule => require('./container/create');
const executing = (): typeof ExecModule => require('./container/exec');
const cgroupOps = (): typeof CgroupOpsModule => require('./container/cgroup-ops');
const criuOpts = (): typeof CriuOptionsModule => require('./container/criu-options');

/** Reads and validates a bundle (config.json and rootfs) without creating anything. */
export function loadBundle(dir?: string): BundleModule.Bundle {
  return (require('./bundle/load') as typeof BundleModule).loadBundle(dir);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A container in a state directory. Every method throws a TsruncError with runc's message (its `cause` the underlying error). */
export class Container {
  private constructor(readonly id: string, private readonly store: StateStore) {}

  /** Creates the container (runc create): its init waits for start(). */
  static async create(id: string, opts: CreateContainerOptions = {}): Promise<Container> {
    requireSingleThreaded('Container.create');
    const store = storeFor(opts);
    creating().createContainer({
      id, store, bundle: opts.bundle, pidFile: opts.pidFile, noPivot: Boolean(opts.noPivot), noNewKeyring: Boolean(opts.noNewKeyring),
      preserveFds: opts.preserveFds ?? 0, systemdCgroup: Boolean(opts.systemdCgroup), onConsole: opts.onConsole, warn: opts.warn,
    });
    return new Container(id, store);
  }

  /** The container `id` of a root, whether or not it exists yet (each method says so when it does not). */
  static of(id: string, opts: StoreOptions = {}): Container {
    return new Container(id, storeFor(opts));
  }

  /** An existing container; throws "container does not exist" (or says why its state is unusable). */
  static open(id: string, opts: StoreOptions = {}): Container {
    const store = storeFor(opts);
    store.load(id);
    return new Container(id, store);
  }

  /** Ids of the containers with a usable state in the root. */
  static list(opts: StoreOptions = {}): string[] {
    return storeFor(opts).list();
  }

  state(): ContainerState {
    const { state, status } = loadWithStatus(this.store, this.id);
    return ociState(state, status) as unknown as ContainerState;
  }

  async start(): Promise<void> {
    startContainer(this.store, this.id);
  }

  /**
   * Saves the processes with CRIU (runc checkpoint); the container is then
   * deleted, unless `leaveRunning` or `preDump`.
   */
  async checkpoint(opts: CriuOptions & { warn?: (msg: string) => void } = {}): Promise<void> {
    this.store.load(this.id);
    const { checkpointContainer } = require('./container/checkpoint') as typeof CheckpointModule;
    await checkpointContainer(this.store, this.id, criuOpts().criuOptions(opts), { warn: opts.warn });
  }

  /** A new container `id` running the processes of a checkpoint (runc restore --detach). */
  static async restore(id: string, opts: RestoreContainerOptions = {}): Promise<Container> {
    const store = storeFor(opts);
    const { restoreContainer } = require('./container/restore') as typeof RestoreModule;
    await restoreContainer({
      id, store, bundle: opts.bundle, criu: criuOpts().criuOptions(opts), pidFile: opts.pidFile,
      systemdCgroup: Boolean(opts.systemdCgroup), onConsole: opts.onConsole, warn: opts.warn,
    });
    return new Container(id, store);
  }

  /** Runs a new process in the container (runc exec --detach); returns its host PID. */
  async exec(processSpec: Process, opts: ExecContainerOptions = {}): Promise<number> {
    requireSingleThreaded('Container.exec');
    return executing().execInContainer({ store: this.store, id: this.id, process: processSpec, pidFile: opts.pidFile, preserveFds: opts.preserveFds ?? 0, cgroup: opts.cgroup, onConsole: opts.onConsole, ignorePaused: opts.ignorePaused });
  }

  /** Signals the init (or with `all` every process): a name ("SIGTERM", "KILL") or a number. */
  async kill(signal: string | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
    const sig = parseSignal(String(signal));
    if (sig === undefined) throw new RuntimeError(`unknown signal "${signal}"`);
    killContainer(this.store, this.id, sig, Boolean(opts.all));
  }

  async delete(opts: { force?: boolean; warn?: (msg: string) => void } = {}): Promise<void> {
    if (opts.force && !this.store.hasDir(this.id)) return;
    deleteContainer(this.store, this.id, Boolean(opts.force), opts.warn);
  }

  async pause(): Promise<void> {
    cgroupOps().pauseContainer(this.store, this.id);
  }

  async resume(): Promise<void> {
    cgroupOps().resumeContainer(this.store, this.id);
  }

  /** Changes cgroup limits (runc update --resources); returns the resources now in force. */
  async update(resources: LinuxResources): Promise<LinuxResources> {
    return cgroupOps().updateContainer(this.store, this.id, resources, { where: 'resources' });
  }

  /** runc events: stats every `intervalMs` and OOM events until the container stops (or one stats event with `stats`). */
  async *events(opts: { intervalMs?: number; stats?: boolean } = {}): AsyncGenerator<ContainerEvent, void, void> {
    for (const step of cgroupOps().containerEvents(this.store, this.id, { intervalMs: opts.intervalMs ?? 5000, statsOnly: Boolean(opts.stats) })) {
      if ('event' in step) yield step.event;
      else await delay(step.waitMs);
    }
  }
}
