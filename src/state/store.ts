// The state directory: <root>/<id>/state.json, one directory per container.
// Creating the directory is the lock that makes a container id unique: of two
// concurrent `create`s of one id, mkdir succeeds for exactly one.
//
// Everything in it is trusted later (state.json names the hooks `delete`
// runs, the exec fifo carries the init's answer to `start`), so the root and
// the container dirs are 0700 and a root is used only when it is the euid's
// own directory that no one else can write.
import * as fs from 'fs';
import * as path from 'path';
import { RuntimeError, containerNotExist } from '../errors';
import { writeFileAtomic } from './atomic-file';
import { processStartTime } from '../linux/proc';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;

/** What tsrunc remembers about a container between commands. */
export interface SavedState {
  ociVersion: string;
  id: string;
  /** Host PID of the container's init, 0 before it exists. */
  pid: number;
  /** /proc/PID/stat start time of the init, to detect PID reuse. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339 creation time. */
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** Cgroup paths per controller (or "" for v2), so delete and kill --all find them. */
  cgroup?: { version: 1 | 2; paths: Record<string, string>; created: boolean; systemd?: SystemdUnitRecord };
  /** Namespace paths of the init, for exec and for hooks. */
  namespacePaths?: Record<string, string>;
  /** Set when the container's init was started by `start`. */
  started?: boolean;
  /** Without a mount namespace: where its mounts are, in the runtime's (src/container/host-rootfs.ts). */
  hostRootfs?: HostRootfs;
  /** The session keyring the init joined ("_ses.<id>"), which `exec` joins too; none with --no-new-keyring. */
  sessionKeyring?: string;
  /** The config as it was at create time (later commands never re-read the bundle). */
  config: unknown;
}

/** Where a container without a mount namespace has its mounts, in the runtime's (src/container/host-rootfs.ts). */
export interface HostRootfs {
  path: string;
  /** The id of the mount the rootfs path was on before the container. */
  mountBefore: number;
}

/** The transient unit of a container made with the systemd cgroup driver. */
export interface SystemdUnitRecord {
  unit: string;
  slice: string;
  user: boolean;
}

/**
 * What a container owns, recorded (owned.json) as `create` acquires it,
 * before state.json exists, and kept beside it: whatever killed a create (or
 * corrupted state.json), `delete --force` undoes each step from it.
 */
export interface Owned {
  id: string;
  /** The `create` that made it, to tell a live one from an interrupted one. */
  creator: { pid: number; startTime: string };
  bundle?: string;
  config?: unknown;
  /** Recorded before the cgroup directories (or the systemd unit) are made. */
  cgroup?: { version: 1 | 2; paths: Record<string, string>; systemd?: SystemdUnitRecord };
  /** Recorded as soon as the init's PID is known, before it joins the cgroup. */
  init?: { pid: number; startTime: string };
  /** Create hooks ran: poststop hooks are owed at delete. */
  hooksStarted?: boolean;
  /** Recorded before the init exists, which may mount in the runtime's mount namespace. */
  hostRootfs?: HostRootfs;
}

/** A container directory as found: its state when complete and readable, what it owns, and what is wrong. */
export interface Found {
  id: string;
  state?: SavedState;
  owned?: Owned;
  /** Why there is no usable state (an interrupted create, a corrupt state.json). */
  problem?: string;
}

/** Why a well-formed state cannot be used after all, or undefined. */
export type StateCheck = (state: SavedState, owned: Owned | undefined) => string | undefined;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a parsed state.json cannot be used, or undefined when it can. */
function stateProblem(v: unknown, id: string): string | undefined {
  if (!isObject(v)) return 'not a JSON object';
  if (v.id !== id) return `its id is ${JSON.stringify(v.id)}`;
  if (!Number.isInteger(v.pid) || (v.pid as number) < 0) return 'no valid pid';
  for (const k of ['pidStartTime', 'bundle', 'rootfs', 'created', 'ociVersion']) if (typeof v[k] !== 'string') return `no valid ${k}`;
  if (!isObject(v.config)) return 'no config';
  if (v.cgroup !== undefined && (!isObject(v.cgroup) || ![1, 2].includes(v.cgroup.version as number) || !isObject(v.cgroup.paths))) return 'no valid cgroup';
  if (isObject(v.cgroup) && v.cgroup.systemd !== undefined && !validUnit(v.cgroup.systemd)) return 'no valid systemd unit';
  return undefined;
}

function validUnit(u: unknown): boolean {
  return isObject(u) && typeof u.unit === 'string' && /^[^/]+\.(scope|slice)$/.test(u.unit) && typeof u.slice === 'string' && typeof u.user === 'boolean';
}

// runc's pattern: word characters and the range '+' to '.' (+ , - .)
const ID_PATTERN = /^[\w+,\-.]+$/;

export function validateId(id: string): void {
  if (!id) throw new RuntimeError('container id cannot be empty');
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw new RuntimeError(`invalid id format: ${id}`);
  }
}

export class StateStore {
  private rootChecked = false;

  constructor(readonly root: string) {}

