'use strict';
// The benches' bundles (bench/run.js, bench/many.js): busybox, config.json as
// `runc spec` writes it (tsrunc spec where runc is missing), no terminal.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { copyRootfs } = require('../test/lib/rootfs.js');

/**
 * `bundle` runs /bin/true; `sleeper`, on the same rootfs, keeps running (a
 * container to exec into, ps, pause...).
 */
function makeBundle(tmp, runc, tsrunc) {
  const bundle = path.join(tmp, 'bundle');
  copyRootfs(path.join(bundle, 'rootfs'));
  const r = spawnSync(runc || tsrunc, ['spec'], { cwd: bundle, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`spec failed: ${r.stderr}`);
  const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = ['/bin/true'];
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config, null, '\t'));
  const sleeper = path.join(tmp, 'bundle-sleep');
  fs.mkdirSync(sleeper);
  config.root.path = path.join(bundle, 'rootfs');
  config.process.args = ['/bin/sleep', '1000'];
  fs.writeFileSync(path.join(sleeper, 'config.json'), JSON.stringify(config, null, '\t'));
  return { bundle, sleeper };
}

module.exports = { makeBundle };
