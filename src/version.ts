/** The runtime-spec version this build implements (written into `tsrunc spec` configs). */
export const SPEC_VERSION = '1.3.0';

export const TSRUNC_VERSION: string = require('../package.json').version;

/**
 * The commit this build was made from (`git describe --dirty --long --always`,
 * as runc's Makefile sets its gitCommit), which the build writes into
 * dist/build-info.json; '' for a build outside a git checkout, when the
 * version text leaves the line out, as runc does.
 */
export const TSRUNC_COMMIT: string = buildCommit();

function buildCommit(): string {
  try {
    const info: unknown = require('./build-info.json');
    const commit = (info as { commit?: unknown } | null)?.commit;
    return typeof commit === 'string' ? commit : '';
  } catch {
    return '';
  }
}
