import { constants as osConstants } from 'os';

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, num]) => [num as number, name]),
);

/** Name of an errno value, e.g. 2 -> "ENOENT". */
export function errnoName(errno: number): string {
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
