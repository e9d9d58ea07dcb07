'use strict';
// dist/tsrunc.js is the source of one function, which bin/tsrunc compiles and
// calls as Node calls a CommonJS module's: written wrapped by the build, so
// that the launcher compiles the file's text as it is (wrapped at run time,
// by Module.wrap, the source existed twice in every command's heap).
const HEAD = '(function (exports, require, module, __filename, __dirname) {';
const TAIL = '\n})';

/** The bundle file for a module's code. */
const wrapBundle = (code) => HEAD + code + TAIL;

module.exports = { wrapBundle };
