// What every subcommand gets from the global flags.
import * as path from 'path';
import { StateStore } from '../state/store';
import { Logger, type LogFormat } from './log';

export interface GlobalArgs {
  root?: string;
  log?: string;
  'log-format'?: string;
  debug?: boolean;
  'systemd-cgroup'?: boolean;
  rootless?: unknown;
}

export interface Context {
  store: StateStore;
  logger: Logger;
  systemdCgroup: boolean;
}

/** Default state root: /run/tsrunc for root, $XDG_RUNTIME_DIR/tsrunc otherwise. */
export function defaultRoot(): string {
  if (process.getuid && process.getuid() !== 0 && process.env.XDG_RUNTIME_DIR) {
    return path.join(process.env.XDG_RUNTIME_DIR, 'tsrunc');
  }
  return '/run/tsrunc';
}

export function makeLogger(argv: GlobalArgs): Logger {
  const format: LogFormat = argv['log-format'] === 'json' ? 'json' : 'text';
  return new Logger(argv.log || undefined, format, Boolean(argv.debug));
}

export function makeContext(argv: GlobalArgs): Context {
  return {
    store: new StateStore(path.resolve(argv.root || defaultRoot())),
    logger: makeLogger(argv),
    systemdCgroup: Boolean(argv['systemd-cgroup']),
  };
}
