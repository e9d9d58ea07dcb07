'use strict';
// Skipping a test from its body, when only running it shows that it cannot
// run here (a kernel feature, a missing reference runtime). uvu has no such
// call: the test returns after skip(), uvu counts it as passed, and
// test/run.js, which sees the marker line, counts it as skipped instead.
const SKIP_MARK = '[skipped]';

/**
 * Prints the reason with the marker test/run.js counts. Return from the test right after.
 * On a line of its own: uvu's progress marks of the tests before share the line otherwise,
 * and test/run.js only counts a marker that starts a line.
 */
function skip(reason) {
  console.log(`\n${SKIP_MARK} ${reason}`);
}

module.exports = { SKIP_MARK, skip };
