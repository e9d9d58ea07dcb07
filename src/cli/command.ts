// Shared plumbing for subcommands: run the body, report errors runc's way,
// set the exit status.
import { type Context, type GlobalArgs, makeContext, makeLogger } from './context';
import { reportFatal } from './log';
import { RuntimeError, messageOf } from '../errors';
import { phase } from '../trace';

/** Wraps a subcommand body: errors go to the log (and stderr), exit status 1. */
export function action<A>(body: (argv: A & GlobalArgs, ctx: Context) => void | number | Promise<void | number>) {
  return async (argv: A & GlobalArgs): Promise<void> => {
    phase('cli: arguments');
    let ctx: Context | undefined;
    try {
      ctx = makeContext(argv);
      phase('cli: context (state root, log)');
      const code = await body(argv, ctx);
      phase('command: the rest');
      process.exitCode = typeof code === 'number' ? code : 0;
    } catch (e) {
      const logger = ctx?.logger ?? makeLogger(argv);
      if (!(e instanceof RuntimeError) && argv.debug) logger.debug((e as Error).stack ?? messageOf(e));
      reportFatal(logger, messageOf(e));
      process.exitCode = e instanceof RuntimeError ? e.exitCode : 1;
    }
  };
}

/** The container id positional, which runc requires for most commands. */
export function requireId(argv: { id?: unknown }, command: string): string {
  const id = argv.id;
  if (typeof id !== 'string' || id === '') throw new RuntimeError(`"${command}" requires exactly 1 argument(s)`);
  return id;
}
