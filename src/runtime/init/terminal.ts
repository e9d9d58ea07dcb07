// The container's terminal (stage 2, after pivot_root; exec's stage 2 in the
// container's mount namespace): a pty from the container's own devpts, the
// slave as stdio and controlling terminal, the master handed to the runtime.
// Neither end is reached through a path the container could have replaced
// (CVE-2025-52565): the ptmx is checked to be devpts's own, the slave is the
// master's peer (TIOCGPTPEER), and /dev/console is bound from the slave's fd.
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { createFileInRoot } from '../../linux/inroot';
import { setWindowSize } from '../../linux/tty';
import { bindOnto, reopenMounted } from './mounts';

export interface Pty {
  master: number;
  slave: number;
}

/** An fd's file is the char device major:minor on devpts (throws naming `what` otherwise). */
function checkDevpts(fd: number, what: string, major: number, minor?: number): void {
  const type = sys.fstatfsType(fd);
  if (type !== C.DEVPTS_SUPER_MAGIC) throw new Error(`${what} is not on a devpts mount (filesystem type 0x${type.toString(16)})`);
  const st = sys.fstatx(fd);
  if ((st.mode & C.S_IFMT) !== C.S_IFCHR || st.rdevMajor !== major || (minor !== undefined && st.rdevMinor !== minor)) {
    throw new Error(`${what} is not the expected character device (${st.rdevMajor}:${st.rdevMinor})`);
  }
}

/** The slave of a master: its peer where the kernel has TIOCGPTPEER (4.13), else /dev/pts/N checked by fd. */
function openSlave(master: number): number {
  const peer = sys.tryIoctlFd(master, C.TIOCGPTPEER, C.O_RDWR | C.O_NOCTTY | C.O_CLOEXEC);
  if (peer >= 0) return peer;
  const n = Buffer.alloc(4);
  sys.ioctlPtr(master, C.TIOCGPTN, n, 'TIOCGPTN');
  const index = n.readUInt32LE(0);
  const slave = sys.open(`/dev/pts/${index}`, C.O_RDWR | C.O_NOCTTY | C.O_NOFOLLOW | C.O_CLOEXEC);
  try {
    checkDevpts(slave, `/dev/pts/${index}`, 136 + (index >> 20), index & 0xfffff);
  } catch (e) {
    sys.close(slave);
    throw e;
  }
  return slave;
}

export function openPty(consoleSize?: { height: number; width: number }): Pty {
  // the devpts instance's own ptmx, not /dev/ptmx: that is a link the image could point anywhere
  const master = sys.open('/dev/pts/ptmx', C.O_RDWR | C.O_NOCTTY | C.O_NOFOLLOW | C.O_CLOEXEC);
  try {
    checkDevpts(master, '/dev/pts/ptmx', 5, 2);
    sys.ioctlPtr(master, C.TIOCSPTLCK, Buffer.alloc(4), 'TIOCSPTLCK');
    if (consoleSize) setWindowSize(master, consoleSize.height, consoleSize.width);
    return { master, slave: openSlave(master) };
  } catch (e) {
    sys.close(master);
    throw e;
  }
}

/** Makes the pty slave the process's stdio and controlling terminal, and (for the init) /dev/console. */
export function attachSlave(pty: Pty, bindConsole = true): void {
  for (const fd of [0, 1, 2]) sys.dup3(pty.slave, fd);
  if (pty.slave > 2) sys.close(pty.slave);
  sys.ioctlInt(0, C.TIOCSCTTY, 0, 'TIOCSCTTY');
  if (bindConsole) bindDevConsole();
}

/** /dev/console is the terminal too, as in runc: the slave (fd 0 now) bound onto it by fd. */
function bindDevConsole(): void {
  let root: number | undefined;
  let target: number | undefined;
  try {
    root = sys.open('/', C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
    target = createFileInRoot(root, '/dev/console', 0o600);
    const ref = { fd: root, path: '/' };
    const into = target;
    sys.close(bindOnto(into, 0, false, 0, 0, () => reopenMounted(ref, '/dev/console', into)));
  } catch {
    /* a read-only /dev keeps no console; the terminal still works */
  } finally {
    if (target !== undefined) sys.close(target);
    if (root !== undefined) sys.close(root);
  }
}
