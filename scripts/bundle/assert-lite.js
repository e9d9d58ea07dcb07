'use strict';
// Stands in for node:assert inside the bundle, for yargs only: yargs uses
// these two functions to check its own invariants, and loading node:assert
// costs about 8 ms per tsrunc command (it sets up the stderr stream for its
// colour check).
function fail(message, actual, expected, operator) {
  const e = new Error(message || `${String(actual)} ${operator} ${String(expected)}`);
  e.name = 'AssertionError';
  Object.assign(e, { actual, expected, operator, code: 'ERR_ASSERTION' });
  throw e;
}

exports.strictEqual = (actual, expected, message) => {
  if (!Object.is(actual, expected)) fail(message, actual, expected, '===');
};

exports.notStrictEqual = (actual, expected, message) => {
  if (Object.is(actual, expected)) fail(message, actual, expected, '!==');
};
