// Command output on stdout, written with write(2) directly: setting up
// process.stdout (a stream) costs about 9 ms, a tenth of a short command.
import * as fs from 'fs';
import { sleepMs } from '../linux/sys';

/** Writes all of `text` to fd 1, waiting out EAGAIN when the caller handed us a non-blocking pipe. */
export function printOut(text: string): void {
  let buf = Buffer.from(text, 'utf8');
  while (buf.length > 0) {
    try {
      buf = buf.subarray(fs.writeSync(1, buf));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      sleepMs(5);
    }
  }
}
