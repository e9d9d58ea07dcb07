// Logging as runc does it (logrus): to stderr in text form by default, or to
// --log FILE in text or JSON (one object per line: level, msg, time).
// containerd and podman show the `msg` of the last JSON line to their users.
import * as fs from 'fs';
import { isoTime } from '../state/time';

export type LogFormat = 'text' | 'json';
export type Level = 'debug' | 'info' | 'warning' | 'error';

function timestamp(): string {
  return isoTime().replace(/\.\d{3}Z$/, 'Z');
}

/** logrus quotes a text value unless it is made of plain characters only. */
function textValue(v: string): string {
  return /^[\w./@^+-]+$/.test(v) ? v : JSON.stringify(v);
}

/** Extra fields of a line (logrus' WithFields): `key=value` in text, keys of the object in JSON. */
export type Fields = Record<string, string | number>;

export class Logger {
  constructor(
    readonly file: string | undefined,
    readonly format: LogFormat,
    readonly debugEnabled: boolean,
  ) {
    // runc opens --log at start (O_CREATE|O_APPEND, 0644): the file exists after every command, logged to or not
    if (file) {
      try {
        fs.closeSync(fs.openSync(file, 'a', 0o644));
      } catch {
        /* reported by the first line written, on stderr */
      }
    }
  }

  /** Whether log lines go to stderr (no --log given). */
  get toStderr(): boolean {
    return !this.file;
  }

  private write(level: Level | 'trace', msg: string, fields: Fields = {}): void {
    if (level === 'debug' && !this.debugEnabled) return;
    if (level === 'trace') level = 'debug'; // asked for by TSRUNC_TRACE, whatever --debug says
    const extra = Object.keys(fields).filter((k) => !['level', 'msg', 'time'].includes(k));
    let line: string;
    if (this.format === 'json') {
      // logrus' JSON: the keys in alphabetical order
      const all: Record<string, unknown> = { level, msg, time: timestamp() };
      for (const k of extra) all[k] = fields[k];
      line = JSON.stringify(Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]))) + '\n';
    } else {
      const rest = extra.sort().map((k) => ` ${k}=${typeof fields[k] === 'number' ? fields[k] : textValue(String(fields[k]))}`).join('');
      line = `time="${timestamp()}" level=${level}${msg === '' ? '' : ` msg=${textValue(msg)}`}${rest}\n`; // logrus omits an empty msg
    }
    try {
      if (this.file) fs.appendFileSync(this.file, line);
      else fs.writeSync(2, line);
    } catch {
      /* an unwritable log must not hide the error itself */
      if (this.file) fs.writeSync(2, line);
    }
  }

  /** The phase table of TSRUNC_TRACE (src/trace.ts): as it is on stderr or a text log, one debug line per row in a JSON one. */
  trace(lines: string[]): void {
    if (this.format === 'json' && this.file) {
      for (const l of lines) this.write('trace', l);
      return;
    }
    const text = lines.join('\n') + '\n';
    if (this.file) fs.appendFileSync(this.file, text);
    else fs.writeSync(2, text);
  }

  debug(msg: string, fields?: Fields): void {
    this.write('debug', msg, fields);
  }
  /** The library's `debug` option: undefined without --debug, so that the stages send no lines. */
  get debugSink(): ((msg: string) => void) | undefined {
    return this.debugEnabled ? (msg) => this.debug(msg) : undefined;
  }
  warn(msg: string): void {
    this.write('warning', msg);
  }
  error(msg: string): void {
    this.write('error', msg);
  }
}

/** Reports a fatal error the way runc does: to the log, and to stderr too when the log is a file. */
export function reportFatal(logger: Logger, msg: string): void {
  logger.error(msg);
  if (!logger.toStderr) fs.writeSync(2, msg.endsWith('\n') ? msg : msg + '\n'); // runc's FatalWriter adds none to urfave/cli's own lines
}
