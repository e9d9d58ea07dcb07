import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { containerIn } from './context';

export const builder = (y: Argv) => y;
export const handler = action<{ id?: string }>((argv, ctx) => {
  return containerIn(ctx, requireId(argv, 'pause')).pause();
});
