// The state directory: <root>/<id>/state.json, one directory per container.
// Creating the directory is the lock that makes a container id unique: of two
// concurrent `create`s of one id, mkdir succeeds for exactly one.
import * as fs from 'fs';
import * as path from 'path';
import { RuntimeError, containerNotExist } from '../errors';

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
  cgroup?: { version: 1 | 2; paths: Record<string, string>; created: boolean };
  /** Namespace paths of the init, for exec and for hooks. */
  namespacePaths?: Record<string, string>;
  /** Set when the container's init was started by `start`. */
  started?: boolean;
  /** The config as it was at create time (later commands never re-read the bundle). */
  config: unknown;
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
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.dir(id), 'exec.fifo');
  }

  /** Claims `id`: creates its directory or fails when it exists. */
  claim(id: string): string {
    validateId(id);
    fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError('container with given ID already exists');
      throw e;
    }
    return dir;
  }

  exists(id: string): boolean {
    return fs.existsSync(path.join(this.dir(id), 'state.json'));
  }

  load(id: string): SavedState {
    validateId(id);
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir(id), 'state.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw containerNotExist();
      throw e;
    }
    return JSON.parse(text) as SavedState;
  }

  /** Writes state.json atomically (write to a temporary file, then rename). */
  save(state: SavedState): void {
    const dir = this.dir(state.id);
    const tmp = path.join(dir, `.state.json.${process.pid}`);
    fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    fs.renameSync(tmp, path.join(dir, 'state.json'));
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

  /** Ids of the containers with a saved state, sorted. */
  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.filter((n) => ID_PATTERN.test(n) && this.exists(n)).sort();
  }
}
