'use strict';
// linux.netDevices (config-linux.md "Network Devices"): `create` moves the
// named devices of the runtime's network namespace into the container's,
// renamed when asked (a "%d" template too), with their permanent addresses of
// global scope and nothing else, and sets them up; MAC address and MTU stay.
// Nothing moves them back (the spec forbids it, as runc and crun): when the
// container's own network namespace goes, the kernel destroys virtual devices
// (veth: both ends) and returns physical ones to the initial namespace; a
// namespace joined by path keeps them. Bad configs are refused by field with
// nothing moved; a runtime killed at the fault points of the move leaves a
// container `delete --force` removes, and then no device is held anywhere.
//
// The devices are made by the test with iproute2 on the host: veth pairs, and
// a single-ended one (dummy; ifb where the kernel has no dummy, as here), with
// names the harness deletes after each test, pass or fail. Physical devices
// cannot be made, so the kernel's return of those is not tested here.
const { spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const { userNamespacesWork, inUserNamespace } = require('../reliability/lib');

const test = suite('netdevices');
const ctx = h.createContext('netdevices');
h.install(test, ctx);
require('fs').chmodSync(ctx.base, 0o755); // a user-namespace root must reach the bundles

const NOT_TSRUNC = `${h.RUNTIME_NAME} is not tsrunc: runc 1.1.5 has no linux.netDevices (it ignores the field)`;

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `ip -j addr show dev NAME` (in the named network namespace `netns`), parsed; undefined when there is no such device. */
function device(name, netns) {
  const r = spawnSync('ip', [...(netns ? ['-n', netns] : []), '-j', 'addr', 'show', 'dev', name], { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout)[0];
}

const addrsOf = (dev) => (dev.addr_info || []).map((a) => `${a.local}/${a.prefixlen}`);

/** A veth pair on the host: `a` for the container, `b` its peer that stays. */
function veth() {
  const a = ctx.netdevName();
  const b = ctx.netdevName();
  ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  return { a, b };
}

let singleKind;
/** A single-ended virtual device: dummy, or ifb on a kernel without dummy (CONFIG_DUMMY unset here). */
function single() {
  const name = ctx.netdevName();
  for (const kind of singleKind ? [singleKind] : ['dummy', 'ifb']) {
    if (spawnSync('ip', ['link', 'add', name, 'type', kind], { stdio: 'ignore' }).status === 0) {
      singleKind = kind;
      return name;
    }
  }
  throw new Error('the kernel has neither dummy nor ifb devices');
}

/** Polls until `cond()` holds (the kernel frees a network namespace in a work queue, not at once). */
async function until(cond, what, timeout = 10000) {
  const end = Date.now() + timeout;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await h.delay(20);
  }
}

function tsruncOnly(name, fn) {
  test(name, async () => {
    if (!h.IS_TSRUNC) return skip(NOT_TSRUNC);
    await fn();
  });
}

const ok = (r, what) => assert.is(r.status, 0, `${what}: exit ${r.status} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

/** Prints, from inside the container, each device's line of `ip -o addr`, its flags, MAC address and MTU. */
const SHOW = (names) => names.map((n) => `ip -o addr show dev ${n}; echo "flags $(cat /sys/class/net/${n}/flags) mac $(cat /sys/class/net/${n}/address) mtu $(cat /sys/class/net/${n}/mtu)"`).join('; ');

tsruncOnly('a veth end moves in renamed and up, with its permanent global addresses only; MAC and MTU kept; the kernel destroys the pair when the container ends', async () => {
  const { a, b } = veth();
  ip('link', 'set', 'dev', a, 'mtu', '1400', 'address', '02:00:00:16:00:01');
  ip('addr', 'add', '10.231.0.1/24', 'dev', a);
  ip('addr', 'add', '10.231.0.9/24', 'dev', a, 'label', `${a}:7`);
  ip('addr', 'add', '2001:db8:231::1/64', 'dev', a, 'nodad');
  ip('addr', 'add', '10.231.1.1/32', 'dev', a, 'scope', 'host'); // not of global scope
  ip('addr', 'add', '10.231.2.1/24', 'dev', a, 'valid_lft', '3000', 'preferred_lft', '3000'); // not permanent
  const name = ctx.netdevName('ctr');
  const b1 = ctx.shBundle(SHOW([name]), (c) => {
    c.linux.netDevices = { [a]: { name } };
  });
  const id = ctx.id('nd');
  const r = ctx.rt(['run', '--bundle', b1.dir, id]);
  ok(r, 'run');
  const out = r.stdout;
  assert.match(out, new RegExp(`inet 10\\.231\\.0\\.1/24 .*scope global ${name}\\b`), out);
  assert.match(out, new RegExp(`inet 10\\.231\\.0\\.9/24 .*${name}:7`), `the alias label follows the new name:\n${out}`);
  assert.match(out, /inet6 2001:db8:231::1\/64 scope global/, out);
  assert.not.match(out, /10\.231\.1\.1/, 'an address of host scope stays behind');
  assert.not.match(out, /10\.231\.2\.1/, 'an address with a lifetime (not permanent) stays behind');
  const flags = /flags (0x[0-9a-f]+) mac (\S+) mtu (\d+)/.exec(out);
  assert.ok(flags, out);
  assert.ok(Number(flags[1]) & 1, `IFF_UP set in the container: ${flags[1]}`);
  assert.is(flags[2], '02:00:00:16:00:01');
  assert.is(flags[3], '1400');
  assert.is(device(a), undefined, 'gone from the host');
  // the container's network namespace is gone with its processes: the kernel destroys the veth, peer and all
  await until(() => !h.linkExists(b), `the peer ${b} is destroyed with the container's namespace`);
  ctx.leftovers({ id, bundle: b1 });
});

