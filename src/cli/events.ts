import * as fs from 'fs';
import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { containerEvents, eventLine } from '../container/cgroup-ops';
import * as sys from '../linux/sys';
import { RuntimeError } from '../errors';

export const builder = (y: Argv) =>
  y
    .option('interval', { type: 'string', default: '5s', describe: 'set the stats collection interval' })
    .option('stats', { type: 'boolean', describe: "display the container's stats then exit" });

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5s", "1m30s", "250ms", "1.5h") in milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  let t = text.trim();
  let sign = 1;
  if (t.startsWith('-') || t.startsWith('+')) {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  if (t === '0') return 0;
  if (!t) return undefined;
  let total = 0;
  // µ (U+00B5) and μ (U+03BC) as escapes: the bundle stays ASCII (scripts/bundle/build.js says why)
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/;
  while (t) {
    const m = re.exec(t);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
    t = t.slice(m[0].length);
  }
  return sign * total;
}

function writeLine(line: string): boolean {
  try {
    fs.writeSync(1, line);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return false;
    throw e;
  }
}

export const handler = action<{ id?: string; interval?: string; stats?: boolean }>((argv, ctx) => {
  const id = requireId(argv, 'events');
  const text = argv.interval ?? '5s';
  const ms = parseDuration(text);
  if (ms === undefined) throw new RuntimeError(`invalid value "${text}" for flag -interval: parse error`);
  if (ms <= 0) throw new RuntimeError('duration interval must be greater than 0');
  for (const step of containerEvents(ctx.store, id, { intervalMs: ms, statsOnly: Boolean(argv.stats) })) {
    if ('event' in step) {
      if (!writeLine(eventLine(step.event))) return; // the reader went away
    } else if (step.fd !== undefined) {
      sys.pollIn(step.fd, step.waitMs);
    } else {
      sys.sleepMs(step.waitMs);
    }
  }
});
