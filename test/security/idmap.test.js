'use strict';
// Idmapped mounts (docs/security.md, "Idmapped mounts"): a hostile container
// root, with every capability in its user namespace, must get nothing through
// its idmapped mounts beyond what their mappings give. The runtime makes the
// mapped copies as the host's root (bind-sources.ts, idmap-mount.ts); what
// must not follow them into the container: the fds of the copies and of the
// user namespaces made for mappings, a way to drop or replace a mapping, a
// way to idmap the host's filesystem itself, or write access to files whose
// on-disk owners the mapping leaves out. A static payload tries each.
//
// runc 1.1.5 has no idmapped mounts: its suite is skipped.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const assert = require('uvu/assert');
const lib = require('./lib');
const { skip } = require('../lib/skip');
const { CAPABILITIES, kernelLastCap, currentBoundingSet } = require('../../dist/linux/capabilities.js');

const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
// on-disk 1000 is the container's root through this mount, and nothing else is mapped
const OWN = [{ containerID: 1000, hostID: 100000, size: 1 }];

function whyNot(runtime) {
  if (runtime === 'runc') return 'runc 1.1.5 has no idmapped mounts';
  const r = spawnSync('unshare', ['-U', 'true'], { encoding: 'utf8' });
  if (r.status !== 0) return `user namespaces cannot be created here (${r.stderr.trim()}; on a stacked root run in .ci/single-root.sh)`;
  return undefined;
}

function dirWith(ctx, owner, files) {
  const dir = ctx.tmp('src');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o755);
  fs.chownSync(dir, owner, owner);
  for (const [name, uid] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), `${name}\n`, { mode: 0o644 });
    fs.chownSync(path.join(dir, name), uid, uid);
  }
  return dir;
}

lib.suites('idmap', (add, ctx, runtime) => {
  add('a container root with every capability gets nothing beyond its idmapped mounts\' mappings', () => {
    const why = whyNot(runtime);
    if (why) return skip(why);
    const idm = dirWith(ctx, 0, { 'root.txt': 0, 'far.txt': 70000 });
    const own = dirWith(ctx, 1000, { 'root.txt': 0, 'mine.txt': 1000 });
    const plain = dirWith(ctx, 0, { 'host.txt': 0 });
    // every capability the host's bounding set has (root here lacks CAP_SYS_RESOURCE)
    const caps = CAPABILITIES.slice(0, kernelLastCap() + 1).filter((_, n) => currentBoundingSet() & (1n << BigInt(n)));
    const b = ctx.makeBundle({
      args: ['/idmap-escape', '/mnt/idm', '/mnt/own', '/mnt/plain'],
      extraMounts: [
        { destination: '/mnt/idm', type: 'bind', source: idm, options: ['rbind', 'idmap'] },
        { destination: '/mnt/own', type: 'bind', source: own, options: ['rbind', 'ridmap'], uidMappings: OWN, gidMappings: OWN },
        { destination: '/mnt/plain', type: 'bind', source: plain, options: ['rbind'] },
      ],
      edit: (c) => {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = MAP;
        c.linux.gidMappings = MAP;
        c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
        c.process.noNewPrivileges = false;
      },
    });
    for (const d of ['idm', 'own', 'plain']) fs.mkdirSync(path.join(b.rootfs, 'mnt', d), { recursive: true });
    lib.installPayload(b, lib.payload('idmap-escape'));
    const id = ctx.id('idmesc');
    const r = ctx.rt(['run', '--bundle', b.dir, id]);
    ctx.leftovers({ id, bundle: b });
    assert.is(r.status, 0, `run: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^idmap-escape end$/m, r.stdout);
    const got = (k) => (new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout) || [])[1];
    const problems = [];
    if (got('fds') !== 'none') problems.push(`the container holds fds beyond stdio: ${r.stdout.split('\n').filter((l) => l.startsWith('fds=')).join('; ')}`);
    const refused = {
      clear: 'it dropped the mapping of its idmapped mount',
      remap: 'it gave a copy of its idmapped mount a mapping of its own',
      plain: 'it idmapped a bind of the host\'s filesystem itself',
      'unmapped-w': 'it wrote a file whose on-disk owner (70000) its mapping leaves out',
      'own-root-w': 'it wrote an on-disk root file through a mount whose mapping has only on-disk 1000',
      'own-chown': 'it chowned to uid 5 through a mount whose mapping has only on-disk 1000',
    };
    for (const [k, what] of Object.entries(refused)) {
      const v = got(k);
      if (v === undefined || v === 'ok') problems.push(`${k}=${v}: ${what}`);
    }
    assert.equal(problems, [], `the container got more than its mappings give:\n  ${problems.join('\n  ')}\n${r.stdout}`);
    // from the host: nothing changed, and what it made is on-disk 1000, the mapping's only id
    assert.is(fs.readFileSync(path.join(idm, 'far.txt'), 'utf8'), 'far.txt\n');
    assert.is(fs.readFileSync(path.join(own, 'root.txt'), 'utf8'), 'root.txt\n');
    assert.is(fs.statSync(path.join(own, 'mine.txt')).uid, 1000);
    assert.is(got('own-create'), '0:0', 'inside, its file is its root\'s');
    const made = fs.statSync(path.join(own, 'made.txt'));
    assert.equal([made.uid, made.gid], [1000, 1000], 'on disk, its file is on-disk 1000\'s');
  });
});
