import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { containerIn } from './context';
import { printOut } from './output';
import { phase } from '../trace';

export const builder = (y: Argv) => y;
export const handler = action<{ id?: string }>((argv, ctx) => {
  // as runc: indented, no newline at the end
  const state = containerIn(ctx, requireId(argv, 'state')).state();
  phase('state: load the state and status');
  printOut(JSON.stringify(state, null, 2));
});
