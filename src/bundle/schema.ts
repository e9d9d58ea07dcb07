// JSON Schema validation of config.json, the state document and the features
// document. The schemas live in schemas/*.schema.json; scripts/build-validators.js
// compiles them ahead of time into dist/validators/*.js, so nothing is compiled at
// run time and a check costs a few milliseconds. This module turns the raw
// validator errors into short messages of the form "<path>: <problem>", where
// <path> is a JSON-ish path from the document root, e.g. `linux.namespaces[2].type`.

/** The error objects ajv's generated code reports (compiled with messages: false). */
interface ValidatorError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  /** Set when the error is about an object key (propertyNames). */
  propertyName?: string;
}

type Validator = ((data: unknown) => boolean) & { errors?: ValidatorError[] | null };

type Kind = 'config' | 'state' | 'features';

const loaded: Partial<Record<Kind, Validator>> = {};

// Loaded on first use only: commands that never validate should not pay for
// parsing the generated code (the config validator is ~140 kB).
function validator(kind: Kind): Validator {
  let v = loaded[kind];
  if (!v) {
    switch (kind) {
      case 'config':
        v = require('../validators/config.js') as Validator;
        break;
      case 'state':
        v = require('../validators/state.js') as Validator;
        break;
      case 'features':
        v = require('../validators/features.js') as Validator;
        break;
    }
    loaded[kind] = v;
  }
  return v;
}

function check(kind: Kind, doc: unknown): string[] {
  const validate = validator(kind);
  if (validate(doc)) return [];
  return describe(validate.errors ?? [], doc);
}

/** Problems with `config` as an OCI config.json; empty when it is valid. */
export function validateConfigSchema(config: unknown): string[] {
  return check('config', config);
}

/** Problems with `state` as an OCI state document; empty when it is valid. */
export function validateStateSchema(state: unknown): string[] {
  return check('state', state);
}

/** Problems with `f` as an OCI features document; empty when it is valid. */
export function validateFeaturesSchema(f: unknown): string[] {
  return check('features', f);
}

// ---------------------------------------------------------------------------
// Error wording

// Patterns used in schemas/, in words. A pattern missing here is still reported,
// just less readably ("must match <regex>").
const PATTERN_WORDS: Record<string, string> = {
  '^/': 'must be an absolute path',
  '^([A-Za-z]:[\\\\/]|\\\\\\\\)': 'must be an absolute Windows path',
  '^RLIMIT_[A-Z]+$': 'must be a resource limit name like "RLIMIT_NOFILE"',
  '^CAP_[A-Z_]+$': 'must be a capability name like "CAP_CHOWN"',
  '^[0-9 ,-]*$': 'must be a list of numbers and ranges like "0-3,7"',
  '^[1-9][0-9]*[KMG]B$': 'must be a page size like "64KB", "2MB" or "1GB"',
  '^MB:[^\\n]*$': 'must start with "MB:" and not contain a newline',
  '^[^\\n]*$': 'must not contain a newline',
};

