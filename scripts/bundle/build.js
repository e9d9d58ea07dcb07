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
const { wrapBundle } = require('./wrap');
const { execFileSync } = require('child_process');

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

/**
 * dist/build-info.json: the commit `tsrunc --version` and `features` name
 * (src/version.ts), as runc's Makefile gives its build `git describe --dirty
 * --long --always`; empty outside a git checkout (a tarball), as with runc.
 */
function writeBuildInfo() {
  let commit = '';
  try {
    commit = execFileSync('git', ['describe', '--dirty', '--long', '--always'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* no git, or not a checkout */
  }
  fs.writeFileSync(path.join(ROOT, 'dist', 'build-info.json'), JSON.stringify({ commit }) + '\n');
}
writeBuildInfo(); // before bundling: the bundle holds it

// bin/tsrunc's code caches belong to the bundle being replaced
fs.rmSync(path.join(ROOT, 'dist', '.v8-cache'), { recursive: true, force: true });

/**
 * The bundle must be ASCII: one character above U+00FF anywhere (a regex
 * literal, which esbuild leaves as written) makes V8 hold the whole source as a
 * two-byte string, twice the memory in every command and every waiting init.
 * Fails the build with where it is; write such characters as \u escapes.
 */
function checkAscii(text) {
  const at = text.search(/[^\x00-\x7f]/);
  if (at < 0) return;
  const line = text.slice(0, at).split('\n').length;
  const around = text.slice(Math.max(0, at - 40), at + 20).replace(/\s+/g, ' ');
  throw new Error(`dist/tsrunc.js: non-ASCII character U+${text.codePointAt(at).toString(16).toUpperCase().padStart(4, '0')} at line ${line}: ...${around}... (write it as a \\u escape in the source)`);
}

esbuild.build({
  entryPoints: [path.join(ROOT, 'dist', 'cli', 'main.js')],
  outfile: path.join(ROOT, 'dist', 'tsrunc.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['koffi'],
  plugins: [yargsAssert, yargsLazyColumns],
  // the source stays in memory in every command (V8 compiles functions lazily from it):
  // without indentation and comments it is 30% smaller; names are kept for stack traces
  minifyWhitespace: true,
  write: false,
  logLevel: 'warning',
  // fewer bytes to read and hold in every command; names are kept for stack traces
  minifySyntax: true,
  legalComments: 'none',
  // escapes what it can (strings, identifiers); checkAscii finds what it cannot
  charset: 'ascii',
}).then((result) => {
  const text = result.outputFiles[0].text;
  checkAscii(text);
  fs.writeFileSync(path.join(ROOT, 'dist', 'tsrunc.js'), wrapBundle(text));
}).catch((e) => {
  if (e && !e.errors) process.stderr.write(`bundle: ${e.message}\n`);
  process.exit(1);
});
