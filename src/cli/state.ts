import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { loadWithStatus } from '../container/lifecycle';
import { ociState } from '../container/status';
import { printOut } from './output';

export const builder = (y: Argv) => y;
export const handler = action<{ id?: string }>((argv, ctx) => {
  const { state, status } = loadWithStatus(ctx.store, requireId(argv, 'state'));
  // as runc: indented, no newline at the end
  printOut(JSON.stringify(ociState(state, status), null, 2));
});