tsruncOnly('without a name a device keeps its own; several devices move; each gets only its own addresses', async () => {
  const d = single();
  const { a, b } = veth();
  ip('addr', 'add', '10.232.0.1/24', 'dev', d);
  ip('addr', 'add', '10.232.1.1/24', 'dev', a);
  const b1 = ctx.shBundle(`${SHOW([d, a])}; ls /sys/class/net`, (c) => {
    c.linux.netDevices = { [d]: {}, [a]: { name: '' } };
  });
  const id = ctx.id('nd');
  const r = ctx.rt(['run', '--bundle', b1.dir, id]);
  ok(r, 'run');
  assert.match(r.stdout, new RegExp(`inet 10\\.232\\.0\\.1/24 .*${d}\\b`), r.stdout);
  assert.match(r.stdout, new RegExp(`inet 10\\.232\\.1\\.1/24 .*${a}\\b`), r.stdout);
  assert.is((r.stdout.match(/inet 10\.232\./g) || []).length, 2, r.stdout);
  await until(() => !h.linkExists(d) && !h.linkExists(b), 'virtual devices destroyed with the namespace');
  ctx.leftovers({ id, bundle: b1 });
});

tsruncOnly('a name with "%d" is a template: the kernel names the device, and it gets its addresses', () => {
  const { a } = veth();
  ip('addr', 'add', '10.233.0.1/24', 'dev', a);
  const b1 = ctx.shBundle('ls /sys/class/net; ip -o -4 addr', (c) => {
    c.linux.netDevices = { [a]: { name: 'tpl%dx' } };
  });
  const id = ctx.id('nd');
  const r = ctx.rt(['run', '--bundle', b1.dir, id]);
  ok(r, 'run');
  assert.match(r.stdout, /^tpl0x$/m, r.stdout);
  assert.match(r.stdout, /tpl0x\s+inet 10\.233\.0\.1\/24/, r.stdout);
  ctx.leftovers({ id, bundle: b1 });
});

