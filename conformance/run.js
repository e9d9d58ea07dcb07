#!/usr/bin/env node
'use strict';
// tsrunc conformance suite, TAP output.
//
//   node conformance/run.js [--runtime PATH] [--known-failures NAME] [--verbose] [--list] [case ...]
//
// Runs the cases (all by default) against a runc-compatible runtime
// (default: bin/tsrunc of this repo) and prints TAP version 13. Exit status
// 0 when no case failed, 1 otherwise. Must run as root.
const path = require('path');
const conf = require('./lib');

function usage(code) {
  process.stdout.write(`usage: node conformance/run.js [--runtime PATH] [--known-failures NAME] [--verbose] [--list] [case ...]
  --runtime PATH  runtime binary (default: $TSRUNC_TEST_RUNTIME, else ${path.relative(process.cwd(), conf.DEFAULT_RUNTIME) || conf.DEFAULT_RUNTIME})
  --known-failures NAME
                  report the listed known failures of a reference runtime as
                  TODO, not as failures (names: ${Object.keys(conf.KNOWN).join(', ')})
  --verbose       print every check, not only the failed ones
  --list          list the cases and exit
  case            case names (default: all); a name ending in * is a prefix
`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = {
    runtime: process.env.TSRUNC_TEST_RUNTIME || conf.DEFAULT_RUNTIME,
    known: process.env.TSRUNC_CONFORMANCE_KNOWN || '',
    verbose: false,
    list: false,
    names: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runtime') opts.runtime = argv[++i];
    else if (a.startsWith('--runtime=')) opts.runtime = a.slice('--runtime='.length);
    else if (a === '--known-failures') opts.known = argv[++i];
    else if (a.startsWith('--known-failures=')) opts.known = a.slice('--known-failures='.length);
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--help' || a === '-h') usage(0);
    else if (a.startsWith('-')) { process.stderr.write(`unknown option ${a}\n`); usage(2); }
    else opts.names.push(a);
  }
  if (!opts.runtime) usage(2);
  if (opts.known && !conf.KNOWN[opts.known]) {
    process.stderr.write(`unknown --known-failures ${opts.known} (have: ${Object.keys(conf.KNOWN).join(', ')})\n`);
    process.exit(2);
  }
  opts.runtime = path.resolve(opts.runtime);
  return opts;
}

function selectCases(names) {
  if (names.length === 0) return conf.cases;
  const out = [];
  for (const n of names) {
    const matched = n.endsWith('*')
      ? conf.cases.filter((c) => c.name.startsWith(n.slice(0, -1)))
      : conf.cases.filter((c) => c.name === n);
    if (matched.length === 0) {
      process.stderr.write(`no such case: ${n} (see --list)\n`);
      process.exit(2);
    }
    for (const c of matched) if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** A YAML double-quoted scalar (JSON strings are valid ones). */
const y = (s) => JSON.stringify(String(s));

function diagnostic(result, verbose) {
  const lines = ['  ---'];
  const shown = verbose ? result.checks : result.checks.filter((c) => !c.ok);
  if (shown.length) {
    lines.push(verbose ? '  checks:' : '  failed:');
    for (const c of shown) {
      lines.push(`    - name: ${y(c.name)}`);
      if (verbose) lines.push(`      ok: ${c.ok}`);
      if (c.detail) lines.push(`      detail: ${y(c.detail)}`);
    }
  }
  lines.push(`  passed_checks: ${result.checks.filter((c) => c.ok).length}`);
  lines.push(`  failed_checks: ${result.checks.filter((c) => !c.ok).length}`);
  if (!result.ok && result.log.length) {
    lines.push('  runtime_commands:');
    for (const l of result.log.slice(-12)) {
      lines.push(`    - ${y(`${l.cmd}${l.async ? '' : ` -> ${l.status}`}${l.stderr ? `: ${l.stderr}` : ''}`)}`);
    }
  }
  if (result.cleanupErrors.length) {
    lines.push('  cleanup_errors:');
    for (const e of result.cleanupErrors) lines.push(`    - ${y(e)}`);
  }
  lines.push('  ...');
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const selected = selectCases(opts.names);
  if (opts.list) {
    for (const c of selected) process.stdout.write(`${c.name}\t${c.description}\n`);
    return 0;
  }
  let stop = false;
  process.on('SIGINT', () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('interrupted: finishing the current case (and its cleanup); interrupt again to quit at once\n');
  });
  process.on('SIGTERM', () => { stop = true; });

  const env = conf.environment(opts.runtime);
  process.stdout.write('TAP version 13\n');
  process.stdout.write(`# runtime: ${opts.runtime}\n`);
  process.stdout.write(`1..${selected.length}\n`);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let todo = 0;
  let n = 0;
  for (const c of selected) {
    n += 1;
    if (stop) {
      process.stdout.write(`not ok ${n} - ${c.name} # SKIP interrupted\n`);
      skipped += 1;
      continue;
    }
    const t0 = Date.now();
    const result = conf.applyKnown(await conf.runCase(opts.runtime, c, env), opts.known);
    const ms = Date.now() - t0;
    if (result.skip) {
      skipped += 1;
      process.stdout.write(`ok ${n} - ${c.name} # SKIP ${result.skip}\n`);
      continue;
    }
    if (result.todo) {
      todo += 1;
      process.stdout.write(`not ok ${n} - ${c.name} # TODO known ${opts.known} failure: ${result.todo.join('; ')}\n`);
    } else {
      if (result.ok) passed += 1; else failed += 1;
      process.stdout.write(`${result.ok ? 'ok' : 'not ok'} ${n} - ${c.name}${result.fixed ? ` # listed as a known ${opts.known} failure but passed` : ''}\n`);
    }
    if (!result.ok || opts.verbose || result.cleanupErrors.length) process.stdout.write(`${diagnostic(result, opts.verbose)}\n`);
    process.stdout.write(`# ${c.name}: ${result.checks.length} checks, ${ms} ms\n`);
  }
  process.stdout.write(`# ${skipped} skipped${opts.known ? `, ${todo} known ${opts.known} failures (TODO)` : ''}\n`);
  process.stdout.write(`# ${passed} passed, ${failed} failed\n`);
  return failed === 0 && !stop ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (e) => {
  process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
