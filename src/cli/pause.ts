import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { pauseContainer } from '../container/cgroup-ops';

export const builder = (y: Argv) => y;
export const handler = action<{ id?: string }>((argv, ctx) => {
  pauseContainer(ctx.store, requireId(argv, 'pause'));
});