tsruncOnly('into a network namespace joined by path: the devices stay there after delete (nothing moves them back)', () => {
  const ns = ctx.netns();
  const { a } = veth();
  ip('addr', 'add', '10.234.0.1/24', 'dev', a);
  const name = ctx.netdevName('ctr');
  const b1 = ctx.makeBundle({
    edit: (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: ns.path } : n));
      c.linux.netDevices = { [a]: { name } };
    },
  });
  const id = ctx.id('nd');
  ok(ctx.rt(['create', '--bundle', b1.dir, id]), 'create');
  const inside = device(name, ns.name);
  assert.ok(inside, `${name} is in ${ns.name}`);
  assert.equal(addrsOf(inside), ['10.234.0.1/24']);
  assert.ok(inside.flags.includes('UP'), inside.flags.join(','));
  ok(ctx.rt(['delete', '--force', id]), 'delete --force');
  ctx.leftovers({ id, bundle: b1 });
  const after = device(name, ns.name);
  assert.ok(after, 'still in the namespace, its owner\'s to handle');
  assert.equal(addrsOf(after), ['10.234.0.1/24']);
  assert.is(device(a), undefined, 'not back on the host');
  assert.is(device(name), undefined, 'not back on the host');
});

tsruncOnly('a name taken in the container\'s namespace is refused before any device moves', () => {
  const ns = ctx.netns();
  const taken = ctx.netdevName('tkn');
  ip('-n', ns.name, 'link', 'add', taken, 'type', 'veth', 'peer', 'name', ctx.netdevName('tkp'));
  const first = single();
  const { a } = veth();
  ip('addr', 'add', '10.235.0.1/24', 'dev', first);
  ip('addr', 'add', '10.235.1.1/24', 'dev', a);
  const b1 = ctx.makeBundle({
    edit: (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: ns.path } : n));
      c.linux.netDevices = { [first]: {}, [a]: { name: taken } };
    },
  });
  const id = ctx.id('nd');
  const r = ctx.rt(['create', '--bundle', b1.dir, id]);
  assert.is(r.status, 1, r.stderr);
  const msg = h.errorMessage(r.stderr);
  assert.ok(msg.includes(`linux.netDevices["${a}"]`) && msg.includes(`"${taken}" already exists`), msg);
  ctx.leftovers({ id, bundle: b1 });
  assert.equal(addrsOf(device(first)), ['10.235.0.1/24'], `${first} still on the host with its address`);
  assert.equal(addrsOf(device(a)), ['10.235.1.1/24'], `${a} still on the host with its address`);
  assert.is(device(first, ns.name), undefined);
});

tsruncOnly('bad configs are refused by field, before anything exists; the devices stay as they were', () => {
  const d = single();
  ip('addr', 'add', '10.236.0.1/24', 'dev', d);
  const missing = ctx.netdevName('nix');
  const cases = [
    [(c) => { c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'network'); c.linux.netDevices = { [d]: {} }; }, 'linux.netDevices: unable to move network devices without a NET namespace'],
    [(c) => {
      c.linux.namespaces = c.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: `/proc/${process.pid}/ns/net` } : n));
      c.linux.netDevices = { [d]: {} };
    }, 'is the runtime\'s own'],
    [(c) => { c.linux.netDevices = { 'a/b': {} }; }, 'linux.netDevices["a/b"]: invalid network device name'],
    [(c) => { c.linux.netDevices = { ['x'.repeat(16)]: {} }; }, 'longer than 15 bytes'],
    [(c) => { c.linux.netDevices = { 'e%d': {} }; }, 'linux.netDevices["e%d"]: invalid network device name'],
    [(c) => { c.linux.netDevices = { [d]: { name: 'bad name' } }; }, `linux.netDevices["${d}"].name: invalid network device name "bad name"`],
    [(c) => { c.linux.netDevices = { [d]: { name: 'a:b' } }; }, '.name: invalid network device name "a:b"'],
    [(c) => { c.linux.netDevices = { [d]: { name: '..' } }; }, '.name: invalid network device name ".."'],
    [(c) => { c.linux.netDevices = { [d]: { name: 'e%s' } }; }, 'exactly one "%d"'],
    [(c) => { c.linux.netDevices = { [d]: { name: 'e%d%d' } }; }, 'exactly one "%d"'],
    [(c) => { c.linux.netDevices = { [d]: { name: 'same' }, other0: { name: 'same' } }; }, 'linux.netDevices["other0"]: "' + d + '" is moved in as "same" too'],
    [(c) => { c.linux.netDevices = { [d]: {}, other0: { name: d } }; }, `is moved in as "${d}" too`],
    [(c) => { c.linux.netDevices = { [missing]: {} }; }, `linux.netDevices["${missing}"]: no network device "${missing}" in the runtime's network namespace`],
  ];
  for (const [edit, expected] of cases) {
    const b1 = ctx.makeBundle({ edit });
    const id = ctx.id('nd');
    const r = ctx.rt(['create', '--bundle', b1.dir, id]);
    assert.is(r.status, 1, `${expected}: exit ${r.status}\n${r.stderr}`);
    const msg = h.errorMessage(r.stderr);
    assert.ok(msg.includes(expected), `"${msg}" should include: ${expected}`);
    ctx.leftovers({ id, bundle: b1 });
    assert.equal(addrsOf(device(d)), ['10.236.0.1/24'], `${expected}: ${d} untouched`);
  }
});