function patternWords(pattern: string): string {
  if (PATTERN_WORDS[pattern]) return PATTERN_WORDS[pattern];
  // The SemVer pattern is long; recognise it by its start.
  if (pattern.startsWith('^(0|[1-9][0-9]*)\\.')) return 'must be a SemVer 2.0.0 version like "1.0.2"';
  return `must match ${pattern}`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Splits an instancePath (JSON Pointer) into its unescaped segments. */
function segments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `linux.namespaces[2].type` for "/linux/namespaces/2/type"; array indexes come from the data. */
function pathOf(pointer: string, root: unknown): string {
  let out = '';
  let node: unknown = root;
  for (const seg of segments(pointer)) {
    if (Array.isArray(node)) out += `[${seg}]`;
    else if (IDENTIFIER.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
  }
  return out || '(root)';
}

function valueAt(pointer: string, root: unknown): unknown {
  let node: unknown = root;
  for (const seg of segments(pointer)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

/** A short rendering of the offending value for "(got ...)". */
function shown(value: unknown): string {
  if (typeof value === 'string') {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 56)}..."` : s;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

const quoted = (names: unknown[]): string => names.map((n) => `"${String(n)}"`).join(', ');

function problem(e: ValidatorError, root: unknown): string {
  const p = e.params;
  const got = () => ` (got ${shown(valueAt(e.instancePath, root))})`;
  switch (e.keyword) {
    case 'required':
      return `missing required field "${String(p.missingProperty)}"`;
    case 'dependencies':
      return `"${String(p.property)}" requires "${String(p.missingProperty)}" to be set as well`;
    case 'type': {
      const types = Array.isArray(p.type) ? p.type : String(p.type).split(',');
      return `must be ${types.join(' or ')}`;
    }
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}${got()}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}${got()}`;
    case 'pattern':
      return `${patternWords(String(p.pattern))}${got()}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${String(p.comparison)} ${String(p.limit)}${got()}`;
    case 'minItems':
      return `must have at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must have at most ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long`;
    case 'additionalProperties':
      return `unknown field "${String(p.additionalProperty)}"`;
    case 'propertyNames':
      return p.propertyName === '' ? 'keys must not be empty' : `key "${String(p.propertyName)}" is not allowed`;
    case 'uniqueItems':
      return `must not contain duplicates (items ${String(p.j)} and ${String(p.i)} are equal)`;
    default:
      return `fails the "${e.keyword}" rule`;
  }
}

const isUnder = (path: string, base: string): boolean => path === base || path.startsWith(`${base}/`);

/**
 * Turns raw validator errors into messages. Noise is dropped: "if" errors only
 * say that a then/else branch failed (whose own errors are reported), a
 * propertyNames error repeats the key error nested in it, and a type error is
 * redundant next to an enum error for the same value. An anyOf/oneOf
 * failure becomes one message when every branch just asks for a different field,
 * and otherwise the errors of its closest branch (fewest errors) are kept.
 */
function describe(errors: ValidatorError[], root: unknown): string[] {
  const drop = new Set<ValidatorError>();
  const extra = new Map<ValidatorError, string>();

  errors.forEach((e, i) => {
    if (e.keyword === 'if' || e.propertyName !== undefined) drop.add(e);
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') return;
    drop.add(e);
    if (e.keyword === 'oneOf' && Array.isArray(e.params.passingSchemas)) {
      extra.set(e, 'matches more than one of the allowed forms');
      return;
    }
    // Branch errors precede the anyOf error, sit at or below its data and
    // have schema paths under it (its branches are written inline).
    const branches = new Map<string, ValidatorError[]>();
    for (const b of errors.slice(0, i)) {
      const live = !drop.has(b) || extra.has(b); // a nested anyOf counts by its summary
      if (!live || !isUnder(b.instancePath, e.instancePath)) continue;
      const m = b.schemaPath.startsWith(`${e.schemaPath}/`) ? /^\/(\d+)/.exec(b.schemaPath.slice(e.schemaPath.length)) : null;
      if (!m) continue;
      if (!branches.has(m[1])) branches.set(m[1], []);
      branches.get(m[1])!.push(b);
    }
    const all = [...branches.values()];
    if (all.length === 0) {
      extra.set(e, 'does not match any of the allowed forms');
      return;
    }
    const alternatives = all.every(
      (list) => list.length === 1 && list[0].keyword === 'required' && list[0].instancePath === e.instancePath,
    );
    if (alternatives) extra.set(e, `must set at least one of ${quoted(all.map((list) => list[0].params.missingProperty))}`);
    const keep = alternatives ? [] : all.reduce((a, b) => (b.length < a.length ? b : a));
    for (const list of all) {
      for (const b of list) {
        if (keep.includes(b)) {
          if (!extra.has(b)) drop.delete(b);
        } else {
          drop.add(b);
          extra.delete(b);
        }
      }
    }
  });

  // "must be one of a, b (got 42)" already says what a "must be string" would.
  const listed = new Set(errors.filter((e) => e.keyword === 'enum' && !drop.has(e)).map((e) => e.instancePath));
  for (const e of errors) if (e.keyword === 'type' && listed.has(e.instancePath)) drop.add(e);

  const kept = errors.filter((e) => extra.has(e) || !drop.has(e));
  const order = new Map(kept.map((e) => [e, documentOrder(e.instancePath, root)]));
  kept.sort((a, b) => compareOrder(order.get(a)!, order.get(b)!));
  const out = new Set<string>();
  for (const e of kept) out.add(`${pathOf(e.instancePath, root)}: ${extra.get(e) ?? problem(e, root)}`);
  return [...out];
}

// The validator reports in schema order (e.g. the POSIX rules after everything
// else); people read configs top to bottom, so messages follow the document:
// each path becomes the positions of its keys/indexes in their parents.
function documentOrder(pointer: string, root: unknown): number[] {
  const pos: number[] = [];
  let node: unknown = root;
  for (const seg of segments(pointer)) {
    if (node === null || typeof node !== 'object') break;
    pos.push(Array.isArray(node) ? Number(seg) : Object.keys(node).indexOf(seg));
    node = (node as Record<string, unknown>)[seg];
  }
  return pos;
}

function compareOrder(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
