// Reading the JSON files a caller hands us (config.json, exec's process.json,
// which may be a pipe: `exec -p <(...)`) with bounded memory: a file larger
// than MAX_JSON_BYTES is refused after reading at most that much (a pipe or
// standard input too), and one nested deeper
// than MAX_JSON_DEPTH is refused before JSON.parse builds it (a 1M-deep
// `[[[...]]]` of 2 MB took 215 MB and 1.4 s to parse and validate, 10M-deep
// 1.6 GB and 25 s).
import * as fs from 'fs';
import { RuntimeError } from '../errors';
import { pollIn } from '../linux/sys';

/**
 * Real configs are a few KB to a few hundred (a large seccomp profile,
 * thousands of mounts); Kubernetes caps a pod's annotations at 256 KB.
 */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** Go's encoding/json limit, which runc 1.1.5 hits with "exceeded max depth". */
export const MAX_JSON_DEPTH = 10000;

/**
 * Reads `file` whole, or throws once more than `limit` bytes have come. A
 * pipe is read as runc reads it (process substitution, /dev/fd/N), opened
 * without blocking (a FIFO without a writer reads as empty instead of
 * hanging); devices and the like are refused.
 */
function readBounded(file: string, limit: number): Buffer {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() && !st.isFIFO()) throw new RuntimeError(`${file} is not a regular file or a pipe`);
    return readFdBounded(fd, file, limit);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads `fd` to its end (a pipe too: standard input), or throws once more than `limit` bytes have come; `what` names it. */
export function readFdBounded(fd: number, what: string, limit = MAX_JSON_BYTES): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, limit + 1 - total));
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      pollIn(fd, -1); // a non-blocking pipe with nothing yet: wait for data or its end
      continue;
    }
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
    if (total > limit) throw new RuntimeError(`${what} is larger than ${limit} bytes, the limit for a JSON file`);
  }
  return Buffer.concat(chunks, total);
}

/** `text` parsed, refused first when nested deeper than `depth`; `what` names where it came from. */
export function parseBoundedJson(text: string, what: string, depth = MAX_JSON_DEPTH): unknown {
  const at = tooDeepAt(text, depth);
  if (at >= 0) throw new RuntimeError(`${what} is nested deeper than ${depth} arrays and objects (at character ${at})`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RuntimeError(`${what} is not valid JSON: ${(e as Error).message}`, 1, { cause: e });
  }
}

/** The byte offset where `text` nests deeper than `limit` arrays and objects, or -1. */
export function tooDeepAt(text: string, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return -1;
}

/**
 * The JSON value in `file`; errors name the file and, for the bounds, the
 * limit. ENOENT and other read errors are thrown as they are, for the
 * caller's own words.
 */
export function readJsonFile(file: string, limits = { bytes: MAX_JSON_BYTES, depth: MAX_JSON_DEPTH }): unknown {
  return parseBoundedJson(readBounded(file, limits.bytes).toString('utf8'), file, limits.depth);
}
