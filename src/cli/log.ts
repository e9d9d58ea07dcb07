// Logging as runc does it (logrus): to stderr in text form by default, or to
// --log FILE in text or JSON (one object per line: level, msg, time).
// containerd and podman show the `msg` of the last JSON line to their users.
import * as fs from 'fs';

export type LogFormat = 'text' | 'json';
export type Level = 'debug' | 'info' | 'warning' | 'error';

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** logrus quotes a text value unless it is made of plain characters only. */
function textValue(v: string): string {
  return /^[\w./@^+-]+$/.test(v) ? v : JSON.stringify(v);
}

export class Logger {
  constructor(
    readonly file: string | undefined,
    readonly format: LogFormat,
    readonly debugEnabled: boolean,
  ) {}

  /** Whether log lines go to stderr (no --log given). */
  get toStderr(): boolean {
    return !this.file;
  }

  private write(level: Level, msg: string): void {
    if (level === 'debug' && !this.debugEnabled) return;
    const line =
      this.format === 'json'
        ? JSON.stringify({ level, msg, time: timestamp() }) + '\n'
        : `time="${timestamp()}" level=${level}${msg === '' ? '' : ` msg=${textValue(msg)}`}\n`; // logrus omits an empty msg
    try {
      if (this.file) fs.appendFileSync(this.file, line);
      else fs.writeSync(2, line);
    } catch {
      /* an unwritable log must not hide the error itself */
      if (this.file) fs.writeSync(2, line);
    }
  }

  debug(msg: string): void {
    this.write('debug', msg);
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
