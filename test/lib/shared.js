'use strict';
// The project's reference material (runtime-spec text and schemas, caller
// configs) lives in shared/ beside the repository checkout.
const fs = require('fs');
const path = require('path');

const candidates = [
  process.env.TSRUNC_SHARED,
  path.resolve(__dirname, '..', '..', '..', 'shared'),
  '/work/shared',
].filter(Boolean);

const SHARED = candidates.find((d) => fs.existsSync(path.join(d, 'reference'))) || candidates[1];

module.exports = { SHARED, shared: (...p) => path.join(SHARED, ...p) };
