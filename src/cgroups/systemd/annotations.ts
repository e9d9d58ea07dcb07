// `org.systemd.property.NAME` annotations: extra unit properties, as runc
// takes them. NAME is letters only (3 or more); the value is GVariant text
// (`true`, `10`, `uint64 1024`, `@t 5`, `'text'`, `['a', 'b']`); a NAME
// ending in "Sec" (TimeoutStopSec) becomes its "USec" property with the
// value in microseconds, as systemd's D-Bus API wants it.
import { Variant } from '../../linux/sdbus';
import { type Property } from './properties';
import { RuntimeError } from '../../errors';

const PREFIX = 'org.systemd.property.';

const TYPE_WORDS: Record<string, string> = {
  boolean: 'b', byte: 'y', int16: 'n', uint16: 'q', int32: 'i', uint32: 'u', int64: 'x', uint64: 't', double: 'd', string: 's', objectpath: 'o', signature: 'g',
};

/** The unit properties the annotations ask for, in their order. */
export function annotationProperties(annotations: Record<string, string> | undefined): Property[] {
  const out: Property[] = [];
  for (const [key, text] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(PREFIX)) continue;
    let name = key.slice(PREFIX.length);
    if (!/^[A-Za-z]{3,}$/.test(name)) throw new RuntimeError(`annotation ${key} name incorrect: ${name.length < 3 ? 'too short' : 'contains non-alphabetic character'}`);
    let value: Variant;
    try {
      value = parseVariantText(text);
    } catch (e) {
      throw new RuntimeError(`annotation ${key}=${text} value parse error: ${(e as Error).message}`);
    }
    if (/[a-z]Sec$/.test(name)) {
      if (!'ynqiuxtd'.includes(value.sig) || value.sig === '') throw new RuntimeError(`annotation ${key}=${text} value parse error: not a number`);
      name = `${name.slice(0, -3)}USec`;
      value = new Variant('t', BigInt(Math.round(Number(value.value) * 1_000_000)));
    }
    out.push([name, value]);
  }
  return out;
}

/** A GVariant text value of a basic type, or an array of one. */
export function parseVariantText(text: string): Variant {
  let t = text.trim();
  let sig: string | undefined;
  const at = /^@(\S+)\s+(.*)$/s.exec(t);
  const word = /^([a-z0-9]+)\s+(.*)$/s.exec(t);
  if (at) [, sig, t] = at;
  else if (word && TYPE_WORDS[word[1]]) [sig, t] = [TYPE_WORDS[word[1]], word[2]];
  if (t.startsWith('[')) {
    if (!t.endsWith(']')) throw new Error('unterminated array');
    const items = splitItems(t.slice(1, -1));
    const elem = sig ? (sig.startsWith('a') ? sig.slice(1) : fail(`${sig} is not an array type`)) : undefined;
    const values = items.map((i) => literal(i, elem));
    const elemSig = elem ?? values[0]?.sig ?? fail('an empty array needs a type (@as [])');
    if (values.some((v) => v.sig !== elemSig)) throw new Error('array items of different types');
    return new Variant(`a${elemSig}`, values.map((v) => v.value));
  }
  return literal(t, sig);
}

function fail(msg: string): never {
  throw new Error(msg);
}

function splitItems(body: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  for (const c of body) {
    if (quote) {
      if (c === quote) quote = '';
      cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur += c;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur.trim() || out.length) out.push(cur);
  return out.map((s) => s.trim());
}

function literal(text: string, sig: string | undefined): Variant {
  const t = text.trim();
  if (/^(['"]).*\1$/s.test(t)) {
    const s = t.slice(1, -1).replace(/\\(.)/g, '$1');
    if (sig && !'sog'.includes(sig)) throw new Error(`a string is not of type ${sig}`);
    return new Variant(sig ?? 's', s);
  }
  if (t === 'true' || t === 'false') {
    if (sig && sig !== 'b') throw new Error(`${t} is not of type ${sig}`);
    return new Variant('b', t === 'true');
  }
  if (/^-?\d+$/.test(t)) {
    const type = sig ?? 'i';
    if (!'ynqiuxtd'.includes(type)) throw new Error(`${t} is not of type ${type}`);
    if ('yqut'.includes(type) && t.startsWith('-')) throw new Error(`${t} is negative for an unsigned type`);
    return new Variant(type, 'xt'.includes(type) ? BigInt(t) : Number(t));
  }
  if (/^-?\d*\.\d+(e-?\d+)?$/i.test(t)) {
    if (sig && sig !== 'd') throw new Error(`${t} is not of type ${sig}`);
    return new Variant('d', Number(t));
  }
  throw new Error(`cannot parse "${t}"`);
}
