import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { containerIn } from './context';

export const builder = (y: Argv) =>
  y.option('all', { alias: 'a', type: 'boolean', describe: 'send the specified signal to all processes inside the container' });
export const handler = action<{ id?: string; signal?: string | number; all?: boolean }>((argv, ctx) => {
  const id = requireId(argv, 'kill');
  return containerIn(ctx, id).kill(argv.signal === undefined ? 'SIGTERM' : argv.signal, { all: Boolean(argv.all) });
});
