import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { startContainer } from '../container/lifecycle';

export const command = 'start [id]';
export const describe = 'executes the user defined process in a created container';
export const builder = (y: Argv) => y;
export const handler = action<{ id?: string }>((argv, ctx) => {
  startContainer(ctx.store, requireId(argv, 'start'));
});
