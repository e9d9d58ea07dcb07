import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { killContainer } from '../container/lifecycle';
import { parseSignal } from '../linux/signals';
import { RuntimeError } from '../errors';

export const builder = (y: Argv) =>
  y.option('all', { alias: 'a', type: 'boolean', describe: 'send the specified signal to all processes inside the container' });
export const handler = action<{ id?: string; signal?: string | number; all?: boolean }>((argv, ctx) => {
  const id = requireId(argv, 'kill');
  const text = argv.signal === undefined ? 'SIGTERM' : String(argv.signal);
  const sig = parseSignal(text);
  if (sig === undefined) throw new RuntimeError(`unknown signal "${text}"`);
  killContainer(ctx.store, id, sig, Boolean(argv.all));
});
