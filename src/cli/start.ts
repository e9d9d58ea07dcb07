import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { startContainer } from '../container/lifecycle';

export const builder = (y: Argv) => y;
export const handler = action<{ id?: string }>((argv, ctx) => {
  startContainer(ctx.store, requireId(argv, 'start'));
});
