import type * as Os from 'os';

// built on first use: loading node's os module costs commands that never fail a call
let errnoNames: Map<number, string> | undefined;

/** Name of an errno value, e.g. 2 -> "ENOENT". */
export function errnoName(errno: number): string {
  errnoNames ??= new Map<number, string>(Object.entries((require('os') as typeof Os).constants.errno).map(([name, num]) => [num as number, name]));
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** A libc call that returned -1: names the call, its arguments and the errno. */
export class SyscallError extends Error {
  readonly call: string;
  readonly errno: number;
  readonly code: string;

  constructor(call: string, args: unknown[], errno: number, strerror: string) {
    const shown = args.map((a) => (typeof a === 'string' ? JSON.stringify(a) : String(a))).join(', ');
    super(`${call}(${shown}): ${strerror}`);
    this.name = 'SyscallError';
    this.call = call;
    this.errno = errno;
    this.code = errnoName(errno);
  }
}
