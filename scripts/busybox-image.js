#!/usr/bin/env node
// Writes a busybox container image without network, as a docker-archive tar
// (manifest.json, image config, one layer): what `ctr images import`,
// `docker load` and `podman load` read. The layer is the rootfs that
// scripts/busybox-rootfs.js makes from Debian's busybox-static.
//   node scripts/busybox-image.js OUT.tar [NAME]    (NAME: localhost/busybox:latest)
// The image's command is `sh`, its PATH the usual one.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
}

function sha256File(p) {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(p, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (!n) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Writes `out`: one layer made of `rootfs` (owned by 0:0, reproducible), and
 * one image per entry of `images` ({ name, config }: config is the image
 * config's `config` object, e.g. { Env, Cmd }), all sharing that layer.
 */
function writeImageArchive(out, rootfs, images) {
  const work = fs.mkdtempSync(`${out}.work-`);
  try {
    const layerTmp = path.join(work, 'layer.tar');
    run('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '--mtime=@0', '--exclude=./.complete',
      '-C', rootfs, '-cf', layerTmp, '.']);
    const layerHex = sha256File(layerTmp);
    fs.mkdirSync(path.join(work, layerHex));
    fs.renameSync(layerTmp, path.join(work, layerHex, 'layer.tar'));
    const manifest = [];
    const files = [];
    for (const { name, config } of images) {
      const text = JSON.stringify({
        architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
        os: 'linux',
        created: '2024-01-01T00:00:00Z',
        config,
        rootfs: { type: 'layers', diff_ids: [`sha256:${layerHex}`] },
        history: [{ created: '2024-01-01T00:00:00Z', created_by: `tsrunc busybox-image: ${name}` }],
      });
      const hex = crypto.createHash('sha256').update(text).digest('hex');
      fs.writeFileSync(path.join(work, `${hex}.json`), text);
      if (!files.includes(`${hex}.json`)) files.push(`${hex}.json`);
      manifest.push({ Config: `${hex}.json`, RepoTags: [name], Layers: [`${layerHex}/layer.tar`] });
    }
    fs.writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest));
    run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', work, '-cf', out, 'manifest.json', ...files, `${layerHex}/layer.tar`]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return out;
}

module.exports = { writeImageArchive, PATH_ENV };

if (require.main === module) {
  const [out, name = 'localhost/busybox:latest'] = process.argv.slice(2);
  if (!out || process.argv.length > 4) {
    process.stderr.write('usage: busybox-image.js OUT.tar [NAME]   (NAME: localhost/busybox:latest)\n');
    process.exit(1);
  }
  const { busyboxRootfs } = require('../test/lib/rootfs');
  writeImageArchive(path.resolve(out), busyboxRootfs(), [{ name, config: { Env: [PATH_ENV], Cmd: ['sh'] } }]);
  process.stdout.write(`${path.resolve(out)}: ${name}\n`);
}
