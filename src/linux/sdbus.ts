// A D-Bus client over libsystemd's sd-bus, through koffi: synchronous method
// calls with their arguments marshalled from a D-Bus signature, for the
// systemd cgroup driver. sd-bus rather than a JS client: it is on every host
// that runs systemd (libsystemd0), its calls block, as the rest of the runtime
// does, and loading it costs nothing to commands that never use systemd (the
// library is opened on the first call).
import { koffiModule } from './ffi';
import { SyscallError, errnoName } from './errors';

/** A value of D-Bus type `sig`, for a `v` argument. */
export class Variant {
  constructor(readonly sig: string, readonly value: unknown) {}
}

/** An error reply: `dbusName` is the D-Bus error name (org.freedesktop.systemd1.NoSuchUnit, ...). */
export class DBusError extends Error {
  constructor(readonly call: string, readonly dbusName: string, message: string) {
    super(`${call}: ${message} (${dbusName})`);
    this.name = 'DBusError';
  }
}

type Ptr = unknown;

function declare() {
  const koffi = koffiModule();
  const lib = koffi.load('libsystemd.so.0');
  koffi.opaque('sd_bus');
  koffi.opaque('sd_bus_message');
  const errType = koffi.struct('sd_bus_error', { name: 'const char *', message: 'const char *', _need_free: 'int' });
  const f = (sig: string) => lib.func(sig);
  const as = (name: string, ret: string, args: string[]) => lib.func(name, ret, args);
  return {
    koffi,
    errType,
    openSystem: f('int sd_bus_open_system(_Out_ sd_bus **ret)'),
    openUser: f('int sd_bus_open_user(_Out_ sd_bus **ret)'),
    close: f('sd_bus *sd_bus_flush_close_unref(sd_bus *bus)'),
    newCall: f('int sd_bus_message_new_method_call(sd_bus *bus, _Out_ sd_bus_message **m, const char *dest, const char *path, const char *iface, const char *member)'),
    appendStr: as('sd_bus_message_append_basic', 'int', ['sd_bus_message *', 'char', 'const char *']),
    appendRaw: as('sd_bus_message_append_basic', 'int', ['sd_bus_message *', 'char', 'const void *']),
    open: f('int sd_bus_message_open_container(sd_bus_message *m, char type, const char *contents)'),
    closeContainer: f('int sd_bus_message_close_container(sd_bus_message *m)'),
    call: f('int sd_bus_call(sd_bus *bus, sd_bus_message *m, uint64_t usec, void *err, _Out_ sd_bus_message **reply)'),
    readStr: as('sd_bus_message_read_basic', 'int', ['sd_bus_message *', 'char', '_Out_ const char **']),
    readRaw: as('sd_bus_message_read_basic', 'int', ['sd_bus_message *', 'char', 'void *']),
    enter: f('int sd_bus_message_enter_container(sd_bus_message *m, char type, const char *contents)'),
    exit: f('int sd_bus_message_exit_container(sd_bus_message *m)'),
    unref: f('sd_bus_message *sd_bus_message_unref(sd_bus_message *m)'),
    errorFree: f('void sd_bus_error_free(void *err)'),
  };
}

let bound: ReturnType<typeof declare> | undefined;
const sd = () => (bound ??= declare());

const ch = (c: string) => c.charCodeAt(0);

/** Throws for a negative sd-bus return (-errno). */
function check(call: string, r: number): number {
  if (r < 0) throw new SyscallError(call, [], -r, errnoName(-r));
  return r;
}

/** The complete types of a D-Bus signature, in order ("sa(sv)" -> ["s", "a(sv)"]). */
export function splitSignature(sig: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sig.length;) {
    const end = completeTypeEnd(sig, i);
    out.push(sig.slice(i, end));
    i = end;
  }
  return out;
}

function completeTypeEnd(sig: string, i: number): number {
  const c = sig[i];
  if (c === 'a') return completeTypeEnd(sig, i + 1);
  if (c === '(' || c === '{') {
    let depth = 0;
    for (let j = i; j < sig.length; j++) {
      if (sig[j] === '(' || sig[j] === '{') depth++;
      else if (sig[j] === ')' || sig[j] === '}') {
        if (--depth === 0) return j + 1;
      }
    }
  } else if (c !== undefined && 'ybnqiuxtdsogvh'.includes(c)) {
    return i + 1;
  }
  throw new Error(`bad D-Bus signature "${sig}"`);
}

/** The little-endian bytes of a fixed-size basic value. */
function raw(type: string, v: unknown): Buffer {
  const n = typeof v === 'boolean' ? Number(v) : v;
  switch (type) {
    case 'y': return Buffer.from([Number(n) & 0xff]);
    case 'n': { const b = Buffer.alloc(2); b.writeInt16LE(Number(n)); return b; }
    case 'q': { const b = Buffer.alloc(2); b.writeUInt16LE(Number(n)); return b; }
    case 'b': case 'i': { const b = Buffer.alloc(4); b.writeInt32LE(Number(n)); return b; }
    case 'u': { const b = Buffer.alloc(4); b.writeUInt32LE(Number(n)); return b; }
    case 'x': { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n as number | bigint)); return b; }
    case 't': { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n as number | bigint)); return b; }
    case 'd': { const b = Buffer.alloc(8); b.writeDoubleLE(Number(n)); return b; }
    default: throw new Error(`D-Bus type ${type} cannot be sent`);
  }
}

