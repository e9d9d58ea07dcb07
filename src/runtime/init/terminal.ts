// The container's terminal (stage 2, after pivot_root): a pty from the
// container's own devpts, the slave as stdio and controlling terminal, the
// master handed to the runtime.
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';

export interface Pty {
  master: number;
  slavePath: string;
}

export function openPty(consoleSize?: { height: number; width: number }): Pty {
  const master = sys.open('/dev/ptmx', C.O_RDWR | C.O_NOCTTY | C.O_CLOEXEC);
  const zero = Buffer.alloc(4);
  sys.ioctlPtr(master, C.TIOCSPTLCK, zero, 'TIOCSPTLCK');
  const n = Buffer.alloc(4);
  sys.ioctlPtr(master, C.TIOCGPTN, n, 'TIOCGPTN');
  const slavePath = `/dev/pts/${n.readUInt32LE(0)}`;
  if (consoleSize) setWindowSize(master, consoleSize.height, consoleSize.width);
  return { master, slavePath };
}

export function setWindowSize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  sys.ioctlPtr(fd, C.TIOCSWINSZ, ws, 'TIOCSWINSZ');
}

/** Makes the pty slave the process's stdio and controlling terminal, and (for the init) /dev/console. */
export function attachSlave(pty: Pty, bindConsole = true): void {
  const slave = sys.open(pty.slavePath, C.O_RDWR | C.O_NOCTTY);
  for (const fd of [0, 1, 2]) sys.dup3(slave, fd);
  if (slave > 2) sys.close(slave);
  sys.ioctlInt(0, C.TIOCSCTTY, 0, 'TIOCSCTTY');
  if (!bindConsole) return;
  // /dev/console is the terminal too, as in runc
  try {
    if (!fs.existsSync('/dev/console')) fs.closeSync(fs.openSync('/dev/console', 'a', 0o600));
    sys.mount(pty.slavePath, '/dev/console', null, C.MS_BIND, null);
  } catch {
    /* a read-only /dev keeps no console; the terminal still works */
  }
}
