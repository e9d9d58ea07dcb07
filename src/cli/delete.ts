import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { containerIn } from './context';

export const builder = (y: Argv) =>
  y.option('force', { alias: 'f', type: 'boolean', describe: 'Forcibly deletes the container if it is still running (uses SIGKILL)' });
export const handler = action<{ id?: string; force?: boolean }>((argv, ctx) => {
  const id = requireId(argv, 'delete');
  // runc: forced delete of a container that does not exist succeeds (the API's rule)
  return containerIn(ctx, id).delete({ force: Boolean(argv.force), warn: (m) => ctx.logger.warn(m) });
});
