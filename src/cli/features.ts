import type { Argv } from 'yargs';
import { action } from './command';
import { features } from '../features';
import { printOut } from './output';

export const builder = (y: Argv) => y;
export const handler = action(() => {
  printOut(JSON.stringify(features(), null, 4) + '\n');
});
