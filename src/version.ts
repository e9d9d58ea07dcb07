/** The runtime-spec version this build implements (written into `tsrunc spec` configs). */
export const SPEC_VERSION = '1.3.0';
 
export const TSRUNC_VERSION: string = require('../package.json').version;
