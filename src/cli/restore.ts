import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { sharedCriuFlags, criuFlags, type CriuArgs } from './criu-flags';
import { checkTerminalFlags, openConsoleSocket } from './create-flags';
import { criuOptions } from '../container/criu-options';
import { restoreContainer } from '../container/restore';
import { deleteContainer } from '../container/lifecycle';
import { waitForExit, exitCodeOf, forwardSignals, relayTerminal } from '../container/foreground';

interface RestoreArgs extends CriuArgs {
  bundle?: string;
  detach?: boolean;
  'pid-file'?: string;
  'console-socket'?: string;
  'no-subreaper'?: boolean;
  'no-pivot'?: boolean;
}

export const builder = (y: Argv) =>
  sharedCriuFlags(y)
    .option('console-socket', { type: 'string', requiresArg: true, describe: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" })
    .option('bundle', { alias: 'b', type: 'string', requiresArg: true, describe: 'path to the root of the bundle directory' })
    .option('detach', { alias: 'd', type: 'boolean', describe: "detach from the container's process" })
    .option('pid-file', { type: 'string', requiresArg: true, describe: 'specify the file to write the process id to' })
    .option('no-subreaper', { type: 'boolean', describe: 'disable the use of the subreaper used to reap reparented processes' })
    .option('no-pivot', { type: 'boolean', describe: 'accepted for runc compatibility: CRIU restores the mount namespace itself, there is no pivot_root' })
    .option('lsm-profile', { type: 'string', requiresArg: true, describe: 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.' })
    .option('lsm-mount-context', { type: 'string', requiresArg: true, describe: 'Specify an LSM mount context to be used during restore.' });

export const handler = action<RestoreArgs>(async (argv, ctx) => {
  const id = requireId(argv, 'restore');
  if (process.geteuid && process.geteuid() !== 0) ctx.logger.warn('tsrunc checkpoint is untested with rootless containers');
  const opts = criuOptions(criuFlags(argv));
  const detach = Boolean(argv.detach);
  const terminal = checkTerminalFlags(argv, detach);
  const consoleSocket = terminal && detach ? openConsoleSocket(argv) : undefined;
  let master: number | undefined;
  let state;
  try {
    state = await restoreContainer({
      id,
      bundle: argv.bundle,
      store: ctx.store,
      criu: opts,
      pidFile: argv['pid-file'],
      systemdCgroup: ctx.systemdCgroup,
      // runc's subreaper: orphans of a container waited for in the foreground are reaped here
      subreaper: !detach && !argv['no-subreaper'],
      onConsole: terminal ? (fd) => (consoleSocket ? consoleSocket(fd) : (master = fd)) : undefined,
      warn: (m) => ctx.logger.warn(m),
      debug: (m) => ctx.logger.debug(m),
    });
  } finally {
    consoleSocket?.close();
  }
  if (detach) return 0;
  // in the foreground, as `run`: the exit status is the container's, and the container goes after it
  const finishTerminal = master !== undefined ? relayTerminal(master) : undefined;
  const unforward = forwardSignals(state.pid, finishTerminal ? ['SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'] : []);
  try {
    const status = exitCodeOf(await waitForExit(state.pid));
    ctx.logger.debug('process exited', { pid: state.pid, status });
    return status;
  } finally {
    unforward();
    if (finishTerminal) await finishTerminal();
    try {
      deleteContainer(ctx.store, id, true, (m) => ctx.logger.warn(m));
    } catch (e) {
      ctx.logger.warn(`deleting container ${id}: ${(e as Error).message}`);
    }
  }
});
