import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { createOptions, type CreateFlags, createFlags, openConsoleSocket, checkTerminalFlags } from './create-flags';
import { createContainer } from '../container/create';

export const builder = (y: Argv) => createFlags(y);

export const handler = action<CreateFlags>((argv, ctx) => {
  const id = requireId(argv, 'create');
  const terminal = checkTerminalFlags(argv, true);
  const consoleSocket = terminal ? openConsoleSocket(argv) : undefined;
  try {
    createContainer({ ...createOptions(argv, ctx), id, onConsole: consoleSocket });
  } finally {
    consoleSocket?.close();
  }
});
