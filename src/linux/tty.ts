// A terminal's window size (the pty master the init hands over, and the
// relay of `run`'s terminal).
import * as sys from './sys';
import * as C from './constants';

export function setWindowSize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  sys.ioctlPtr(fd, C.TIOCSWINSZ, ws, 'TIOCSWINSZ');
}
