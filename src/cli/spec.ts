import * as fs from 'fs';
import * as path from 'path';
import type { Argv } from 'yargs';
import { action } from './command';
import { RuntimeError } from '../errors';
import { defaultSpec, rootlessSpec } from '../spec/default-spec';

export const builder = (y: Argv) =>
  y
    .option('bundle', { alias: 'b', type: 'string', describe: 'path to the root of the bundle directory' })
    .option('rootless', { type: 'boolean', describe: 'generate a configuration for a rootless container' });

export const handler = action<{ bundle?: string; rootless?: boolean }>((argv) => {
  const dir = path.resolve(argv.bundle || '.');
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(dir)) throw new RuntimeError(`bundle directory ${dir} does not exist`);
  if (fs.existsSync(file)) throw new RuntimeError('File config.json exists. Remove it first');
  const spec = argv.rootless === true || String(argv.rootless) === "true" ? rootlessSpec(process.getuid!(), process.getgid!()) : defaultSpec();
  fs.writeFileSync(file, JSON.stringify(spec, null, '\t'), { mode: 0o666 });
});
