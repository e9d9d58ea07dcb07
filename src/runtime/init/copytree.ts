// Copying a directory of the image into a new tmpfs (tmpcopyup), by fd: every
// entry is opened with O_NOFOLLOW beneath the fd of its directory, so a
// container that swaps an entry for a symlink mid-copy makes the copy fail,
// never read a host file. Symlinks are copied as links, devices and fifos as
// nodes, with owner, mode and (files) times. Synchronous: runs in the init.
import * as fs from 'fs';
import * as sys from '../../linux/sys';
import * as C from '../../linux/constants';
import { fdLink } from '../../linux/inroot';

const CHUNK = 64 * 1024;

function copyFile(src: number, name: string, dst: number, st: sys.Statx): void {
  const from = sys.openat(src, name, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_CLOEXEC);
  try {
    const to = sys.openat(dst, name, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_CLOEXEC, st.mode & 0o7777);
    try {
      const buf = Buffer.allocUnsafe(CHUNK);
      for (let n; (n = fs.readSync(from, buf, 0, CHUNK, null)) > 0;) fs.writeSync(to, buf, 0, n);
      const times = fs.fstatSync(from);
      fs.futimesSync(to, times.atime, times.mtime);
    } finally {
      sys.close(to);
    }
  } finally {
    sys.close(from);
  }
}

/** Copies the contents of the directory `src` (an fd) into the directory `dst` (an fd). */
export function copyTree(src: number, dst: number): void {
  for (const name of fs.readdirSync(fdLink(src))) {
    const st = sys.statx(src, name, C.AT_SYMLINK_NOFOLLOW);
    const type = st.mode & C.S_IFMT;
    if (type === C.S_IFDIR) {
      sys.mkdirat(dst, name, st.mode & 0o7777);
      const from = sys.openat(src, name, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC);
      const to = sys.openat(dst, name, C.O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_CLOEXEC);
      try {
        copyTree(from, to);
      } finally {
        sys.close(from);
        sys.close(to);
      }
    } else if (type === C.S_IFREG) {
      copyFile(src, name, dst, st);
    } else if (type === C.S_IFLNK) {
      sys.symlinkat(sys.readlinkat(src, name), dst, name);
    } else {
      sys.mknodat(dst, name, st.mode, st.rdevMajor, st.rdevMinor); // fifo, socket, device
    }
    sys.fchownat(dst, name, st.uid, st.gid, C.AT_SYMLINK_NOFOLLOW);
  }
}