/** Appends `value` as D-Bus type `type` (arrays and structs as JS arrays, dict entries as [key, value], variants as Variant). */
function append(m: Ptr, type: string, value: unknown): void {
  const s = sd();
  const container = (kind: string, contents: string, body: () => void) => {
    check('sd_bus_message_open_container', s.open(m, ch(kind), contents));
    body();
    check('sd_bus_message_close_container', s.closeContainer(m));
  };
  switch (type[0]) {
    case 'a': {
      const elem = type.slice(1);
      container('a', elem, () => (value as unknown[]).forEach((v) => append(m, elem, v)));
      return;
    }
    case '(':
    case '{': {
      const inner = type.slice(1, -1);
      container(type[0] === '(' ? 'r' : 'e', inner, () => splitSignature(inner).forEach((t, i) => append(m, t, (value as unknown[])[i])));
      return;
    }
    case 'v': {
      const v = value as Variant;
      container('v', v.sig, () => append(m, v.sig, v.value));
      return;
    }
    case 's':
    case 'o':
    case 'g':
      check('sd_bus_message_append_basic', s.appendStr(m, ch(type), String(value)));
      return;
    default:
      check('sd_bus_message_append_basic', s.appendRaw(m, ch(type), raw(type, value)));
  }
}

/** A method reply; read its values in order, then free it. */
export class Reply {
  constructor(private readonly m: Ptr) {}

  /** The next value of basic type `type` (strings as strings, 64-bit integers as bigint). */
  read(type: string): string | number | bigint | boolean {
    const s = sd();
    if ('sog'.includes(type)) {
      const out: (string | null)[] = [null];
      check('sd_bus_message_read_basic', s.readStr(this.m, ch(type), out));
      return out[0] ?? '';
    }
    const b = Buffer.alloc(8);
    check('sd_bus_message_read_basic', s.readRaw(this.m, ch(type), b));
    switch (type) {
      case 'y': return b.readUInt8(0);
      case 'b': return b.readInt32LE(0) !== 0;
      case 'n': return b.readInt16LE(0);
      case 'q': return b.readUInt16LE(0);
      case 'i': return b.readInt32LE(0);
      case 'u': return b.readUInt32LE(0);
      case 'x': return b.readBigInt64LE(0);
      case 't': return b.readBigUInt64LE(0);
      case 'd': return b.readDoubleLE(0);
      default: throw new Error(`D-Bus type ${type} cannot be read here`);
    }
  }

  /** The next value, a variant holding basic type `type`. */
  readVariant(type: string): string | number | bigint | boolean {
    const s = sd();
    check('sd_bus_message_enter_container', s.enter(this.m, ch('v'), type));
    const v = this.read(type);
    check('sd_bus_message_exit_container', s.exit(this.m));
    return v;
  }

  free(): void {
    sd().unref(this.m);
  }
}

/** A connection to the system bus (or the user's bus, for rootless systemd). */
export class Bus {
  private constructor(private ptr: Ptr) {}

  static system(): Bus {
    const out: Ptr[] = [null];
    check('sd_bus_open_system', sd().openSystem(out));
    return new Bus(out[0]);
  }

  static user(): Bus {
    const out: Ptr[] = [null];
    check('sd_bus_open_user', sd().openUser(out));
    return new Bus(out[0]);
  }

  /**
   * Calls `iface.member` on `path` of `dest` with `args` of signature `sig`,
   * waiting up to `timeoutUs` (0: sd-bus's default, 25 s). An error reply
   * throws a DBusError.
   */
  call(dest: string, path: string, iface: string, member: string, sig = '', args: unknown[] = [], timeoutUs = 0n): Reply {
    const s = sd();
    const what = `${iface}.${member}`;
    const mOut: Ptr[] = [null];
    check('sd_bus_message_new_method_call', s.newCall(this.ptr, mOut, dest, path, iface, member));
    const m = mOut[0];
    const err = Buffer.alloc(s.koffi.sizeof(s.errType));
    try {
      splitSignature(sig).forEach((t, i) => append(m, t, args[i]));
      const rOut: Ptr[] = [null];
      const r = s.call(this.ptr, m, timeoutUs, err, rOut);
      if (r < 0) {
        const e = s.koffi.decode(err, s.errType) as { name: string | null; message: string | null };
        if (e.name) throw new DBusError(what, e.name, e.message ?? e.name);
        throw new SyscallError(`sd_bus_call ${what}`, [], -r, errnoName(-r));
      }
      return new Reply(rOut[0]);
    } finally {
      s.errorFree(err);
      s.unref(m);
    }
  }

  close(): void {
    if (this.ptr) sd().close(this.ptr);
    this.ptr = null;
  }
}
