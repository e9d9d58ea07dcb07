// A small protocol-buffers (proto2) wire codec for CRIU's RPC messages: the
// few scalar types and nested messages criu's rpc.proto uses, described by a
// schema per message. Unknown fields are skipped when decoding, as protobuf
// requires, so a newer CRIU's answers still decode.

export type FieldType = 'int32' | 'uint32' | 'bool' | 'enum' | 'string' | 'message';

export interface FieldDef {
  no: number;
  type: FieldType;
  repeated?: boolean;
  /** The schema of a 'message' field. */
  message?: Schema;
}

export type Schema = Record<string, FieldDef>;

export type ProtoValue = number | boolean | string | ProtoMessage | ProtoValue[];
export interface ProtoMessage {
  [field: string]: ProtoValue | undefined;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

function wireOf(type: FieldType): number {
  return type === 'string' || type === 'message' ? WIRE_LEN : WIRE_VARINT;
}

function pushVarint(out: number[], value: bigint): void {
  let v = BigInt.asUintN(64, value);
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
}

function pushBytes(out: number[], bytes: Uint8Array): void {
  pushVarint(out, BigInt(bytes.length));
  for (const b of bytes) out.push(b);
}

function encodeValue(out: number[], def: FieldDef, name: string, value: ProtoValue): void {
  pushVarint(out, BigInt((def.no << 3) | wireOf(def.type)));
  switch (def.type) {
    case 'int32':
    case 'enum':
      // negative int32s take ten bytes: sign-extended to 64 bits
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${name}: not an integer`);
      pushVarint(out, BigInt(value));
      break;
    case 'uint32':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new TypeError(`${name}: not an unsigned integer`);
      pushVarint(out, BigInt(value));
      break;
    case 'bool':
      pushVarint(out, value ? 1n : 0n);
      break;
    case 'string':
      pushBytes(out, Buffer.from(String(value), 'utf8'));
      break;
    case 'message':
      pushBytes(out, encode(def.message!, value as ProtoMessage));
      break;
  }
}

/** The wire form of `msg` (fields left undefined are absent). */
export function encode(schema: Schema, msg: ProtoMessage): Buffer {
  const out: number[] = [];
  for (const [name, def] of Object.entries(schema).sort((a, b) => a[1].no - b[1].no)) {
    const value = msg[name];
    if (value === undefined) continue;
    if (def.repeated) {
      if (!Array.isArray(value)) throw new TypeError(`${name}: repeated field is not an array`);
      for (const v of value) encodeValue(out, def, name, v);
    } else {
      encodeValue(out, def, name, value);
    }
  }
  for (const name of Object.keys(msg)) if (!(name in schema) && msg[name] !== undefined) throw new TypeError(`unknown field ${name}`);
  return Buffer.from(out);
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return BigInt.asUintN(64, result);
    }
    throw new Error('varint longer than 10 bytes');
  }

  bytes(): Buffer {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new Error('truncated length-delimited field');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LEN) this.bytes();
    else if (wire === WIRE_FIXED64) this.pos += 8;
    else if (wire === WIRE_FIXED32) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.buf.length) throw new Error('truncated field');
  }
}

/** Decodes `buf` as a message of `schema`; absent fields stay undefined, repeated ones are arrays. */
export function decode(schema: Schema, buf: Buffer): ProtoMessage {
  const byNo = new Map(Object.entries(schema).map(([name, def]) => [def.no, { name, def }]));
  const msg: ProtoMessage = {};
  const r = new Reader(buf);
  while (!r.done) {
    const key = r.varint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    const field = byNo.get(no);
    if (!field || wire !== wireOf(field.def.type)) {
      r.skip(wire);
      continue;
    }
    let value: ProtoValue;
    switch (field.def.type) {
      case 'int32':
      case 'enum':
        value = Number(BigInt.asIntN(32, r.varint()));
        break;
      case 'uint32':
        value = Number(BigInt.asUintN(32, r.varint()));
        break;
      case 'bool':
        value = r.varint() !== 0n;
        break;
      case 'string':
        value = r.bytes().toString('utf8');
        break;
      default:
        value = decode(field.def.message!, r.bytes());
    }
    if (field.def.repeated) ((msg[field.name] ??= []) as ProtoValue[]).push(value);
    else msg[field.name] = value;
  }
  return msg;
}
