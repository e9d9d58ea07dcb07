/**
 * An error whose message is meant for the user as it stands (runc's wording
 * where runc has one). The CLI prints it and exits with `exitCode`.
 */
export class RuntimeError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
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
