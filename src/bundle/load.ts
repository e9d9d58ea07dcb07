// Loads a bundle: reads config.json, validates it against our JSON Schema and
// the semantic checks, and resolves the root filesystem path.
import * as fs from 'fs';
import * as path from 'path';
import { RuntimeError } from '../errors';
import { type Spec } from './spec-types';
import { validateConfigSchema } from './schema';
import { semanticProblems } from './semantic';
import { readJsonFile } from './json';
import { phase } from '../trace';

export interface Bundle {
  /** Absolute bundle directory. */
  dir: string;
  /** Absolute root filesystem directory. */
  rootfs: string;
  spec: Spec;
}

function invalid(configPath: string, problems: string[]): RuntimeError {
  const shown = problems.slice(0, 10);
  const more = problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : '';
  return new RuntimeError(`invalid config ${configPath}: ${shown.join('; ')}${more}`);
}

export function loadBundle(bundleArg: string | undefined): Bundle {
  const dir = path.resolve(bundleArg || '.');
  const configPath = path.join(dir, 'config.json');
  let config: unknown;
  try {
    config = readJsonFile(configPath);
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (!fs.existsSync(dir)) throw new RuntimeError(`bundle ${dir} does not exist`);
      throw new RuntimeError(`bundle ${dir} has no config.json`);
    }
    throw new RuntimeError(`cannot read ${configPath}: ${(e as Error).message}`, 1, { cause: e });
  }
  phase('config: read and parse');
  const schemaProblems = validateConfigSchema(config);
  phase('config: schema validation');
  if (schemaProblems.length) throw invalid(configPath, schemaProblems);
  const spec = config as Spec;
  const rootPath = spec.root?.path ?? '';
  const rootfs = path.resolve(dir, rootPath);
  const problems = semanticProblems(spec, rootfs);
  if (problems.length) throw invalid(configPath, problems);
  phase('config: semantic checks');
  return { dir, rootfs, spec };
}
