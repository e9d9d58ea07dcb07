// A small rtnetlink client (netlink(7), rtnetlink(7)) over libc sockets: the
// few link and address requests linux.netDevices needs, with no `ip` binary.
// Synchronous, one request at a time; every request is acknowledged, so a
// failure comes back as a SyscallError-like NetlinkError naming the request.
//
// A reply counts only when the kernel sent it (sender port 0) and carries our
// sequence number: in a network namespace shared with a container, its root
// (CAP_NET_ADMIN there) can send netlink messages to our socket's port.
import { lib, errno } from './ffi';
import * as sys from './sys';
import * as C from './constants';
import { errnoName } from './errors';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_GET_STRICT_CHK = 12;
const MSG_TRUNC = 0x20;

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_DUMP_INTR = 0x10;
const NLM_F_REPLACE = 0x100;
const NLM_F_DUMP = 0x300;
const NLM_F_CREATE = 0x400;

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_NET_NS_FD = 28;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;
const IFA_FLAGS = 8;
const IFA_RT_PRIORITY = 9;
const IFA_PROTO = 11;
/** The attributes of an address worth carrying to another namespace (not its cache info or lifetimes). */
const ADDRESS_ATTRS = new Set([IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST, IFA_FLAGS, IFA_RT_PRIORITY, IFA_PROTO]);

export const IFF_UP = 0x1;
export const IFA_F_PERMANENT = 0x80;
export const RT_SCOPE_UNIVERSE = 0;
/** The longest interface name the kernel takes (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

const HDR = 16; // struct nlmsghdr
const IFINFO = 16; // struct ifinfomsg
const IFADDR = 8; // struct ifaddrmsg
const align4 = (n: number) => (n + 3) & ~3;

/** A request the kernel refused: names the request and the errno it answered. */
export class NetlinkError extends Error {
  readonly errno: number;
  readonly code: string;

  constructor(request: string, errnum: number) {
    super(`netlink ${request}: ${sys.strerror(errnum)}`);
    this.name = 'NetlinkError';
    this.errno = errnum;
    this.code = errnoName(errnum);
  }
}

export interface Link {
  index: number;
  name: string;
  flags: number;
  /** The hardware address (IFLA_ADDRESS), hex, or '' when it has none. */
  mac: string;
}

export interface Address {
  family: number;
  prefixlen: number;
  flags: number;
  scope: number;
  index: number;
  /** Its label (IPv4), or undefined. */
  label?: string;
  /** The attributes to re-create it with (type -> raw value). */
  attrs: [number, Buffer][];
}

interface Message {
  type: number;
  flags: number;
  body: Buffer;
}

function attr(type: number, data: Buffer): Buffer {
  const out = Buffer.alloc(align4(4 + data.length));
  out.writeUInt16LE(4 + data.length, 0);
  out.writeUInt16LE(type, 2);
  data.copy(out, 4);
  return out;
}

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
};
const cstr = (s: string) => Buffer.concat([Buffer.from(s), Buffer.alloc(1)]);

/** The attributes of a message from `offset` on: type (without the nested/byte-order bits) -> value. */
export function parseAttrs(body: Buffer, offset: number): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  let at = offset;
  while (at + 4 <= body.length) {
    const len = body.readUInt16LE(at);
    if (len < 4 || at + len > body.length) break;
    out.push([body.readUInt16LE(at + 2) & 0x3fff, body.subarray(at + 4, at + len)]);
    at += align4(len);
  }
  return out;
}

const str = (b: Buffer | undefined) => (b ? b.toString('utf8').replace(/\0.*$/s, '') : undefined);

function parseLink(body: Buffer): Link {
  const attrs = new Map(parseAttrs(body, IFINFO));
  return {
    index: body.readInt32LE(4),
    flags: body.readUInt32LE(8),
    name: str(attrs.get(IFLA_IFNAME)) ?? '',
    mac: attrs.get(IFLA_ADDRESS)?.toString('hex') ?? '',
  };
}

function parseAddress(body: Buffer): Address {
  const attrs = parseAttrs(body, IFADDR);
  const flagsAttr = attrs.find(([t]) => t === IFA_FLAGS)?.[1];
  return {
    family: body.readUInt8(0),
    prefixlen: body.readUInt8(1),
    flags: flagsAttr && flagsAttr.length >= 4 ? flagsAttr.readUInt32LE(0) : body.readUInt8(2),
    scope: body.readUInt8(3),
    index: body.readUInt32LE(4),
    label: str(attrs.find(([t]) => t === IFA_LABEL)?.[1]),
    attrs: attrs.filter(([t]) => ADDRESS_ATTRS.has(t)),
  };
}