tsruncOnly('an empty netDevices moves nothing and needs no network namespace (as runc)', () => {
  const b1 = ctx.shBundle('true', (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'network');
    c.linux.netDevices = {};
  });
  const id = ctx.id('nd');
  ok(ctx.rt(['run', '--bundle', b1.dir, id]), 'run');
  ctx.leftovers({ id, bundle: b1 });
});

tsruncOnly('in a container with a user namespace (its network namespace is owned by it) the move and the addresses work', async () => {
  const why = userNamespacesWork();
  if (why) return skip(`user namespaces: ${why}`);
  const { a, b } = veth();
  ip('addr', 'add', '10.237.0.1/24', 'dev', a);
  const name = ctx.netdevName('ctr');
  const b1 = ctx.shBundle(SHOW([name]), (c) => {
    inUserNamespace(c);
    c.linux.netDevices = { [a]: { name } };
  });
  const id = ctx.id('nd');
  const r = ctx.rt(['run', '--bundle', b1.dir, id]);
  ok(r, 'run');
  assert.match(r.stdout, new RegExp(`inet 10\\.237\\.0\\.1/24 .*${name}\\b`), r.stdout);
  await until(() => !h.linkExists(b), 'the pair destroyed with the namespace');
  ctx.leftovers({ id, bundle: b1 });
});

// SIGKILL of the runtime after a device moved (before its addresses) and after all moved
// (src/faults.ts), with a new network namespace and with one joined by path.
for (const point of ['create:netdev-moved', 'create:netdevices']) {
  for (const kind of ['new', 'path']) {
    tsruncOnly(`runtime killed at ${point} (${kind} network namespace): delete --force removes the container, and no namespace holds the device after`, async () => {
      const ns = kind === 'path' ? ctx.netns() : undefined;
      const { a, b } = veth();
      ip('addr', 'add', '10.238.0.1/24', 'dev', a);
      const name = ctx.netdevName('ctr');
      const b1 = ctx.makeBundle({
        edit: (c) => {
          if (ns) c.linux.namespaces = c.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: ns.path } : n));
          c.linux.netDevices = { [a]: { name } };
        },
      });
      const id = ctx.id('nd');
      const r = ctx.rt(['create', '--bundle', b1.dir, id], { env: { ...process.env, TSRUNC_FAULT: point } });
      assert.is(r.signal, 'SIGKILL', `killed at ${point}: ${r.status} ${r.stderr}`);
      assert.is(device(a), undefined, 'moved before the kill');
      ok(ctx.rt(['delete', '--force', id]), 'delete --force');
      ctx.leftovers({ id, bundle: b1 });
      if (ns) {
        const inside = device(name, ns.name);
        assert.ok(inside, 'the joined namespace keeps it');
        assert.equal(addrsOf(inside), point === 'create:netdevices' ? ['10.238.0.1/24'] : []);
      } else {
        await until(() => !h.linkExists(b), 'the pair destroyed once the init is gone');
      }
    });
  }
}

test.run();
