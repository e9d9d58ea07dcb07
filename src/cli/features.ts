import type { Argv } from 'yargs';
import { action } from './command';
import { features } from '../features';

export const builder = (y: Argv) => y;
export const handler = action(() => {
  process.stdout.write(JSON.stringify(features(), null, 4) + '\n');
});
