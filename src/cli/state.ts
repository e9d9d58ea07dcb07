import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { containerIn } from './context';
import { printOut } from './output';

export const builder = (y: Argv) => y;
export const handler = action<{ id?: string }>((argv, ctx) => {
  // as runc: indented, no newline at the end
  printOut(JSON.stringify(containerIn(ctx, requireId(argv, 'state')).state(), null, 2));
});
