// Messages with file descriptors over AF_UNIX sockets (SCM_RIGHTS).
import { lib, errno } from './ffi';
import { SyscallError } from './errors';
import * as C from './constants';
import { fail } from './sys';

const CMSG_HDR = 16; // struct cmsghdr on 64-bit: size_t len; int level; int type
const CMSG_SPACE_1FD = 24;

/** Sends `payload` as one message, with `fd` attached when given. */
export function sendMsg(sock: number, payload: Buffer, fd?: number): void {
  let control: Buffer | null = null;
  if (fd !== undefined) {
    control = Buffer.alloc(CMSG_SPACE_1FD);
    control.writeBigUInt64LE(BigInt(CMSG_HDR + 4), 0);
    control.writeInt32LE(C.SOL_SOCKET, 8);
    control.writeInt32LE(C.SCM_RIGHTS, 12);
    control.writeInt32LE(fd, 16);
  }
  const msg = {
    msg_name: null,
    msg_namelen: 0,
    msg_iov: { iov_base: payload, iov_len: payload.length },
    msg_iovlen: 1,
    msg_control: control,
    msg_controllen: control ? control.length : 0,
    msg_flags: 0,
  };
  for (;;) {
    const r = Number(lib().sendmsg(sock, msg, 0x4000 /* MSG_NOSIGNAL */));
    if (r >= 0) return;
    if (errno() !== 4) fail('sendmsg', [sock]);
  }
}

export interface Received {
  data: Buffer;
  fd?: number;
}

/** Receives one message (at most `max` bytes) and an attached fd if any; data is empty at EOF. */
export function recvMsg(sock: number, max = 65536): Received {
  const buf = Buffer.alloc(max);
  const control = Buffer.alloc(CMSG_SPACE_1FD);
  const msg = {
    msg_name: null,
    msg_namelen: 0,
    msg_iov: { iov_base: buf, iov_len: max },
    msg_iovlen: 1,
    msg_control: control,
    msg_controllen: control.length,
    msg_flags: 0,
  };
  let n: number;
  for (;;) {
    n = Number(lib().recvmsg(sock, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */));
    if (n >= 0) break;
    if (errno() !== 4) fail('recvmsg', [sock]);
  }
  const out: Received = { data: buf.subarray(0, n) };
  const clen = Number(msg.msg_controllen);
  if (clen >= CMSG_HDR + 4 && control.readInt32LE(8) === C.SOL_SOCKET && control.readInt32LE(12) === C.SCM_RIGHTS) {
    out.fd = control.readInt32LE(16);
  }
  return out;
}

/** Connects a new AF_UNIX stream socket to `path` ("@name": an abstract socket) (close-on-exec). */
export function connectUnix(path: string): number {
  const l = lib();
  const fd = l.socket(C.AF_UNIX, C.SOCK_STREAM | C.SOCK_CLOEXEC, 0);
  if (fd < 0) fail('socket', ['AF_UNIX', 'SOCK_STREAM']);
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(C.AF_UNIX, 0);
  // "@name": the abstract socket "\0name" (as Go's net.Dial, and so runc, read it); its length has no trailing NUL
  const abstract = path.startsWith('@');
  const p = abstract ? Buffer.concat([Buffer.from([0]), Buffer.from(path.slice(1))]) : Buffer.from(path);
  if (p.length > 107) {
    l.close(fd);
    throw new Error(`socket path too long: ${path}`);
  }
  p.copy(addr, 2);
  if (l.connect(fd, addr, 2 + p.length + (abstract ? 0 : 1)) < 0) {
    const e = errno();
    l.close(fd);
    throw new SyscallError('connect', [path], e, String(l.strerror(e)));
  }
  return fd;
}
