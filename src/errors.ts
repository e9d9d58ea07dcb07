/**
 * An error whose message is meant for the user as it stands (runc's wording
 * where runc has one). The CLI prints it and exits with `exitCode`.
 */
export class RuntimeError extends Error {
  readonly exitCode: number;
  /** `cause`: the error this one explains (a SyscallError with its errno and call), kept for callers of the library. */
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
    this.exitCode = exitCode;
  }
}

export const containerNotExist = () => new RuntimeError('container does not exist');
export const containerNotRunning = () => new RuntimeError('container not running');

/** The message a user should see for any thrown value. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
