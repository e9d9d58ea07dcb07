import type { Argv } from 'yargs';
import { action } from './command';
import { ociState, deriveStatus, initProblem } from '../container/status';
import { RuntimeError } from '../errors';
import { printOut } from './output';

export const builder = (y: Argv) =>
  y
    .option('format', { alias: 'f', type: 'string', default: 'table', describe: 'select one of: table or json' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'display only container IDs' });

/** Columns as Go's tabwriter lays them out for runc (min width 12, padding 3). */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (c === r.length - 1 ? 0 : r[c].length + 3)), 12));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('')).join('\n') + '\n';
}

export const handler = action<{ format?: string; quiet?: boolean }>((argv, ctx) => {
  const states: Record<string, unknown>[] = [];
  for (const id of ctx.store.ids()) {
    let found;
    try {
      found = ctx.store.inspect(id, initProblem);
    } catch {
      continue; // deleted meanwhile
    }
    if (!found.state) {
      // the others are listed; a broken one is said on stderr (one being created is not broken)
      if (!found.problem?.startsWith('is being created')) ctx.logger.warn(`container ${id} ${found.problem}: \`delete --force ${id}\` removes it`);
      continue;
    }
    states.push({ ...ociState(found.state, deriveStatus(found.state, ctx.store.fifoPath(id))), owner: ctx.store.ownerName(id) });
  }
  if (argv.quiet) {
    for (const s of states) printOut(`${s.id}\n`);
    return;
  }
  if (argv.format === 'json') {
    printOut((states.length ? JSON.stringify(states) : 'null') + '\n');
    return;
  }
  if (argv.format !== 'table') throw new RuntimeError(`invalid format option`);
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
  for (const s of states) rows.push([String(s.id), String(s.pid), String(s.status), String(s.bundle), String(s.created), String(s.owner)]);
  printOut(table(rows));
});
