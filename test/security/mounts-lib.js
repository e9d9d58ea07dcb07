'use strict';
// What mount-race.test.js and procfs.test.js share: their payloads (C in
// payloads/), one suite per runtime (the tsrunc copy, then runc 1.1.5, the
// reference, where installed) with runc's known weaknesses, mountinfo
// parsing, and the check that a bundle is refused.
const fs = require('fs');
const path = require('path');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const lib = require('./lib');
const { skip } = require('../lib/skip');

const PAYLOADS = path.join(__dirname, 'payloads');

/** A compiled payload from payloads/<name>.c. */
function payload(name) {
  return lib.payload(name, fs.readFileSync(path.join(PAYLOADS, `${name}.c`), 'utf8'));
}

/**
 * One uvu suite per runtime, each with its own attack context.
 * define(add, ctx, runtime) adds the tests with add(name, fn). For runc, a
 * test named in knownRunc (name -> what runc 1.1.5 gets wrong) must fail: its
 * failure is printed as "KNOWN runc 1.1.5 WEAKNESS", and it fails if it
 * passes, so the list stays true; except a weakness given as
 * { weakness, racy: true }, which a race may miss in one run (then it says
 * so and passes). Without runc every runc test is skipped.
 * TSRUNC_SEC_RUNTIME=tsrunc|runc runs only that runtime's suite;
 * TSRUNC_SEC_ONLY=<text> only the tests whose name contains <text> (to debug one).
 */
function suites(file, define, { knownRunc = {} } = {}) {
  const only = process.env.TSRUNC_SEC_RUNTIME;
  for (const runtime of ['tsrunc', 'runc'].filter((r) => !only || r === only)) {
    const test = suite(`${file} ${runtime}`);
    const ctx = lib.attackContext(file, { runtime });
    if (ctx) h.install(test, ctx);
    const add = (name, fn) => {
      if (process.env.TSRUNC_SEC_ONLY && !name.includes(process.env.TSRUNC_SEC_ONLY)) return;
      test(name, async () => {
        if (!ctx) {
          skip(`${file}: ${name}: runc is not installed`);
          return;
        }
        const known = runtime === 'runc' ? knownRunc[name] : undefined;
        const weakness = known && (known.weakness || known);
        if (!weakness) {
          await fn();
          return;
        }
        let err;
        try {
          await fn();
        } catch (e) {
          err = e;
        }
        if (!err && known.racy) {
          console.log(`KNOWN runc 1.1.5 WEAKNESS ${file}: ${name}: not hit by the race this run: ${weakness}`);
          return;
        }
        if (!err) assert.unreachable(`"${name}" is listed as a known runc weakness (${weakness}) but runc passes it: remove it from knownRunc`);
        console.log(`KNOWN runc 1.1.5 WEAKNESS ${file}: ${name}: ${weakness}\n  ${String(err && err.message).split('\n')[0]}`);
      });
    };
    define(add, ctx, runtime);
    test.run();
  }
}

/** Polls fn() until it returns a truthy value; throws naming `what` after `timeout` ms. */
async function waitFor(fn, what, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await h.delay(10);
  }
}

const unescape = (s) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));

/** mountinfo text as [{ id, parent, root, mountPoint, options: [...], fstype, source }]. */
function parseMountinfo(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const f = line.slice(0, sep).split(' ');
    const [fstype, source] = line.slice(sep + 3).split(' ');
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      root: unescape(f[3]),
      mountPoint: unescape(f[4]),
      options: f[5].split(','),
      fstype,
      source: unescape(source || ''),
    });
  }
  return out;
}

/** `p` is `dir` or below it. */
const isUnder = (p, dir) => p === dir || p.startsWith(dir + '/');

/** A file's text, '' when it cannot be read. */
function readText(p) {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Every file and directory below `dir` (relative paths, sorted) with what it
 * holds: "dir", "file:<content>", "link:<target>", or "<type> <rdev>" for a
 * node. Nothing is followed: a planted symlink is reported, not traversed.
 */
function snapshotTree(dir) {
  const out = {};
  const walk = (rel) => {
    const p = path.join(dir, rel);
    for (const name of fs.readdirSync(p).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isDirectory()) {
        out[r] = 'dir';
        walk(r);
      } else if (st.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(path.join(dir, r))}`;
      else if (st.isFile()) out[r] = `file:${fs.readFileSync(path.join(dir, r), 'latin1')}`;
      else out[r] = `node mode=${(st.mode >>> 12).toString(8)} rdev=${st.rdev}`;
    }
  };
  walk('');
  return out;
}

/**
 * `create` of a bundle that must be refused: exit 1, one error line that
 * contains every string (or matches every RegExp) of `mentions`, nothing left
 * behind. `harmless()`, called right after `create` whatever its outcome,
 * asserts that the attack did nothing (so a runtime that accepts the bundle
 * fails on what it did, not only on its exit status). Returns the message.
 */
function refused(ctx, bundle, mentions, harmless = () => {}, id = ctx.id('mnt')) {
  const r = ctx.rt(['create', '--bundle', bundle.dir, id]);
  harmless();
  if (r.status === 0) {
    assert.unreachable(`create succeeded, it must be refused with an error that says ${mentions.join(' and ')}`);
  }
  assert.is(r.status, 1, `create: exit ${r.status} (signal ${r.signal})\nstderr: ${r.stderr}`);
  const msg = h.errorMessage(r.stderr);
  if (process.env.TSRUNC_SEC_VERBOSE) console.log(`[${ctx.runtimeName}] create refused: ${msg}`);
  for (const m of mentions) {
    if (m instanceof RegExp) assert.match(msg, m, `the error "${msg}" should match ${m}`);
    else assert.ok(msg.includes(m), `the error "${msg}" should say ${JSON.stringify(m)}`);
  }
  ctx.leftovers({ id, bundle });
  return msg;
}

module.exports = { payload, suites, waitFor, parseMountinfo, isUnder, readText, snapshotTree, refused };
