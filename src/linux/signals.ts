import type * as Os from 'os';

// on first use: loading node's os module costs every command, most never name a signal
let signals: Record<string, number> | undefined;
const byName = (): Record<string, number> => (signals ??= (require('os') as typeof Os).constants.signals as Record<string, number>);

/**
 * Parses a signal given as "KILL", "SIGKILL", "kill" or "9"; undefined when
 * unknown. "0" is accepted, as runc does: kill(2) with 0 only checks the
 * process exists, which callers use to ask whether the container lives.
 */
export function parseSignal(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n >= 0 && n <= 64 ? n : undefined;
  }
  const upper = t.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : 'SIG' + upper;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const n = name.startsWith('SIGRTMIN') ? 34 + off : 64 - off;
    return n >= 34 && n <= 64 ? n : undefined;
  }
  return byName()[name];
}

export function signalName(sig: number): string {
  for (const [name, num] of Object.entries(byName())) if (num === sig) return name;
  return `signal ${sig}`;
}