function ifinfomsg(index: number, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(IFINFO);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

/** An rtnetlink socket, bound to the network namespace it was opened in. */
export class RouteSocket {
  private seq: number;
  private readonly buf = Buffer.alloc(64 * 1024);

  private constructor(readonly fd: number) {
    this.seq = Math.floor(Date.now() / 1000) & 0x7fffffff;
    // a dump filtered by the kernel (index, family), where it can
    const on = u32(1);
    lib().setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, on, 4); // older kernels: filtered here anyway
  }

  /** A socket in the calling thread's network namespace. */
  static open(): RouteSocket {
    const fd = lib().socket(AF_NETLINK, SOCK_RAW | C.SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) sys.fail('socket', ['AF_NETLINK', 'NETLINK_ROUTE']);
    const addr = Buffer.alloc(12);
    addr.writeUInt16LE(AF_NETLINK, 0);
    if (lib().bind(fd, addr, addr.length) < 0) {
      const e = errno();
      lib().close(fd);
      sys.throwErrno('bind', ['AF_NETLINK'], e);
    }
    return new RouteSocket(fd);
  }

  /**
   * A socket in the network namespace `netnsFd`: the calling thread enters it
   * only to make the socket (setns(2) moves one thread) and comes back at once.
   */
  static openIn(netnsFd: number, what: string): RouteSocket {
    const home = sys.open('/proc/thread-self/ns/net', C.O_RDONLY | C.O_CLOEXEC);
    try {
      sys.setns(netnsFd, C.CLONE_NEWNET, what);
      try {
        return RouteSocket.open();
      } finally {
        // never go on in the wrong namespace
        if (lib().setns(home, C.CLONE_NEWNET) < 0) throw new Error(`cannot return to the runtime's network namespace: ${sys.strerror(errno())}`);
      }
    } finally {
      sys.close(home);
    }
  }

  /** The port the kernel gave this socket (sockaddr_nl.nl_pid). */
  portId(): number {
    const addr = Buffer.alloc(12);
    const len = [12];
    if (lib().getsockname(this.fd, addr, len) < 0) sys.fail('getsockname', [this.fd]);
    return addr.readUInt32LE(4);
  }

  /** The sequence number the next request carries. */
  nextSeq(): number {
    return this.seq + 1;
  }

  close(): void {
    sys.close(this.fd);
  }

  /**
   * Sends one request and returns the messages answering it: up to the
   * acknowledgement, or (a dump) up to NLMSG_DONE. A dump interrupted by a
   * change (NLM_F_DUMP_INTR) is read again, a few times.
   */
  private request(what: string, type: number, flags: number, payload: Buffer[]): Message[] {
    for (let attempt = 0; ; attempt++) {
      const { messages, interrupted } = this.exchange(what, type, flags, payload);
      if (!interrupted || attempt >= 4) return messages;
    }
  }

  private exchange(what: string, type: number, flags: number, payload: Buffer[]): { messages: Message[]; interrupted: boolean } {
    const seq = ++this.seq;
    const body = Buffer.concat(payload);
    const msg = Buffer.alloc(HDR + body.length);
    msg.writeUInt32LE(msg.length, 0);
    msg.writeUInt16LE(type, 4);
    msg.writeUInt16LE(flags | NLM_F_REQUEST, 6);
    msg.writeUInt32LE(seq, 8);
    body.copy(msg, HDR);
    const kernel = Buffer.alloc(12);
    kernel.writeUInt16LE(AF_NETLINK, 0);
    for (;;) {
      if (Number(lib().sendto(this.fd, msg, msg.length, 0, kernel, kernel.length)) >= 0) break;
      if (errno() !== 4 /* EINTR */) sys.fail('sendto', ['AF_NETLINK', what]);
    }
    const dump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
    const messages: Message[] = [];
    let interrupted = false;
    for (;;) {
      for (const m of this.receive(what, seq)) {
        if (m.flags & NLM_F_DUMP_INTR) interrupted = true;
        if (m.type === NLMSG_ERROR || (m.type === NLMSG_DONE && m.body.length >= 4)) {
          const err = m.body.readInt32LE(0);
          if (err < 0) throw new NetlinkError(what, -err);
          if (m.type === NLMSG_ERROR && !dump) return { messages, interrupted };
          if (m.type === NLMSG_DONE) return { messages, interrupted };
          continue;
        }
        if (m.type === NLMSG_DONE) return { messages, interrupted };
        messages.push(m);
      }
    }
  }

  /** The next datagram's messages of sequence `seq` that the kernel sent. */
  private receive(what: string, seq: number): Message[] {
    const from = Buffer.alloc(12);
    let n: number;
    for (;;) {
      const fromLen = [from.length];
      n = Number(lib().recvfrom(this.fd, this.buf, this.buf.length, MSG_TRUNC, from, fromLen));
      if (n >= 0) break;
      if (errno() !== 4) sys.fail('recvfrom', ['AF_NETLINK', what]);
    }
    if (n > this.buf.length) throw new Error(`netlink: a reply to ${what} of ${n} bytes is larger than the ${this.buf.length}-byte buffer`);
    if (from.readUInt16LE(0) !== AF_NETLINK || from.readUInt32LE(4) !== 0) return []; // not from the kernel
    const out: Message[] = [];
    let at = 0;
    while (at + HDR <= n) {
      const len = this.buf.readUInt32LE(at);
      if (len < HDR || at + len > n) break;
      if (this.buf.readUInt32LE(at + 8) === seq) {
        out.push({ type: this.buf.readUInt16LE(at + 4), flags: this.buf.readUInt16LE(at + 6), body: Buffer.from(this.buf.subarray(at + HDR, at + len)) });
      }
      at += align4(len);
    }
    return out;
  }

  /** The link named `name`, or undefined when there is none. */
  linkByName(name: string): Link | undefined {
    return this.getLink(`RTM_GETLINK ${JSON.stringify(name)}`, [ifinfomsg(0), attr(IFLA_IFNAME, cstr(name))]);
  }

  /** The link of index `index`, or undefined when there is none. */
  linkByIndex(index: number): Link | undefined {
    return this.getLink(`RTM_GETLINK index ${index}`, [ifinfomsg(index)]);
  }

  private getLink(what: string, payload: Buffer[]): Link | undefined {
    try {
      const m = this.request(what, RTM_GETLINK, NLM_F_ACK, payload).find((x) => x.type === RTM_NEWLINK);
      return m && parseLink(m.body);
    } catch (e) {
      if ((e as NetlinkError).code === 'ENODEV') return undefined;
      throw e;
    }
  }

  /** Every link of the namespace. */
  links(): Link[] {
    return this.request('RTM_GETLINK dump', RTM_GETLINK, NLM_F_DUMP, [ifinfomsg(0)])
      .filter((m) => m.type === RTM_NEWLINK)
      .map((m) => parseLink(m.body));
  }

  /** The addresses (every family) of link `index`. */
  addresses(index: number): Address[] {
    const req = Buffer.alloc(IFADDR);
    req.writeUInt32LE(index, 4);
    return this.request(`RTM_GETADDR index ${index}`, RTM_GETADDR, NLM_F_DUMP, [req])
      .filter((m) => m.type === RTM_NEWADDR)
      .map((m) => parseAddress(m.body))
      .filter((a) => a.index === index);
  }

  /**
   * Moves link `index` into the network namespace `netnsFd` and names it
   * `name` there, in one request: the kernel does both or neither. A name
   * with "%d" is a template the kernel completes.
   */
  moveLink(index: number, netnsFd: number, name: string): void {
    this.request(`RTM_NEWLINK index ${index} IFLA_NET_NS_FD IFLA_IFNAME ${JSON.stringify(name)}`, RTM_NEWLINK, NLM_F_ACK, [
      ifinfomsg(index),
      attr(IFLA_NET_NS_FD, u32(netnsFd)),
      attr(IFLA_IFNAME, cstr(name)),
    ]);
  }

  /** Adds `a` (from addresses(), of any link) to link `index`, with `label` for its IPv4 label. */
  addAddress(index: number, a: Address, label?: string): void {
    const msg = Buffer.alloc(IFADDR);
    msg.writeUInt8(a.family, 0);
    msg.writeUInt8(a.prefixlen, 1);
    msg.writeUInt8(a.flags & 0xff, 2);
    msg.writeUInt8(a.scope, 3);
    msg.writeUInt32LE(index, 4);
    const attrs = a.attrs.map(([t, v]) => attr(t, v));
    if (label !== undefined) attrs.push(attr(IFA_LABEL, cstr(label)));
    this.request(`RTM_NEWADDR index ${index}`, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, [msg, ...attrs]);
  }

  /** Sets link `index` up. */
  setUp(index: number): void {
    this.request(`RTM_NEWLINK index ${index} up`, RTM_NEWLINK, NLM_F_ACK, [ifinfomsg(index, IFF_UP, IFF_UP)]);
  }
}

/**
 * Why `name` cannot name a network device (the kernel's dev_valid_name and,
 * with `template`, dev_alloc_name's one "%d"), or undefined when it can.
 */
export function deviceNameProblem(name: string, template: boolean): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (Buffer.byteLength(name) > IFNAME_MAX) return `longer than ${IFNAME_MAX} bytes`;
  if (name === '.' || name === '..') return `"${name}" is not a name`;
  if (/[/: \t\n\v\f\r]/.test(name)) return 'it contains "/", ":" or white space';
  if (name.includes('%')) {
    if (!template) return 'it contains "%"';
    if (!/^[^%]*%d[^%]*$/.test(name)) return 'a template has exactly one "%d" and no other "%"';
  }
  return undefined;
}
