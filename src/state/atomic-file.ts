// Files the runtime writes on the host, in directories a hostile user may be
// able to write (a pid file in /tmp or in a directory the user owns).
import * as fs from 'fs';
import * as path from 'path';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = fs.constants;

/**
 * Replaces `file` with `data` atomically: a temp file beside it, renamed over
 * it. The temp file is created O_EXCL|O_NOFOLLOW, so a symlink or file planted
 * at its name fails the open instead of receiving our write, and its name is
 * random, so planting one only costs a retry. Both names are looked up in the
 * directory opened once (/proc/self/fd/N): swapping a path component between
 * the create and the rename cannot send our file into another directory.
 * A symlink at `file` itself is replaced, never followed.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode: number): void {
  const abs = path.resolve(file);
  const dirFd = fs.openSync(path.dirname(abs), O_RDONLY | O_DIRECTORY);
  try {
    const inDir = (name: string): string => `/proc/self/fd/${dirFd}/${name}`;
    const base = path.basename(abs);
    for (let attempt = 0; ; attempt++) {
      const tmp = inDir(`.${base}.${Math.random().toString(36).slice(2, 12)}`);
      let fd: number;
      try {
        fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 16) continue;
        throw e;
      }
      try {
        try {
          fs.writeFileSync(fd, data);
        } finally {
          fs.closeSync(fd);
        }
        fs.renameSync(tmp, inDir(base));
      } catch (e) {
        fs.rmSync(tmp, { force: true });
        throw e;
      }
      return;
    }
  } finally {
    fs.closeSync(dirFd);
  }
}
