'use strict';
// Bundles the compiled CLI (dist/cli/main.js, every module it can load, yargs,
// ajv's runtime, the generated validators) into one file, dist/tsrunc.js,
// which bin/tsrunc runs. Every tsrunc command is a fresh Node process: one
// file instead of ~150 saves the module resolution and reads, and lets
// bin/tsrunc keep a V8 code cache of it. Modules stay lazily evaluated
// (esbuild wraps each CommonJS module), so a command still runs only the code
// it needs. koffi stays outside (a native addon). Run by `npm run build`
// after tsc and build-validators.
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');
const Module = require('module');

const ROOT = path.resolve(__dirname, '..', '..');

/** yargs' `require('assert')` gets assert-lite.js (see there why). */
const yargsAssert = {
  name: 'yargs-assert-lite',
  setup(build) {
    build.onResolve({ filter: /^(node:)?assert$/ }, (args) => (
      args.importer.includes(`${path.sep}node_modules${path.sep}yargs${path.sep}`)
        ? { path: path.join(__dirname, 'assert-lite.js') }
        : undefined));
  },
};

/**
 * yargs reads process.stdout.columns when it loads (for the width of help
 * text), which sets up the stdout stream: about 10 ms of every command, most
 * of which print nothing or write fd 1 directly. Made a getter, it runs only
 * when help is printed. Where yargs' text differs, the bundle keeps it as it
 * is (and is that much slower): a warning, not a failure.
 */
const STD_COLUMNS = 'stdColumns:void 0!==process.stdout.columns?process.stdout.columns:null';
const yargsLazyColumns = {
  name: 'yargs-lazy-columns',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]yargs[\\/]build[\\/]index\.cjs$/ }, (args) => {
      const text = fs.readFileSync(args.path, 'utf8');
      if (!text.includes(STD_COLUMNS)) {
        return { contents: text, loader: 'js', warnings: [{ text: 'yargs-lazy-columns: pattern not found, stdout is set up at load' }] };
      }
      return { contents: text.replace(STD_COLUMNS, `get ${STD_COLUMNS.replace(':', '(){return ')}}`), loader: 'js' };
    });
  },
};

// bin/tsrunc's code caches belong to the bundle being replaced
fs.rmSync(path.join(ROOT, 'dist', '.v8-cache'), { recursive: true, force: true });

const outfile = path.join(ROOT, 'dist', 'tsrunc.js');

/**
 * The bundle in ASCII: bin/tsrunc reads it as latin1, which makes V8's
 * string without decoding UTF-8 (~1 ms of every command). esbuild escapes
 * strings but leaves a regular expression's characters as they are; a
 * \uXXXX escape means the same character in a string, a template, a
 * regular expression, an identifier and a comment.
 */
function toAscii(file) {
  const text = fs.readFileSync(file, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) fs.writeFileSync(file, ascii);
}

esbuild.build({
  entryPoints: [path.join(ROOT, 'dist', 'cli', 'main.js')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['koffi'],
  plugins: [yargsAssert, yargsLazyColumns],
  logLevel: 'warning',
  // a third smaller to read for every command; names are kept for stack traces
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  charset: 'ascii',
  // node's module wrapper, which bin/tsrunc would otherwise add by copying the bundle's text
  banner: { js: Module.wrapper[0] },
  footer: { js: Module.wrapper[1] },
})
  .then(() => toAscii(outfile))
  .catch(() => process.exit(1));
