// Which subcommand a tsrunc command line runs. Shared by the CLI (main.ts) and
// the launcher (bin/tsrunc loads this file alone, before the bundle, to pick
// its code cache), so it imports nothing.

/** runc's subcommands that tsrunc has, in the order `--help` lists them. */
export const COMMAND_NAMES = [
  'spec', 'create', 'start', 'run', 'state', 'kill', 'delete', 'list',
  'pause', 'resume', 'update', 'events', 'features', 'exec', 'ps',
  'checkpoint', 'restore',
] as const;

export type CommandName = (typeof COMMAND_NAMES)[number];

// Global options followed by a value ("--root state list": "state" is the root, not the command).
const VALUE_OPTIONS = new Set(['--root', '--log', '--log-format', '--criu', '--rootless']);

/** Where the subcommand is in `args`: the first word that is not an option or an option's value (-1: none). */
export function subcommandIndex(args: string[]): number {
  for (let i = 0; i < args.length; i++) {
    if (VALUE_OPTIONS.has(args[i])) i++;
    else if (!args[i].startsWith('-')) return i;
  }
  return -1;
}

/** The subcommand in `args`, if that word is a command. */
export function subcommand(args: string[]): CommandName | undefined {
  const i = subcommandIndex(args);
  return i >= 0 && (COMMAND_NAMES as readonly string[]).includes(args[i]) ? (args[i] as CommandName) : undefined;
}
