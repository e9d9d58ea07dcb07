'use strict';
// systemd units as the systemd tests see them, through systemctl. Each call is
// bounded: `systemctl stop` waits for its job with no limit of its own, and a
// test that waits forever hides where it hung (the vm guest then only says
// that its time ran out).
const { spawnSync } = require('child_process');

const SYSTEMCTL_TIMEOUT_MS = 60000;

function systemctl(args, opts = {}) {
  const r = spawnSync('systemctl', args, { encoding: 'utf8', timeout: SYSTEMCTL_TIMEOUT_MS, killSignal: 'SIGKILL', ...opts });
  if (r.error && r.error.code === 'ETIMEDOUT') throw new Error(`systemctl ${args.join(' ')}: no answer within ${SYSTEMCTL_TIMEOUT_MS / 1000} s`);
  return r;
}

/** `systemctl show UNIT -p LoadState,...props` as an object (LoadState not-found: no such unit). */
function unitShow(unit, props = []) {
  const r = systemctl(['show', unit, '-p', ['LoadState', ...props].join(',')]);
  return Object.fromEntries((r.stdout || '').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** Stops a unit a failed test left, and forgets it if it failed (it is not the harness's to know). */
function stopUnit(unit) {
  systemctl(['stop', unit], { stdio: 'ignore' });
  systemctl(['reset-failed', unit], { stdio: 'ignore' });
}

module.exports = { unitShow, stopUnit };
