import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { deleteContainer } from '../container/lifecycle';

export const builder = (y: Argv) =>
  y.option('force', { alias: 'f', type: 'boolean', describe: 'Forcibly deletes the container if it is still running (uses SIGKILL)' });
export const handler = action<{ id?: string; force?: boolean }>((argv, ctx) => {
  const id = requireId(argv, 'delete');
  // runc: forced delete of a container that does not exist succeeds
  if (argv.force && !ctx.store.hasDir(id)) return;
  deleteContainer(ctx.store, id, Boolean(argv.force), (m) => ctx.logger.warn(m));
});
