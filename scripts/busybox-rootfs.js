#!/usr/bin/env node
// Makes a busybox root filesystem at DIR (which must not exist) from Debian's
// busybox-static: `node scripts/busybox-rootfs.js /tmp/bb8/rootfs`.
'use strict';
const { copyRootfs } = require('../test/lib/rootfs');
const dest = process.argv[2];
if (!dest) {
  process.stderr.write('usage: busybox-rootfs.js DIR\n');
  process.exit(1);
}
copyRootfs(require('path').resolve(dest));
