/** The runtime-spec version this build implements (written into `tsrunc spec` configs). */
export const SPEC_VERSION = '1.3.0';
// eslint-disable-next-line @typescript-eslint/no-var-requires
export const TSRUNC_VERSION: string = require('../package.json').version;
