// What every subcommand gets from the global flags.
import type { StateStore } from '../state/store';
import { storeFor, Container } from '../api';
import { Logger, type LogFormat } from './log';
import { setTraceSink, tracing } from '../trace';

export interface GlobalArgs {
  root?: string;
  log?: string;
  'log-format'?: string;
  debug?: boolean;
  'systemd-cgroup'?: boolean;
  rootless?: unknown;
  /** The criu binary for checkpoint and restore. */
  criu?: string;
}

export interface Context {
  store: StateStore;
  logger: Logger;
  systemdCgroup: boolean;
}

export function makeLogger(argv: GlobalArgs): Logger {
  const format: LogFormat = argv['log-format'] === 'json' ? 'json' : 'text';
  return new Logger(argv.log || undefined, format, Boolean(argv.debug));
}

export function makeContext(argv: GlobalArgs): Context {
  const logger = makeLogger(argv);
  if (tracing()) setTraceSink((lines) => logger.trace(lines));
  return {
    store: storeFor({ root: argv.root }),
    logger,
    systemdCgroup: Boolean(argv['systemd-cgroup']),
  };
}

/** The API's handle on container `id` in the context's root: the CLI is a client of src/api.ts. */
export function containerIn(ctx: Context, id: string): Container {
  return Container.of(id, { root: ctx.store.root });
}
