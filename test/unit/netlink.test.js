'use strict';
// src/linux/netlink.ts: device name rules, and that a reply counts only when
// the kernel sent it. A root with CAP_NET_ADMIN in a network namespace the
// runtime works in (one joined by path, shared with a running container) can
// send netlink messages to the runtime's socket: a forged acknowledgement or
// error with the next sequence number, queued before the request, must not be
// taken as the kernel's answer. The forger here is a Python AF_NETLINK socket
// of this (root) process's namespace.
const { spawnSync } = require('child_process');
const { test } = require('uvu');
const assert = require('uvu/assert');
const { RouteSocket, deviceNameProblem } = require('../../dist/linux/netlink.js');
const { parseNodeList } = require('../../dist/linux/mempolicy.js');
const { skip } = require('../lib/skip');

test('device names: the kernel\'s rules (dev_valid_name), and one "%d" in a template', () => {
  for (const ok of ['eth0', 'a', 'x'.repeat(15), 'veth-1.2_3', 'é']) assert.is(deviceNameProblem(ok, false), undefined, ok);
  for (const bad of ['', 'x'.repeat(16), '.', '..', 'a/b', 'a:b', 'a b', 'a\tb', 'e%d']) assert.type(deviceNameProblem(bad, false), 'string', JSON.stringify(bad));
  assert.is(deviceNameProblem('eth%d', true), undefined);
  assert.is(deviceNameProblem('%dx', true), undefined);
  for (const bad of ['e%s', 'e%d%d', 'e%%d', '%']) assert.type(deviceNameProblem(bad, true), 'string', bad);
  assert.type(deviceNameProblem('ééééééééx', false), 'string', 'counted in bytes, not characters');
});

test('node lists: ranges, empty, bounded before they are expanded', () => {
  assert.equal(parseNodeList('0-3,7'), [0, 1, 2, 3, 7]);
  assert.equal(parseNodeList(' 1 , 0 '), [0, 1]);
  assert.equal(parseNodeList(''), []);
  assert.equal(parseNodeList(undefined), []);
  assert.equal(parseNodeList('2,2'), [2]);
  for (const bad of ['a', '1-', '-1', '3-1', '0,,1', '1024', '0-99999999999']) assert.type(parseNodeList(bad), 'string', bad);
});

test('a reply forged by another socket of the namespace is not taken for the kernel\'s', () => {
  if (process.geteuid() !== 0) return skip('sending to another netlink socket needs CAP_NET_ADMIN');
  const sock = RouteSocket.open();
  try {
    const port = sock.portId();
    const seq = sock.nextSeq();
    // NLMSG_ERROR, error -EPERM, for the request about to be sent; then a forged RTM_NEWLINK named "forged"
    const py = `
import socket, struct, sys
port, seq = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
err = struct.pack('=IHHII', 36, 2, 0, seq, 0) + struct.pack('=i', -1) + struct.pack('=IHHII', 16, 18, 1, seq, 0)
s.sendto(err, (port, 0))
`;
    const r = spawnSync('python3', ['-c', py, String(port), String(seq)], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const lo = sock.linkByName('lo');
    assert.ok(lo, 'the kernel\'s answer, not the forged EPERM');
    assert.is(lo.name, 'lo');
    assert.is(lo.index, 1);
  } finally {
    sock.close();
  }
});

test.run();
