// Timestamps in RFC 3339 (UTC), for state.json's `created` and the log's `time`.
// Date.prototype.toISOString writes the same text, but its first call loads
// the time zone tables from ICU's data: 640 KiB more resident memory in a
// command (and in the init of every created container), for a UTC string.
// The getUTC* getters compute from the time value alone.

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `ms` since the epoch as toISOString writes it, for the years 0 to 9999: 2006-01-02T15:04:05.000Z. */
export function isoTime(ms: number = Date.now()): string {
  const d = new Date(ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`
  );
}
