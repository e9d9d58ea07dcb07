import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { createOptions, type CreateFlags, createFlags, openConsoleSocket, checkTerminalFlags } from './create-flags';
import { createContainer } from '../container/create';
import { startContainer, deleteContainer } from '../container/lifecycle';
import { waitForExit, exitCodeOf, forwardSignals, relayTerminal } from '../container/foreground';
import { type Context } from './context';
import { phase } from '../trace';

export const builder = (y: Argv) =>
  createFlags(y)
    .option('detach', { alias: 'd', type: 'boolean', describe: 'detach from the container\'s process' })
    .option('keep', { type: 'boolean', describe: 'do not delete the container after it exits' })
    .option('no-subreaper', { type: 'boolean', describe: 'disable the use of the subreaper used to reap reparented processes' });

async function runAttached(argv: CreateFlags, ctx: Context, id: string, terminal: boolean): Promise<number> {
  let master: number | undefined;
  const { state } = createContainer({
    ...createOptions(argv, ctx),
    id,
    subreaper: true,
    onConsole: (fd) => (master = fd),
  });
  const finishTerminal = terminal && master !== undefined ? relayTerminal(master) : undefined;
  const unforward = forwardSignals(state.pid, finishTerminal ? ['SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'] : []);
  phase('run: signal forwarding, terminal relay');
  try {
    startContainer(ctx.store, id);
    const status = exitCodeOf(await waitForExit(state.pid));
    phase('run: wait for the container\'s process to exit');
    ctx.logger.debug('process exited', { pid: state.pid, status }); // runc's signal handler says the same
    return status;
  } finally {
    unforward();
    if (finishTerminal) await finishTerminal();
    if (!argv.keep) {
      try {
        deleteContainer(ctx.store, id, true, (m) => ctx.logger.warn(m));
        phase('run: delete');
      } catch (e) {
        ctx.logger.warn(`deleting container ${id}: ${(e as Error).message}`);
      }
    }
  }
}

export const handler = action<CreateFlags>(async (argv, ctx) => {
  const id = requireId(argv, 'run');
  const detach = Boolean(argv.detach);
  const terminal = checkTerminalFlags(argv, detach);
  if (!detach) return runAttached(argv, ctx, id, terminal);
  const consoleSocket = terminal ? openConsoleSocket(argv) : undefined;
  try {
    createContainer({ ...createOptions(argv, ctx), id, onConsole: consoleSocket });
  } finally {
    consoleSocket?.close();
  }
  try {
    startContainer(ctx.store, id);
  } catch (e) {
    deleteContainer(ctx.store, id, true);
    throw e;
  }
  return 0;
});
