// A failed hook's error text, worded as runc words it (libcontainer/configs:
// Hooks.Run and Command.Run, whose inner texts are Go's os/exec errors):
//   error running <kind> hook #<i>: error running hook: exit status 3, stdout: <out>, stderr: <err>
//   error running <kind> hook #<i>: error running hook: signal: bad system call (core dumped), stdout: ..., stderr: ...
//   error running <kind> hook #<i>: hook ran past specified timeout of 1.0s
//   error running <kind> hook #<i>: fork/exec /no/such: no such file or directory
// runc 1.1 leaves the kind out ("error running hook #0: ..."); runc 1.2 names it, as here.
import { type HookName } from './state';

/** How a hook ended, as waitpid(2) tells it. */
export interface HookExit {
  code?: number;
  signal?: number;
  coreDumped?: boolean;
}

// Go's syscall signal descriptions (zerrors_linux_*.go): strsignal(3), first letter lowercased.
const GO_SIGNALS = [
  '', 'hangup', 'interrupt', 'quit', 'illegal instruction', 'trace/breakpoint trap', 'aborted', 'bus error',
  'floating point exception', 'killed', 'user defined signal 1', 'segmentation fault', 'user defined signal 2',
  'broken pipe', 'alarm clock', 'terminated', 'stack fault', 'child exited', 'continued', 'stopped (signal)',
  'stopped', 'stopped (tty input)', 'stopped (tty output)', 'urgent I/O condition', 'CPU time limit exceeded',
  'file size limit exceeded', 'virtual timer expired', 'profiling timer expired', 'window changed', 'I/O possible',
  'power failure', 'bad system call',
];

/** Go's syscall.Signal.String(): "bad system call", or "signal 34" for one without a name. */
export function goSignalText(sig: number): string {
  return GO_SIGNALS[sig] || `signal ${sig}`;
}

/** Go's ProcessState.String(): "exit status 3", "signal: killed", "signal: aborted (core dumped)". */
export function goExitText(e: HookExit): string {
  const text = e.signal !== undefined ? `signal: ${goSignalText(e.signal)}` : `exit status ${e.code ?? 0}`;
  return e.coreDumped ? `${text} (core dumped)` : text;
}

/** Go's syscall.Errno text: strerror(3) with its first letter lowercased where the second is lower case. */
export function goErrnoText(strerror: string): string {
  return /^[A-Z][a-z]/.test(strerror) ? strerror[0].toLowerCase() + strerror.slice(1) : strerror;
}

/** The most of each of a hook's stdout and stderr kept for its error message. */
export const HOOK_OUTPUT_LIMIT = 16 * 1024;

/** A hook's captured output for the message: at most HOOK_OUTPUT_LIMIT characters, marked when cut. */
export function clipOutput(text: string, cut = false): string {
  return cut || text.length > HOOK_OUTPUT_LIMIT ? `${text.slice(0, HOOK_OUTPUT_LIMIT)}[... truncated]` : text;
}

/** A hook that ran and failed: its status and what it wrote. */
export function hookExitedText(e: HookExit, stdout: string, stderr: string): string {
  return `error running hook: ${goExitText(e)}, stdout: ${stdout}, stderr: ${stderr}`;
}

/** A hook killed at its timeout (whole seconds in config.json, shown as Go's %.1f). */
export function hookTimeoutText(timeoutSeconds: number): string {
  return `hook ran past specified timeout of ${timeoutSeconds.toFixed(1)}s`;
}

/** A hook that could not be started: execve(2) failed. */
export function hookStartText(path: string, strerror: string): string {
  return `fork/exec ${path}: ${goErrnoText(strerror)}`;
}

/** The whole message: which hook, then what went wrong. */
export function hookErrorText(name: HookName, index: number, inner: string): string {
  return `error running ${name} hook #${index}: ${inner}`;
}
