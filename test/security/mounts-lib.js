'use strict';
// What mount-race.test.js and procfs.test.js share: mountinfo parsing,
// snapshots of a host directory, and the check that a bundle is refused.
const fs = require('fs');
const path = require('path');
const assert = require('uvu/assert');
const h = require('../lib/harness');

const unescape = h.unescapeMountinfo;

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

/** What differs in `dir` from `before` (a snapshotTree of it): [{ path (relative), was, now }], undefined where absent. */
function treeChanges(dir, before) {
  const now = snapshotTree(dir);
  return [...new Set([...Object.keys(before), ...Object.keys(now)])]
    .filter((k) => before[k] !== now[k])
    .map((k) => ({ path: k, was: before[k], now: now[k] }));
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

module.exports = {
  parseMountinfo,
  isUnder,
  snapshotTree,
  treeChanges,
  refused,
};
