'use strict';
// CRIU's RPC without CRIU: the protobuf wire form of the requests tsrunc
// sends (checked byte by byte against hand-encoded messages of rpc.proto),
// the answers it reads (unknown fields skipped, malformed ones refused), the
// quoting of CRIU's log, and runc's rules for the shared options. The
// exchange with a real CRIU is test/e2e/checkpoint.test.js's (in the VM guest).
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const rpc = require('../../dist/criu/rpc.js');
const { criuLogErrors } = require('../../dist/criu/log.js');
const { criuOptions, cgroupMode, criuConfigFile } = require('../../dist/container/criu-options.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-criu-unit-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const hex = (b) => Buffer.from(b).toString('hex');

test('a VERSION request is field 1 (type) = 10: 08 0a', () => {
  assert.is(hex(rpc.encodeReq({ type: rpc.ReqType.VERSION })), '080a');
});

test('a DUMP request: nested opts, negative int32 as ten bytes, strings, bools, enums, repeated messages, in field order', () => {
  const buf = rpc.encodeReq({
    type: rpc.ReqType.DUMP,
    opts: {
      imagesDirFd: -1,
      pid: 300,
      leaveRunning: true,
      logFile: 'dump.log',
      extMnt: [{ key: '/a', val: '/b' }],
      manageCgroupsMode: rpc.CgMode.SOFT,
      emptyNs: 0x40000000,
    },
  });
  const opts = [
    '08', 'ffffffffffffffffff01', // images_dir_fd = -1 (varint of the 64-bit two's complement)
    '10', 'ac02', // pid = 300
    '18', '01', // leave_running
    '52', '08', hex('dump.log'), // log_file (10 << 3 | 2 = 0x52)
    'ba01', '08', '0a02', hex('/a'), '1202', hex('/b'), // ext_mnt (23 << 3 | 2 = 0xba 0x01), a message of key and val
    '9002', '03', // manage_cgroups_mode (34 << 3 = 0x110) = SOFT
    'b002', '8080808004', // empty_ns (38 << 3 = 0x130) = CLONE_NEWNET
  ].join('');
  const want = `0801${'12'}${(opts.length / 2).toString(16).padStart(2, '0')}${opts}`;
  assert.is(hex(buf), want);
  // and back, as CRIU reads it
  const back = rpc.decodeReq(buf);
  assert.equal(back, {
    type: 1,
    opts: { imagesDirFd: -1, pid: 300, leaveRunning: true, logFile: 'dump.log', extMnt: [{ key: '/a', val: '/b' }], manageCgroupsMode: 3, emptyNs: 0x40000000 },
  });
});

test('a RESTORE request round-trips with every kind of field the restore sends', () => {
  const opts = {
    imagesDirFd: 17, workDirFd: 18, evasiveDevices: true, logLevel: 4, logFile: 'restore.log', rstSibling: true, root: '/run/x/criu-root',
    manageCgroups: true, manageCgroupsMode: rpc.CgMode.IGNORE, notifyScripts: true, shellJob: false, orphanPtsMaster: true,
    extMnt: [{ key: '/sys/fs/cgroup', val: '/sys/fs/cgroup/c1' }, { key: '/dev/null', val: '/dev/null' }],
    inheritFd: [{ key: 'pipe:[123]', fd: 0 }, { key: 'extRootNetNS', fd: 4 }],
    joinNs: [{ ns: 'ipc', nsFile: '/proc/1/ns/ipc' }],
    cgRoot: [{ path: '/system.slice/c1' }, { ctrl: 'cpu,cpuacct', path: '/c1' }],
    external: ['net[4026531992]:extRootNetNS'],
    ps: { address: '127.0.0.1', port: 27277 },
    lsmProfile: 'apparmor:x', configFile: '/etc/criu/runc.conf', statusFd: 5, lazyPages: true,
  };
  assert.equal(rpc.decodeReq(rpc.encodeReq({ type: rpc.ReqType.RESTORE, opts })), { type: rpc.ReqType.RESTORE, opts });
  // IGNORE is 0: present, not left out as a default
  assert.ok(hex(rpc.encodeReq({ type: 2, opts: { imagesDirFd: 1, manageCgroupsMode: 0 } })).includes('900200'));
  assert.throws(() => rpc.encodeReq({ type: 2, opts: { imagesDirFd: 1, bogus: 1 } }), /unknown field bogus/);
});

test('answers: VERSION, a notification, a failure; fields CRIU adds later are skipped', () => {
  // type VERSION, success, version { major 3, minor 17, sublevel 1 } (field 10: 0x52)
  const v = rpc.decodeResp(Buffer.from('080a1001' + '5206' + '0803' + '1011' + '2001', 'hex'));
  assert.equal(v, { type: 10, success: true, version: { majorNumber: 3, minorNumber: 17, sublevel: 1 } });
  assert.is(rpc.versionNumber(v.version), 31701);
  const n = rpc.decodeResp(rpc.encodeResp({ type: rpc.ReqType.NOTIFY, success: true, notify: { script: 'post-restore', pid: 4242 } }));
  assert.equal(n.notify, { script: 'post-restore', pid: 4242 });
  const f = rpc.decodeResp(rpc.encodeResp({ type: rpc.ReqType.DUMP, success: false, crErrno: 2, crErrmsg: 'No such file' }));
  assert.is(f.success, false);
  assert.is(f.crErrno, 2);
  assert.is(f.crErrmsg, 'No such file');
  // unknown fields of each wire type: varint (99), fixed64 (98), length-delimited (97), fixed32 (96)
  const unknown = '98060a' + '910600000000000000ff' + '8a0603616263' + '8506deadbeef';
  assert.equal(rpc.decodeResp(Buffer.from('0801' + unknown + '1001', 'hex')), { type: 1, success: true });
});

test('malformed answers are refused, not misread', () => {
  assert.throws(() => rpc.decodeResp(Buffer.from('0801', 'hex')), /no type or success/);
  assert.throws(() => rpc.decodeResp(Buffer.from('0801100152', 'hex')), /truncated/);
  assert.throws(() => rpc.decodeResp(Buffer.from('08ffffffffffffffffffff01', 'hex')), /varint longer than 10 bytes/);
  assert.throws(() => rpc.decodeResp(Buffer.from('0801100152ff', 'hex')), /truncated/);
});

test('criuLogErrors: the first error without its timestamp and location, the lines before each error, a kernel CRIU cannot work with', () => {
  const dir = path.join(tmp, 'log');
  fs.mkdirSync(dir);
  const lines = [
    '(00.000000) Parsing config file /etc/criu/default.conf',
    '(00.001195) Version: 3.17.1 (gitid 0)',
    '(00.014791) vdso: nbucket 3 nchain e',
    '(00.014793) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds',
    '(00.014795) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable',
    '(00.014796) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.',
    ...Array.from({ length: 10 }, (_, i) => `(00.02) line ${i}`),
    '(00.03) Error (criu/files.c:1): late error',
  ];
  fs.writeFileSync(path.join(dir, 'dump.log'), lines.join('\n') + '\n');
  const e = criuLogErrors(dir, 'dump.log');
  assert.is(e.first, 'vdso: Unexpected rt vDSO area bounds');
  assert.ok(e.kerndat);
  assert.is(e.file, path.join(dir, 'dump.log'));
  assert.is(e.quoted[0], `1:${lines[0]}`);
  assert.ok(e.quoted.includes(`6:${lines[5]}`));
  assert.ok(e.quoted.includes('...'), 'a gap between distant errors');
  assert.is(e.quoted[e.quoted.length - 1], `17:${lines[16]}`);
  assert.is(criuLogErrors(dir, 'missing.log'), undefined);
  fs.writeFileSync(path.join(dir, 'ok.log'), '(00.1) all fine\n');
  assert.equal(criuLogErrors(dir, 'ok.log'), { file: path.join(dir, 'ok.log'), quoted: [], kerndat: false });
});

test('criuOptions: runc\'s rules and words for the image and parent paths, the cgroup mode, --page-server, --empty-ns, --status-fd', () => {
  const img = path.join(tmp, 'opts', 'a', 'image');
  const o = criuOptions({ imagePath: img });
  assert.ok(fs.statSync(img).isDirectory(), 'the image directory is made');
  assert.is(fs.statSync(img).mode & 0o777, 0o700);
  assert.is(o.criu, 'criu');
  assert.is(o.cgMode, rpc.CgMode.DEFAULT);
  assert.is(o.emptyNs, 0x40000000, 'the network namespace is always empty: runc does not manage network devices');
  assert.is(o.statusFd, -1);
  assert.is(criuOptions({ imagePath: img, emptyNs: ['network'] }).emptyNs, 0x40000000);
  assert.throws(() => criuOptions({ imagePath: img, emptyNs: ['pid'] }), /^namespace "pid" is not supported$/);
  assert.throws(() => criuOptions({ imagePath: img, parentPath: '/abs' }), /^--parent-path must be relative$/);
  assert.throws(() => criuOptions({ imagePath: img, parentPath: '../none' }), /^invalid --parent-path: stat .*\/none: no such file or directory$/);
  fs.writeFileSync(path.join(tmp, 'opts', 'a', 'file'), '');
  assert.throws(() => criuOptions({ imagePath: img, parentPath: '../file' }), /^invalid --parent-path: .*: not a directory$/);
  fs.mkdirSync(path.join(tmp, 'opts', 'a', 'pre'));
  assert.is(criuOptions({ imagePath: img, parentPath: '../pre' }).parentPath, '../pre');
  assert.equal(criuOptions({ imagePath: img, pageServer: '10.0.0.1:27277' }).pageServer, { address: '10.0.0.1', port: 27277 });
  assert.equal(criuOptions({ imagePath: img, pageServer: '[::1]:1' }).pageServer, { address: '::1', port: 1 });
  assert.throws(() => criuOptions({ imagePath: img, pageServer: 'nohost' }), /^Use --page-server ADDRESS:PORT to specify page server$/);
  assert.throws(() => criuOptions({ imagePath: img, pageServer: ':27' }), /^Use --page-server ADDRESS:PORT/);
  assert.throws(() => criuOptions({ imagePath: img, pageServer: 'h:x' }), /^Invalid port number$/);
  assert.throws(() => criuOptions({ imagePath: img, statusFd: -2 }), /--status-fd/);
  for (const [mode, want] of [['soft', 3], ['full', 4], ['strict', 5], ['ignore', 0], ['', 6]]) assert.is(cgroupMode(mode), want, mode);
  assert.throws(() => cgroupMode('props'), /invalid manage-cgroups-mode value/);
});

test('criuConfigFile: the annotation org.criu.config, empty for none, else runc\'s /etc/criu/runc.conf', () => {
  assert.is(criuConfigFile(undefined), '/etc/criu/runc.conf');
  assert.is(criuConfigFile({ 'org.criu.config': '/x.conf' }), '/x.conf');
  assert.is(criuConfigFile({ 'org.criu.config': '' }), undefined);
});

test.run();
