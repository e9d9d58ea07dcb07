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

  exists(id: string): boolean {
    return this.checkRoot(false) && fs.existsSync(path.join(this.dir(id), 'state.json'));
  }

  load(id: string): SavedState {
    validateId(id);
    if (!this.checkRoot(false)) throw containerNotExist();
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir(id), 'state.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw containerNotExist();
      throw e;
    }
    return JSON.parse(text) as SavedState;
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

  /** Ids of the containers with a saved state, sorted. */
  list(): string[] {
    if (!this.checkRoot(false)) return [];
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