  /**
   * Makes sure the root is a directory (not a symlink) of the euid's that
   * group and others cannot write, before anything in it is used; `create`
   * makes it (0700) when missing. An existing 0711 root (what tsrunc used to
   * make) is tightened to 0700. False when it does not exist and not `create`.
   */
  private checkRoot(create: boolean): boolean {
    if (this.rootChecked) return true;
    let made = false;
    if (create) {
      try {
        made = fs.mkdirSync(this.root, { recursive: true, mode: 0o700 }) !== undefined;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // a file: told below
      }
    }
    const unsafe = (why: string): RuntimeError => new RuntimeError(`unsafe state root ${this.root}: ${why}`);
    let fd: number;
    try {
      fd = fs.openSync(this.root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !create) return false;
      if (code === 'ELOOP' || code === 'ENOTDIR') {
        throw unsafe(fs.lstatSync(this.root).isSymbolicLink() ? 'a symbolic link' : 'not a directory');
      }
      throw e;
    }
    try {
      const st = fs.fstatSync(fd);
      const euid = process.geteuid!();
      if (st.uid !== euid) throw unsafe(`owned by uid ${st.uid}, not by uid ${euid}`);
      if (st.mode & 0o022) throw unsafe(`writable by group or others (mode 0${(st.mode & 0o7777).toString(8)})`);
      // made: the umask may have taken more than group and others' bits
      if (made || (st.mode & 0o7777) === 0o711) fs.fchmodSync(fd, 0o700);
    } finally {
      fs.closeSync(fd);
    }
    this.rootChecked = true;
    return true;
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.dir(id), 'exec.fifo');
  }

  /** Claims `id`: creates its directory or fails when it exists. */
  claim(id: string): string {
    validateId(id);
    this.checkRoot(true);
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError('container with given ID already exists');
      throw e;
    }
    fs.chmodSync(dir, 0o700); // whatever the umask took
    return dir;
  }

  /**
   * Claims `id` for this process's create (or restore), and returns what the
   * container will own, with `record()`, which writes it to owned.json each
   * time it grows.
   */
  claimOwned(id: string, bundle: string, config: unknown): { owned: Owned; record: () => void } {
    this.claim(id);
    const owned: Owned = { id, creator: { pid: process.pid, startTime: processStartTime(process.pid) ?? '' }, bundle, config };
    return { owned, record: () => this.record(owned) };
  }

  exists(id: string): boolean {
    return this.checkRoot(false) && fs.existsSync(path.join(this.dir(id), 'state.json'));
  }

  /** Is there a directory for `id` at all (a complete, interrupted or broken container)? */
  hasDir(id: string): boolean {
    validateId(id);
    return this.checkRoot(false) && fs.existsSync(this.dir(id));
  }

  /** The container's state; a clear error (never a parse failure) when it is missing or unusable. `check` as inspect's. */
  load(id: string, check?: StateCheck): SavedState {
    const found = this.inspect(id, check);
    if (found.state) return found.state;
    throw new RuntimeError(`container ${id} ${found.problem}: \`delete --force ${id}\` removes it`);
  }

  /**
   * Everything there is to know of `id`'s directory; throws "container does
   * not exist" when there is none. `check`: what a higher layer knows makes a
   * well-formed state unusable too (src/container/status.ts: initProblem).
   */
  inspect(id: string, check?: StateCheck): Found {
    validateId(id);
    if (!this.checkRoot(false)) throw containerNotExist();
    const dir = this.dir(id);
    const owned = this.loadOwned(id);
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, 'state.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (!fs.existsSync(dir)) throw containerNotExist();
      const creating = owned && processStartTime(owned.creator.pid) === owned.creator.startTime;
      return { id, owned, problem: creating ? `is being created (by process ${owned.creator.pid})` : 'is incomplete: its create was interrupted' };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { id, owned, problem: 'has a corrupt state.json (not JSON)' };
    }
    const problem = stateProblem(parsed, id) ?? check?.(parsed as SavedState, owned);
    if (problem) return { id, owned, problem: `has a corrupt state.json (${problem})` };
    return { id, owned, state: parsed as SavedState };
  }

  /** Records what the container owns so far (owned.json, atomically). */
  record(owned: Owned): void {
    writeFileAtomic(path.join(this.dir(owned.id), 'owned.json'), JSON.stringify(owned), 0o600);
  }

  /** owned.json, or undefined when it is missing or unreadable (nothing was acquired yet, or it is lost). */
  loadOwned(id: string): Owned | undefined {
    try {
      const v: unknown = JSON.parse(fs.readFileSync(path.join(this.dir(id), 'owned.json'), 'utf8'));
      return isObject(v) && v.id === id && isObject(v.creator) ? (v as unknown as Owned) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes state.json atomically (an O_EXCL|O_NOFOLLOW temp file, then rename). */
  save(state: SavedState): void {
    writeFileAtomic(path.join(this.dir(state.id), 'state.json'), JSON.stringify(state), 0o600);
  }

  /** Name of the user owning a container's state directory, as `list` shows it. */
  ownerName(id: string): string {
    let uid: number;
    try {
      uid = fs.statSync(this.dir(id)).uid;
    } catch {
      return '';
    }
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2 && Number(f[2]) === uid) return f[0];
      }
    } catch {
      /* no passwd */
    }
    return `#${uid}`;
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** Ids of the containers with a usable state, sorted. */
  list(): string[] {
    return this.ids().filter((n) => {
      try {
        return this.inspect(n).state !== undefined;
      } catch {
        return false; // deleted meanwhile
      }
    });
  }

  /** Ids of every container directory, complete or not, sorted. */
  ids(): string[] {
    if (!this.checkRoot(false)) return [];
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.filter((n) => ID_PATTERN.test(n) && n !== '.' && n !== '..').sort();
  }
}
