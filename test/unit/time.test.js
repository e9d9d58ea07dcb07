'use strict';
// isoTime (src/state/time.ts): the text of Date.prototype.toISOString, made
// without it (its first call loads ICU's time zone data, 640 KiB resident).
const { test } = require('uvu');
const assert = require('uvu/assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { isoTime } = require('../../dist/state/time.js');
const { skip } = require('../lib/skip');

test('writes what toISOString writes, for every kind of date in the years 0 to 9999', () => {
  const samples = [0, 1, 999, -1, 951782400000 /* 2000-02-29 */, 4107542399999 /* 2100-02-28T23:59:59.999 */, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(0, 0, 1) - 0, -62135596800000 /* 0001-01-01 */];
  let seed = 42;
  for (let i = 0; i < 20000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    samples.push(Math.floor((seed / 2147483648) * 253402300799999) - (i % 2 ? 62135596800000 : 0));
  }
  for (const ms of samples) assert.is(isoTime(ms), new Date(ms).toISOString(), String(ms));
});

test('is now by default', () => {
  const before = Date.now();
  const t = Date.parse(isoTime());
  assert.ok(t >= before - 1 && t <= Date.now(), isoTime());
});

/** Address and size of ICU's data in node's binary (icudt*_dat), or undefined where node has none of its own. */
function icuData() {
  // node exports its whole API: the symbol list is tens of MB
  const nm = spawnSync('nm', ['-D', '-S', '--defined-only', process.execPath], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (nm.status !== 0) throw new Error(`nm ${process.execPath}: ${nm.error || nm.stderr}`);
  const m = /^([0-9a-f]+) ([0-9a-f]+) R icudt\d+_dat$/m.exec(nm.stdout || '');
  if (!m) return undefined;
  // a position-independent node is loaded at the start of its first mapping
  const elfType = fs.readFileSync(process.execPath).readUInt16LE(16);
  return { addr: parseInt(m[1], 16), size: parseInt(m[2], 16), pie: elfType === 3 };
}

test('does not load the time zone data (what it is for)', () => {
  const icu = icuData();
  if (!icu) return skip('time: node here has no ICU data of its own (icudt*_dat in its binary) to watch');
  // pages of ICU's data resident after each step (pagemap's present bit): what toISOString loads
  // after isoTime has run is what isoTime did not load
  const probe = `
    const fs = require('fs');
    const icu = ${JSON.stringify(icu)};
    const base = icu.pie ? parseInt(fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').find((l) => l.endsWith(process.execPath)), 16) : 0;
    const resident = () => {
      const pm = fs.openSync('/proc/self/pagemap', 'r');
      const b = Buffer.alloc(8);
      let n = 0;
      for (let a = Math.floor((base + icu.addr) / 4096) * 4096; a < base + icu.addr + icu.size; a += 4096) {
        fs.readSync(pm, b, 0, 8, (a / 4096) * 8);
        if (b[7] & 0x80) n++;
      }
      fs.closeSync(pm);
      return n;
    };
    const { isoTime } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/state/time.js'))});
    const before = resident();
    isoTime();
    const after = resident();
    new Date().toISOString();
    process.stdout.write(JSON.stringify({ isoTime: after - before, toISOString: resident() - after }));
  `;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const pages = JSON.parse(r.stdout);
  assert.ok(pages.toISOString >= 64, `toISOString loaded ${pages.toISOString} pages of ICU's data: the probe sees what it should`);
  assert.is(pages.isoTime, 0, `isoTime loaded ${pages.isoTime} pages of ICU's data`);
});

test.run();
