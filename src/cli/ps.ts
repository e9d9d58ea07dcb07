import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { containerPids, psTable } from '../container/cgroup-ops';
import { RuntimeError } from '../errors';
import { printOut } from './output';

// Everything after the id goes to ps(1): `ps ID -o pid,comm`, or after `--`.
export const builder = (y: Argv) =>
  y
    .option('format', { alias: 'f', type: 'string', default: 'table', describe: 'select one of: table or json' })
    .parserConfiguration({ 'unknown-options-as-args': true, 'parse-numbers': false, 'parse-positional-numbers': false }) // ps's words as written
    .strict(false);

export const handler = action<{ id?: string; format?: string; _: (string | number)[] }>((argv, ctx) => {
  const id = requireId(argv, 'ps');
  const format = argv.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new RuntimeError('invalid format option');
  const pids = containerPids(ctx.store, id);
  if (format === 'json') {
    // as runc (Go's encoding of an empty slice): null when there is none
    printOut((pids.length ? JSON.stringify(pids) : 'null') + '\n');
    return;
  }
  const psArgs = argv._.slice(1).map(String);
  printOut(psTable(pids, psArgs));
});
