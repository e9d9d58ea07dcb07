import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { sharedCriuFlags, criuFlags, type CriuArgs } from './criu-flags';
import { criuOptions } from '../container/criu-options';
import { checkpointContainer } from '../container/checkpoint';
import { RuntimeError } from '../errors';

export const builder = (y: Argv) =>
  sharedCriuFlags(y)
    .option('parent-path', { type: 'string', requiresArg: true, describe: 'path for previous criu image files in pre-dump' })
    .option('leave-running', { type: 'boolean', describe: 'leave the process running after checkpointing' })
    .option('status-fd', { type: 'string', requiresArg: true, describe: 'criu writes \\0 to this FD once lazy-pages is ready (default: -1)' })
    .option('page-server', { type: 'string', requiresArg: true, describe: 'ADDRESS:PORT of the page server' })
    .option('pre-dump', { type: 'boolean', describe: "dump container's memory information only, leave the container running after this" });

export const handler = action<CriuArgs>(async (argv, ctx) => {
  const id = requireId(argv, 'checkpoint');
  const fd = argv['status-fd'] as unknown as string | undefined;
  if (fd !== undefined && !/^-?\d+$/.test(fd)) throw new RuntimeError(`invalid value "${fd}" for flag -status-fd: parse error`);
  if (process.geteuid && process.geteuid() !== 0) ctx.logger.warn('tsrunc checkpoint is untested with rootless containers');
  // runc: the container first (a missing one is told before the flags' values), then the options
  ctx.store.load(id);
  const opts = criuOptions(criuFlags({ ...argv, 'status-fd': fd === undefined ? undefined : Number(fd) }));
  await checkpointContainer(ctx.store, id, opts, { warn: (m) => ctx.logger.warn(m), debug: (m) => ctx.logger.debug(m) });
});
