'use strict';
// The conformance cases. Each case is
//   { name, description, skip(env) -> reason | null, run(ctx) }
// where ctx is a CaseContext (lib/context.js): run() adds checks to it.
const fs = require('fs');
const path = require('path');
const { baseConfig, CHECKER } = require('./bundle');
const { runSync, poll, sleep, readOrNull, isAlive, clip } = require('./util');
const host = require('./host');
const { CAP_BITS, RLIMIT_ROWS } = require('./checks');

const clone = (o) => JSON.parse(JSON.stringify(o));

function base(mutate) {
  const c = baseConfig();
  if (mutate) mutate(c);
  return c;
}

function setNamespace(config, type, nsPath) {
  const list = config.linux.namespaces.filter((n) => n.type !== type);
  list.push(nsPath ? { type, path: nsPath } : { type });
  config.linux.namespaces = list;
}

function mkfile(p, content, mode) {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  if (mode !== undefined) fs.chmodSync(p, mode);
}

/** Mounts on the host (recorded as the case's own mount at `target`). */
function mountOrThrow(ctx, args, target) {
  const r = runSync('mount', args);
  if (r.status !== 0) throw new Error(`mount ${args.join(' ')} failed: ${r.stderr}`);
  if (target) ctx.ownMounts.add(fs.realpathSync(target));
}

// ---- skip conditions -----------------------------------------------------------------

function needRoot(env) {
  return env.host.isRoot ? null : 'the harness must run as root';
}

/** Skip reason for a namespace type the kernel or the runtime lacks. */
function nsSkip(type) {
  return (env) => {
    const r = needRoot(env);
    if (r) return r;
    if (!env.host.ns[type]) return `the kernel has no ${type} namespace (/proc/self/ns/${host.NS_PROC_NAME[type]})`;
    if (type === 'user' && !(env.host.userNsMax > 0)) return 'user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)';
    const nsList = env.features && env.features.linux && env.features.linux.namespaces;
    if (Array.isArray(nsList) && !nsList.includes(type)) return `the runtime's features document does not list the ${type} namespace`;
    return null;
  };
}

// ---- cases ------------------------------------------------------------------------------

const cases = [];
const def = (name, description, run, skip = needRoot) => cases.push({ name, description, run, skip });

def('spec-default', 'the config made by `<runtime> spec` (terminal set to false) runs and matches what it asks for', async (ctx) => {
  const dir = path.join(ctx.dir, 'spec');
  fs.mkdirSync(dir, { recursive: true });
  const r = ctx.runtime.spec(dir);
  if (!ctx.add('runtime spec writes config.json', r.status === 0 && fs.existsSync(path.join(dir, 'config.json')), `exit ${r.status}: ${clip(r.stderr, 500)}`)) return;
  let config;
  try { config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')); } catch (e) {
    ctx.add('runtime spec writes valid JSON', false, String(e.message));
    return;
  }
  ctx.add('spec config has ociVersion, root.path and process', typeof config.ociVersion === 'string' && config.root && config.root.path === 'rootfs' && !!config.process,
    `ociVersion ${config.ociVersion}, root ${JSON.stringify(config.root)}`);
  fs.rmSync(dir, { recursive: true, force: true });
  config.process.terminal = false;
  await ctx.runChecker(config, { tag: 'spec' });
});

def('hostname', 'hostname and domainname in a new uts namespace', async (ctx) => {
  await ctx.runChecker(base((c) => { c.hostname = 'conformance-host'; c.domainname = 'conformance.example'; }), { tag: 'uts' });
});

def('process-user', 'process.user uid, gid, additionalGids and umask', async (ctx) => {
  await ctx.runChecker(base((c) => { c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 2000], umask: 0o027 }; }), { tag: 'user' });
});

def('process-cwd', 'process.cwd is the working directory', async (ctx) => {
  await ctx.runChecker(base((c) => { c.process.cwd = '/var/conformance-cwd'; }), {
    tag: 'cwd',
    prepare: (rootfs) => fs.mkdirSync(path.join(rootfs, 'var/conformance-cwd'), { recursive: true }),
  });
});

def('process-env', 'process.env is the exact environment', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.process.env = [
      'PATH=/bin:/usr/bin', 'HOME=/root', 'PLAIN=1', 'WITH_SPACES=a b  c', 'WITH_EQUALS=x=y=z',
      'EMPTY=', 'UNICODE=h\u00e9llo', 'QUOTES="\'$HOME\'"',
    ];
  }), { tag: 'env' });
});

def('process-args', 'process.args reach the program unchanged', async (ctx) => {
  await ctx.runChecker(base(), { tag: 'args', extraArgs: ['arg with spaces', '*', '$HOME', '', '--flag=value'] });
});

def('process-capabilities-root', 'capability sets for uid 0 with noNewPrivileges', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.process.capabilities = {
      bounding: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_NET_RAW'],
      permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP'],
      effective: ['CAP_CHOWN', 'CAP_KILL'],
      inheritable: ['CAP_KILL', 'CAP_NET_RAW'],
      ambient: ['CAP_KILL'],
    };
    c.process.noNewPrivileges = true;
  }), { tag: 'caps-root' });
});

def('process-capabilities-user', 'capability sets for a non-root uid (ambient capabilities survive execve)', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.capabilities = {
      bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_KILL'],
      ambient: ['CAP_KILL'],
    };
    c.process.noNewPrivileges = false;
  }), { tag: 'caps-user' });
});

def('process-rlimits-oom', 'process.rlimits, oomScoreAdj and noNewPrivileges=false', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 256, hard: 512 },
      { type: 'RLIMIT_CORE', soft: 1024, hard: 2048 },
      { type: 'RLIMIT_MSGQUEUE', soft: 4096, hard: 8192 },
      { type: 'RLIMIT_NPROC', soft: 5000, hard: 6000 },
    ];
    c.process.oomScoreAdj = 200;
    c.process.noNewPrivileges = false;
  }), { tag: 'rlimits' });
});

def('root-readonly', 'root.readonly=true makes / read-only', async (ctx) => {
  await ctx.runChecker(base((c) => { c.root.readonly = true; }), { tag: 'rootro' });
});

def('root-writable', 'root.readonly=false leaves / writable', async (ctx) => {
  await ctx.runChecker(base((c) => { c.root.readonly = false; }), { tag: 'rootrw' });
});

def('masked-paths', 'linux.maskedPaths: files and directories cannot be read', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.linux.maskedPaths = ['/proc/kcore', '/proc/timer_list', '/proc/keys', '/sys/firmware', '/etc/conformance-masked-file',
      '/etc/conformance-masked-dir', '/conformance-absent-path'];
  }), {
    tag: 'masked',
    prepare: (rootfs) => {
      mkfile(path.join(rootfs, 'etc/conformance-masked-file'), 'secret\n');
      mkfile(path.join(rootfs, 'etc/conformance-masked-dir/secret'), 'secret\n');
    },
  });
});

def('readonly-paths', 'linux.readonlyPaths: writes fail', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.linux.readonlyPaths = ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/etc/conformance-ro-dir', '/etc/conformance-ro-file', '/conformance-absent-path'];
  }), {
    tag: 'ropaths',
    prepare: (rootfs) => {
      mkfile(path.join(rootfs, 'etc/conformance-ro-dir/file'), 'x\n');
      mkfile(path.join(rootfs, 'etc/conformance-ro-file'), 'x\n');
    },
  });
});

def('devices', 'linux.devices: char, block, fifo and "u" devices with mode and owner, inside and outside /dev', async (ctx) => {
  const { facts } = await ctx.runChecker(base((c) => {
    c.linux.devices = [
      { path: '/dev/conformance-null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/conformance-owned', type: 'c', major: 1, minor: 5, fileMode: 0o640, uid: 1, gid: 2 },
      { path: '/dev/conformance-u', type: 'u', major: 1, minor: 9, fileMode: 0o600 },
      { path: '/dev/conformance-blk', type: 'b', major: 7, minor: 200, fileMode: 0o660, uid: 0, gid: 6 },
      { path: '/var/conformance-fifo', type: 'p', fileMode: 0o644 },
    ];
  }), { tag: 'devices', extraArgs: ['write=/dev/conformance-null', 'read=/dev/conformance-null'] });
  ctx.add('a configured device is usable (open for writing)', facts.write['/dev/conformance-null'] === 'ok', `write probe: ${facts.write['/dev/conformance-null']}`);
  const rd = facts.read['/dev/conformance-null'];
  ctx.add('a configured device is usable (open for reading)', rd && rd.ok, `read: ${JSON.stringify(rd)}`);
});

def('mounts', 'mounts: tmpfs with options, bind, read-only bind, rbind vs bind, file bind, relative source, order, missing destinations', async (ctx) => {
  const { facts, bundle } = await ctx.runChecker(base((c) => {
    c.mounts.push(
      { destination: '/mnt/tmpfs', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1770', 'size=1m'] },
      { destination: '/mnt/bind-rw', type: 'bind', source: path.join(ctx.dir, 'mounts-src/host-rw'), options: ['bind'] },
      { destination: '/mnt/bind-ro', type: 'bind', source: '../mounts-src/host-ro', options: ['bind', 'ro', 'nosuid', 'nodev'] },
      { destination: '/mnt/rbind', type: 'bind', source: path.join(ctx.dir, 'mounts-src/host-tree'), options: ['rbind'] },
      { destination: '/mnt/bind-norec', type: 'bind', source: path.join(ctx.dir, 'mounts-src/host-tree'), options: ['bind'] },
      { destination: '/etc/conformance-file', type: 'bind', source: path.join(ctx.dir, 'mounts-src/host-file.txt'), options: ['bind', 'ro'] },
      { destination: '/mnt/order', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      { destination: '/mnt/order/inner', type: 'bind', source: path.join(ctx.dir, 'mounts-src/host-rw'), options: ['bind'] },
      { destination: '/mnt/deep/a/b', type: 'tmpfs', source: 'tmpfs', options: ['ro'] },
    );
  }), {
    tag: 'mounts',
    bundleName: 'bundle',
    prepare: () => {
      const src = path.join(ctx.dir, 'mounts-src');
      mkfile(path.join(src, 'host-rw/marker'), 'rw-marker\n');
      mkfile(path.join(src, 'host-ro/marker'), 'ro-marker\n');
      mkfile(path.join(src, 'host-tree/marker'), 'tree-marker\n');
      mkfile(path.join(src, 'host-file.txt'), 'file-marker\n');
      fs.mkdirSync(path.join(src, 'host-tree/sub'));
      mountOrThrow(ctx, ['-t', 'tmpfs', '-o', 'size=1m', 'conformance-sub', path.join(src, 'host-tree/sub')], path.join(src, 'host-tree/sub'));
      mkfile(path.join(src, 'host-tree/sub/marker'), 'sub-marker\n');
    },
    extraArgs: [
      'read=/mnt/bind-rw/marker', 'read=/mnt/bind-ro/marker', 'read=/mnt/rbind/marker', 'read=/mnt/rbind/sub/marker',
      'read=/mnt/bind-norec/sub/marker', 'read=/etc/conformance-file', 'read=/mnt/order/inner/marker',
      'write=/mnt/bind-rw', 'write=/mnt/tmpfs', 'stat=/mnt/tmpfs',
    ],
  });
  const rd = (p) => facts.read[p] || { ok: false, value: 'not reported' };
  const want = (p, v, name) => ctx.add(name, rd(p).ok && rd(p).value === v, `${p}: ${JSON.stringify(rd(p))}`);
  want('/mnt/bind-rw/marker', 'rw-marker', 'bind mount shows the source directory');
  want('/mnt/bind-ro/marker', 'ro-marker', 'bind mount with a source relative to the bundle');
  want('/mnt/rbind/sub/marker', 'sub-marker', 'rbind also binds the mounts below the source');
  ctx.add('bind (not rbind) does not bind the mounts below the source', !rd('/mnt/bind-norec/sub/marker').ok, JSON.stringify(rd('/mnt/bind-norec/sub/marker')));
  want('/etc/conformance-file', 'file-marker', 'bind mount of a file on a missing destination');
  want('/mnt/order/inner/marker', 'rw-marker', 'mounts are made in the listed order (bind inside an earlier tmpfs)');
  ctx.add('writing to a read-write bind mount works', facts.write['/mnt/bind-rw'] === 'ok', `write probe: ${facts.write['/mnt/bind-rw']}`);
  ctx.add('writing to a tmpfs mount works', facts.write['/mnt/tmpfs'] === 'ok', `write probe: ${facts.write['/mnt/tmpfs']}`);
  const st = facts.stat['/mnt/tmpfs'];
  ctx.add('tmpfs mode=1770 gives the mount point that mode', st && st.type === 'd' && st.mode === 0o1770, JSON.stringify(st));
  ctx.add('the bind source on the host is untouched', readOrNull(path.join(ctx.dir, 'mounts-src/host-rw/marker')) === 'rw-marker\n'
    && fs.readdirSync(path.join(ctx.dir, 'mounts-src/host-rw')).length === 1, `host-rw holds ${JSON.stringify(fs.readdirSync(path.join(ctx.dir, 'mounts-src/host-rw')))}`);
  void bundle;
});

// ---- idmapped mounts (config.md: idmap, ridmap, a mount's uidMappings/gidMappings) ----

/** Skip reason unless the runtime says it has idmapped mounts and the kernel has mount_setattr. */
function idmapSkip(userNs) {
  return (env) => {
    const r = userNs ? nsSkip('user')(env) : needRoot(env);
    if (r) return r;
    const idmap = env.features && env.features.linux && env.features.linux.mountExtensions && env.features.linux.mountExtensions.idmap;
    if (!idmap || !idmap.enabled) return 'the runtime\'s features document does not enable linux.mountExtensions.idmap';
    const [major, minor] = require('os').release().split('.').map(Number);
    if (major < 5 || (major === 5 && minor < 12)) return 'the kernel has no mount_setattr(MOUNT_ATTR_IDMAP) (5.12)';
    return null;
  };
}

/** Source files with on-disk owners, and a tree whose sub/ is a host bind mount (what rbind takes along). */
function idmapSources(ctx) {
  // (files/ has no mount below it: a bind, not rbind, of such a directory fails in a user namespace)
  const src = path.join(ctx.dir, 'idmap-src');
  mkfile(path.join(src, 'files/file'), 'idmap\n');
  fs.chownSync(path.join(src, 'files/file'), 3, 4);
  mkfile(path.join(src, 'tree/top'), 'top\n');
  mkfile(path.join(src, 'sub/file'), 'sub\n');
  fs.chownSync(path.join(src, 'sub/file'), 1, 2);
  fs.mkdirSync(path.join(src, 'tree/sub'));
  mountOrThrow(ctx, ['--bind', path.join(src, 'sub'), path.join(src, 'tree/sub')], path.join(src, 'tree/sub'));
  return path.join(src, 'files');
}

const ownerIs = (ctx, facts, p, uid, gid, name) => {
  const st = facts.stat[p];
  ctx.add(name, Boolean(st) && st.uid === uid && st.gid === gid, `${p}: ${JSON.stringify(st)}, want ${uid}:${gid}`);
};

def('mounts-idmap', 'idmapped bind mounts with their own mappings: idmap, ridmap over an rbind tree, mappings without an option', async (ctx) => {
  const uidMappings = [{ containerID: 0, hostID: 4000, size: 10 }];
  const gidMappings = [{ containerID: 0, hostID: 5000, size: 10 }];
  let src;
  const { facts } = await ctx.runChecker(base((c) => {
    const at = (p) => path.join(ctx.dir, 'idmap-src', p);
    c.mounts.push(
      { destination: '/mnt/idmap', type: 'bind', source: at('files'), options: ['bind', 'idmap'], uidMappings, gidMappings },
      { destination: '/mnt/ridmap', type: 'bind', source: at('tree'), options: ['rbind', 'ridmap'], uidMappings, gidMappings },
      { destination: '/mnt/idmap-tree', type: 'bind', source: at('tree'), options: ['rbind', 'idmap'], uidMappings, gidMappings },
      { destination: '/mnt/mappings-only', type: 'bind', source: at('files'), options: ['bind', 'ro'], uidMappings, gidMappings },
    );
  }), {
    tag: 'idmap',
    prepare: () => { src = idmapSources(ctx); },
    extraArgs: ['stat=/mnt/idmap/file', 'stat=/mnt/ridmap/top', 'stat=/mnt/ridmap/sub/file', 'stat=/mnt/idmap-tree/top',
      'stat=/mnt/idmap-tree/sub/file', 'stat=/mnt/mappings-only/file', 'write=/mnt/idmap'],
  });
  ownerIs(ctx, facts, '/mnt/idmap/file', 4003, 5004, 'idmap: on-disk 3:4 is seen as the mapping\'s 4003:5004');
  ownerIs(ctx, facts, '/mnt/ridmap/top', 4000, 5000, 'ridmap: the top of the tree is mapped');
  ownerIs(ctx, facts, '/mnt/ridmap/sub/file', 4001, 5002, 'ridmap: the mount below the source is mapped too');
  ownerIs(ctx, facts, '/mnt/idmap-tree/top', 4000, 5000, 'idmap over an rbind tree: the top is mapped');
  ownerIs(ctx, facts, '/mnt/idmap-tree/sub/file', 1, 2, 'idmap over an rbind tree: the mount below the source is not');
  ownerIs(ctx, facts, '/mnt/mappings-only/file', 4003, 5004, 'mappings without idmap/ridmap map the mount (as runc)');
  // the container's root, host uid 0, has no id in the mapping: it cannot make files there
  ctx.add('a uid outside the mapping cannot create files (EOVERFLOW)', /Value too large/.test(facts.write['/mnt/idmap'] || ''), `write probe: ${facts.write['/mnt/idmap']}`);
  ctx.add('the source on the host is untouched', fs.statSync(path.join(src, 'file')).uid === 3 && fs.readdirSync(src).join(',') === 'file', fs.readdirSync(src).join(','));
}, idmapSkip(false));

def('mounts-idmap-userns', 'idmap and ridmap without mappings take the container\'s user namespace mapping', async (ctx) => {
  const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const { facts } = await ctx.runChecker(base((c) => {
    setNamespace(c, 'user');
    c.linux.uidMappings = MAP;
    c.linux.gidMappings = MAP;
    const at = (p) => path.join(ctx.dir, 'idmap-src', p);
    c.mounts.push(
      { destination: '/mnt/idmap', type: 'bind', source: at('files'), options: ['bind', 'idmap'] },
      { destination: '/mnt/ridmap', type: 'bind', source: at('tree'), options: ['rbind', 'ridmap'] },
      { destination: '/mnt/plain', type: 'bind', source: at('files'), options: ['bind'] },
    );
  }), {
    tag: 'idmap-userns',
    // the container's root cannot make mount points in a rootfs the host's root owns
    prepare: (rootfs) => {
      idmapSources(ctx);
      for (const d of ['idmap', 'ridmap', 'plain']) fs.mkdirSync(path.join(rootfs, 'mnt', d), { recursive: true });
    },
    extraArgs: ['stat=/mnt/idmap/file', 'stat=/mnt/ridmap/sub/file', 'stat=/mnt/plain/file'],
  });
  ownerIs(ctx, facts, '/mnt/idmap/file', 3, 4, 'idmap: on-disk 3:4 is the container\'s 3:4');
  ownerIs(ctx, facts, '/mnt/ridmap/sub/file', 1, 2, 'ridmap: below the source too');
  ownerIs(ctx, facts, '/mnt/plain/file', 65534, 65534, 'a plain bind of the same source: nobody\'s');
}, idmapSkip(true));

for (const mode of ['shared', 'slave', 'private', 'unbindable']) {
  def(`rootfs-propagation-${mode}`, `linux.rootfsPropagation=${mode}: flags of / and propagation between host and container`, async (ctx) => {
    // The runtime runs in a mount namespace where / is shared, like a
    // systemd host; "host" below means that namespace.
    const ns = await ctx.useRuntimeMountNamespace();
    let hostSawDuringRun = null;
    const { facts } = await ctx.runChecker(base((c) => { c.linux.rootfsPropagation = mode; }), {
      tag: `prop-${mode}`,
      prepare: (rootfs) => fs.mkdirSync(path.join(rootfs, 'mnt/prop'), { recursive: true }),
      extraArgs: ['wait=/conformance-go', 'read=/mnt/prop/marker'],
      during: async (handle, b) => {
        const ready = await handle.waitFor(/^ready\t1$/m, 30000);
        if (!ready) return;
        // container -> host: the container's own mounts (proc, dev, ...)
        hostSawDuringRun = host.mountsUnder(b.rootfs, ns.pid);
        // host -> container
        const prop = path.join(b.rootfs, 'mnt/prop');
        ctx.hostMount(['-t', 'tmpfs', '-o', 'size=1m', 'conformance-prop', prop]);
        fs.writeFileSync(`/proc/${ns.pid}/root${prop}/marker`, 'prop-marker\n');
        fs.writeFileSync(path.join(b.rootfs, 'conformance-go'), '');
        ctx.ownMounts.add(fs.realpathSync(prop));
      },
    });
    ctx.add('checker waited for the host', facts.ready && facts.waited === 'ok', `ready ${facts.ready}, waited ${facts.waited}`);
    const seen = facts.read['/mnt/prop/marker'] && facts.read['/mnt/prop/marker'].ok;
    if (mode === 'slave') {
      ctx.add('slave: a host mount below the rootfs appears in the container', seen, JSON.stringify(facts.read['/mnt/prop/marker']));
    } else if (mode === 'private' || mode === 'unbindable') {
      ctx.add(`${mode}: a host mount below the rootfs does not appear in the container`, !seen, JSON.stringify(facts.read['/mnt/prop/marker']));
    }
    ctx.add(`${mode}: the container's mounts do not appear on the host`, Array.isArray(hostSawDuringRun) && hostSawDuringRun.length === 0,
      `host mounts below the rootfs while the container ran: ${JSON.stringify(hostSawDuringRun)}`);
  });
}

// ---- namespaces ---------------------------------------------------------------------------

for (const type of ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup', 'time']) {
  def(`ns-${type}-new`, `a new ${type} namespace`, async (ctx) => {
    await ctx.runChecker(base((c) => {
      setNamespace(c, type);
      if (type === 'user') {
        c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      }
    }), { tag: `ns-${type}-new` });
  }, nsSkip(type));

  def(`ns-${type}-path`, `joining an existing ${type} namespace by path${type === 'user' ? ' (config repeats its id mappings)' : ''}`, async (ctx) => {
    const h = await ctx.holder(type);
    await ctx.runChecker(base((c) => {
      setNamespace(c, type, h.path);
      if (h.mapping) {
        c.linux.uidMappings = clone(h.mapping);
        c.linux.gidMappings = clone(h.mapping);
      }
    }), {
      tag: `ns-${type}-path`,
      nsTargets: { [type]: h.link },
      nsMappings: h.mapping ? { uid: h.mapping, gid: h.mapping } : undefined,
    });
  }, nsSkip(type));
}

def('ns-user-path-no-mappings', 'joining an existing user namespace by path, without id mappings in the config (they are OPTIONAL)', async (ctx) => {
  const h = await ctx.holder('user');
  await ctx.runChecker(base((c) => setNamespace(c, 'user', h.path)), {
    tag: 'ns-user-path-nomap',
    nsTargets: { user: h.link },
    nsMappings: { uid: h.mapping, gid: h.mapping },
  });
}, nsSkip('user'));

/** Expects `run` of config to fail and to leave nothing behind. */
async function expectRunFails(ctx, config, tag, what) {
  const id = ctx.id(tag);
  config.linux.cgroupsPath = ctx.cgroupsPath(id);
  config.process.args = [CHECKER];
  const b = ctx.bundle(tag, config);
  const handle = ctx.runtime.runAsync(id, b.dir, { timeout: 30000 });
  const res = await handle.done;
  ctx.add(`${what}: run fails`, res.status !== 0 && !/\bend\tok\b/.test(res.stdout), `exit ${res.status}; stderr: ${clip(res.stderr, 500)}; stdout: ${clip(res.stdout, 200)}`);
  ctx.checkGone(id, b.dir, config);
}

def('ns-path-wrong-type', 'a namespace path of another type is an error', async (ctx) => {
  const h = await ctx.holder('network');
  await expectRunFails(ctx, base((c) => setNamespace(c, 'uts', h.path)), 'ns-wrong', 'uts namespace path pointing to a network namespace');
}, nsSkip('network'));

def('ns-duplicate', 'duplicated namespace types are an error', async (ctx) => {
  await expectRunFails(ctx, base((c) => { c.linux.namespaces.push({ type: 'uts' }); }), 'ns-dup', 'two uts namespace entries');
});

def('rlimits-duplicate', 'duplicated rlimits are an error', async (ctx) => {
  await expectRunFails(ctx, base((c) => {
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }, { type: 'RLIMIT_NOFILE', soft: 300, hard: 400 }];
  }), 'rl-dup', 'two RLIMIT_NOFILE entries');
});

def('sysctl', 'linux.sysctl values in the container namespaces', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '12345', 'net.ipv4.ping_group_range': '0 100' };
  }), { tag: 'sysctl' });
});

def('preserve-fds', '--preserve-fds passes extra descriptors, others are closed', async (ctx) => {
  await ctx.runChecker(base(), { tag: 'fds', preserveFds: 2 });
});

def('run-exit-status', '`run` exits with the status of the container process', async (ctx) => {
  await ctx.runChecker(base(), { tag: 'exit', extraArgs: ['exit=7'], expectExit: 7 });
});

// ---- process and security fields: capabilities, rlimits, no_new_privs, oom, ids, sysctl, personality

/** Capability names in the bounding set of the harness (which the runtime inherits). */
function hostCapabilities(env) {
  const bnd = env.host && env.host.capBnd ? BigInt(`0x${env.host.capBnd}`) : 0n;
  return Object.entries(CAP_BITS).filter(([, n]) => bnd & (1n << BigInt(n))).map(([name]) => name);
}

def('process-capabilities-empty', 'empty capability sets: the process has no capability at all', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.process.capabilities = { bounding: [], permitted: [], effective: [], inheritable: [], ambient: [] };
  }), { tag: 'caps-empty' });
});

def('process-capabilities-host-all', 'every capability the runtime has, in all five sets, for root without noNewPrivileges', async (ctx) => {
  const all = hostCapabilities(ctx.env);
  await ctx.runChecker(base((c) => {
    c.process.capabilities = { bounding: all.slice(), permitted: all.slice(), effective: all.slice(), inheritable: all.slice(), ambient: all.slice() };
    c.process.noNewPrivileges = false;
  }), { tag: 'caps-all' });
});

// (permitted covers bounding: a process that gains permitted capabilities at execve becomes
// non-dumpable, and the checker's helpers could not read its /proc entries any more)
def('process-capabilities-partial', 'only bounding and permitted given (no effective): root\'s effective set after execve is its permitted set', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_CHROOT'], permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_CHROOT'] };
    c.process.noNewPrivileges = false;
  }), { tag: 'caps-partial' });
});

def('process-capabilities-user-nnp', 'a non-root user with noNewPrivileges keeps its ambient capabilities', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.capabilities = {
      bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
      effective: ['CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
      ambient: ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
    };
    c.process.noNewPrivileges = true;
  }), { tag: 'caps-user-nnp' });
});

/** The limits the harness runs with (the runtime inherits them): { RLIMIT_X: { soft, hard } } as BigInt (unlimited: null). */
function callerLimits() {
  const rows = Object.fromEntries(Object.entries(RLIMIT_ROWS).map(([k, v]) => [v, k]));
  const out = {};
  for (const line of (readOrNull('/proc/self/limits') || '').split('\n')) {
    const name = line.slice(0, 26).trim();
    if (!rows[name]) continue;
    const [soft, hard] = line.slice(26).trim().split(/\s+/);
    const n = (v) => (v === 'unlimited' ? null : BigInt(v));
    out[rows[name]] = { soft: n(soft), hard: n(hard) };
  }
  return out;
}

def('process-rlimits-all', 'every RLIMIT_* type, each below the hard limit the runtime has', async (ctx) => {
  const want = {
    RLIMIT_CPU: [3600, 7200], RLIMIT_FSIZE: [2 ** 30, 2 ** 31], RLIMIT_DATA: [2 ** 40, 2 ** 41], RLIMIT_STACK: [8388608, 16777216],
    RLIMIT_CORE: [0, 1048576], RLIMIT_RSS: [2 ** 30, 2 ** 31], RLIMIT_NPROC: [4000, 5000], RLIMIT_NOFILE: [512, 1024],
    RLIMIT_MEMLOCK: [65536, 131072], RLIMIT_AS: [2 ** 40, 2 ** 41], RLIMIT_LOCKS: [500, 1000], RLIMIT_SIGPENDING: [1000, 2000],
    RLIMIT_MSGQUEUE: [4096, 8192], RLIMIT_NICE: [0, 0], RLIMIT_RTPRIO: [0, 0], RLIMIT_RTTIME: [500000, 1000000],
  };
  const have = callerLimits();
  const rlimits = Object.entries(want).map(([type, [soft, hard]]) => {
    const cap = have[type] && have[type].hard !== null ? Number(have[type].hard) : Infinity;
    const h = Math.min(hard, cap);
    return { type, soft: Math.min(soft, h), hard: h };
  });
  await ctx.runChecker(base((c) => { c.process.rlimits = rlimits; }), { tag: 'rlimits-all' });
});

def('process-no-new-privileges-user', 'noNewPrivileges=true for a non-root user without capabilities', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.capabilities = { bounding: [], permitted: [], effective: [], inheritable: [], ambient: [] };
    c.process.noNewPrivileges = true;
  }), { tag: 'nnp-user' });
});

def('process-oom-score-adj-max', 'process.oomScoreAdj=1000', async (ctx) => {
  await ctx.runChecker(base((c) => { c.process.oomScoreAdj = 1000; }), { tag: 'oom-max' });
});

def('process-oom-score-adj-negative', 'a negative process.oomScoreAdj (needs CAP_SYS_RESOURCE in the runtime)', async (ctx) => {
  await ctx.runChecker(base((c) => { c.process.oomScoreAdj = -500; }), { tag: 'oom-neg' });
}, (env) => needRoot(env) || (hostCapabilities(env).includes('CAP_SYS_RESOURCE') ? null : 'the harness (and so the runtime) lacks CAP_SYS_RESOURCE: it cannot lower oom_score_adj'));

def('ns-user-ranges', 'a new user namespace with several uid and gid ranges and a non-root process user', async (ctx) => {
  await ctx.runChecker(base((c) => {
    setNamespace(c, 'user');
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 1000, hostID: 300000, size: 1000 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 100 }, { containerID: 100, hostID: 200000, size: 2000 }];
    c.process.user = { uid: 1000, gid: 1500 };
  }), { tag: 'ns-user-ranges' });
}, nsSkip('user'));

def('sysctl-namespaces', 'linux.sysctl keys of the ipc, network and uts namespaces', async (ctx) => {
  await ctx.runChecker(base((c) => {
    c.linux.sysctl = {
      'kernel.shmmni': '2048', 'kernel.msgmnb': '32768', 'kernel.sem': '100 1000 16 64', 'fs.mqueue.queues_max': '64',
      'net.core.somaxconn': '1000', 'net.ipv4.tcp_syncookies': '0', 'net.ipv4.conf.all.forwarding': '1',
      'kernel.domainname': 'sysctl.conformance',
    };
  }), { tag: 'sysctl-ns' });
});

for (const domain of ['LINUX', 'LINUX32']) {
  def(`personality-${domain.toLowerCase()}`, `linux.personality.domain=${domain}`, async (ctx) => {
    await ctx.runChecker(base((c) => { c.linux.personality = { domain }; }), { tag: `pers-${domain.toLowerCase()}` });
  });
}

// ---- lifecycle ----------------------------------------------------------------------------

/**
 * A long-running container process: records its hostname when started,
 * appends the names of the signals it gets, exits on TERM.
 */
const LIFE_SCRIPT = [
  'trap "echo TERM >>/lifecycle-signals; exit 0" TERM',
  'trap "echo USR1 >>/lifecycle-signals" USR1',
  'hostname >/lifecycle-started',
  'while :; do sleep 0.1; done',
].join('\n');

function lifeConfig(ctx, id, mutate) {
  const c = base((x) => {
    x.process.args = ['/bin/sh', '-c', LIFE_SCRIPT];
    x.hostname = 'life-original';
    x.annotations = { 'org.example.conformance': 'lifecycle' };
    x.linux.cgroupsPath = ctx.cgroupsPath(id);
  });
  if (mutate) mutate(c);
  return c;
}

async function waitStatus(ctx, id, status, ms = 10000) {
  let last = null;
  await poll(() => {
    last = ctx.runtime.state(id).state;
    return last && last.status === status;
  }, ms, 50);
  return last;
}

function stateOk(ctx, label, state, { id, status, bundle, annotations }) {
  const problems = [];
  if (!state) problems.push('no parsable state');
  else {
    if (typeof state.ociVersion !== 'string' || state.ociVersion === '') problems.push('ociVersion missing');
    if (state.id !== id) problems.push(`id ${JSON.stringify(state.id)}`);
    if (state.status !== status) problems.push(`status ${JSON.stringify(state.status)}, want ${status}`);
    if (status === 'created' || status === 'running') {
      if (!Number.isInteger(state.pid) || state.pid <= 0) problems.push(`pid ${JSON.stringify(state.pid)}`);
    }
    if (typeof state.bundle !== 'string' || !path.isAbsolute(state.bundle)) problems.push(`bundle ${JSON.stringify(state.bundle)} is not absolute`);
    else if (fs.realpathSync(state.bundle) !== fs.realpathSync(bundle)) problems.push(`bundle ${state.bundle}, want ${bundle}`);
    if (annotations && state.annotations !== undefined && JSON.stringify(state.annotations) !== JSON.stringify(annotations)) {
      problems.push(`annotations ${JSON.stringify(state.annotations)}, want ${JSON.stringify(annotations)}`);
    }
  }
  return ctx.add(label, problems.length === 0, problems.length ? `${problems.join('; ')}; state ${JSON.stringify(state)}` : JSON.stringify(state));
}

const readMarker = (b, name) => readOrNull(path.join(b.rootfs, name));

def('lifecycle', 'create, state, start, kill (names, numbers, default), delete, and the errors in between', async (ctx) => {
  const rt = ctx.runtime;
  const id = ctx.id('life');
  const config = lifeConfig(ctx, id);
  const b = ctx.bundle('life', config);
  const r = rt.create(id, b.dir, { stderrFile: path.join(ctx.dir, 'life.stderr') });
  if (!ctx.add('create exits 0', r.status === 0, `exit ${r.status}: ${clip(r.stderr, 800)}`)) return;

  let { state } = rt.state(id);
  stateOk(ctx, 'state after create: status "created" with ociVersion, id, pid, bundle', state, { id, status: 'created', bundle: b.dir, annotations: config.annotations });
  const pid = state && state.pid;
  ctx.add('the created container process exists', pid > 0 && isAlive(pid), `pid ${pid}`);
  await sleep(300);
  ctx.add('create does not run process.args', readMarker(b, 'lifecycle-started') === null, `marker: ${JSON.stringify(readMarker(b, 'lifecycle-started'))}`);

  // config.json changes after create must not matter
  const changed = clone(config);
  changed.hostname = 'life-changed';
  fs.writeFileSync(b.configPath, JSON.stringify(changed));

  const dup = rt.create(id, b.dir, { stderrFile: path.join(ctx.dir, 'life-dup.stderr') });
  ctx.add('create with an id in use fails', dup.status !== 0, `exit ${dup.status}: ${clip(dup.stderr, 300)}`);
  state = rt.state(id).state;
  ctx.add('... and leaves the existing container alone', state && state.status === 'created' && state.pid === pid, JSON.stringify(state));

  const s = rt.start(id);
  ctx.add('start exits 0', s.status === 0, `exit ${s.status}: ${clip(s.stderr, 500)}`);
  const started = await poll(() => readMarker(b, 'lifecycle-started'), 10000);
  ctx.add('start runs process.args', !!started, `marker: ${JSON.stringify(started)}`);
  ctx.add('config.json changes after create do not affect the container', started === 'life-original\n', `hostname in container: ${JSON.stringify(started)}`);
  state = rt.state(id).state;
  stateOk(ctx, 'state after start: status "running"', state, { id, status: 'running', bundle: b.dir, annotations: config.annotations });
  ctx.add('the running container keeps the pid of the created one', state && state.pid === pid, `pid ${state && state.pid}, created ${pid}`);

  const s2 = rt.start(id);
  ctx.add('start of a running container fails', s2.status !== 0, `exit ${s2.status}`);
  const d1 = rt.delete(id);
  ctx.add('delete of a running container without --force fails', d1.status !== 0, `exit ${d1.status}`);
  state = rt.state(id).state;
  ctx.add('... and the container keeps running', state && state.status === 'running' && isAlive(pid), JSON.stringify(state));

  const sigs = () => (readMarker(b, 'lifecycle-signals') || '').split('\n').filter(Boolean);
  for (const [n, sig] of [[1, 'USR1'], [2, 'SIGUSR1'], [3, '10']]) {
    const k = rt.kill(id, sig);
    const got = await poll(() => sigs().length >= n, 5000);
    ctx.add(`kill ${sig} delivers SIGUSR1`, k.status === 0 && got && sigs()[n - 1] === 'USR1', `exit ${k.status}: ${clip(k.stderr, 200)}; signals seen ${JSON.stringify(sigs())}`);
  }
  state = rt.state(id).state;
  ctx.add('the container is still running after SIGUSR1', state && state.status === 'running', JSON.stringify(state));

  const kt = rt.kill(id);
  const stopped = await waitStatus(ctx, id, 'stopped');
  ctx.add('kill without a signal sends SIGTERM', kt.status === 0 && sigs().includes('TERM'), `exit ${kt.status}; signals seen ${JSON.stringify(sigs())}`);
  stateOk(ctx, 'state after the process exited: status "stopped"', stopped, { id, status: 'stopped', bundle: b.dir, annotations: config.annotations });

  const k2 = rt.kill(id, 'KILL');
  ctx.add('kill of a stopped container fails', k2.status !== 0, `exit ${k2.status}`);
  const s3 = rt.start(id);
  ctx.add('start of a stopped container fails', s3.status !== 0, `exit ${s3.status}`);

  const d2 = rt.delete(id);
  ctx.add('delete of a stopped container exits 0', d2.status === 0, `exit ${d2.status}: ${clip(d2.stderr, 300)}`);
  const after = rt.state(id);
  ctx.add('state after delete fails', after.res.status !== 0, `exit ${after.res.status}: ${clip(after.res.stdout, 200)}`);
  ctx.add('... saying the container does not exist', /does not exist/i.test(after.res.stderr), clip(after.res.stderr, 300));
  ctx.checkGone(id, b.dir, config);
});

def('lifecycle-kill-number', 'kill with a signal number; kill of a created container', async (ctx) => {
  const rt = ctx.runtime;
  const id = ctx.id('kill9');
  const config = lifeConfig(ctx, id);
  const b = ctx.bundle('kill9', config);
  const r = rt.create(id, b.dir, { stderrFile: path.join(ctx.dir, 'kill9.stderr') });
  if (!ctx.add('create exits 0', r.status === 0, `exit ${r.status}: ${clip(r.stderr, 800)}`)) return;
  ctx.add('start exits 0', rt.start(id).status === 0);
  await poll(() => readMarker(b, 'lifecycle-started'), 10000);
  const pid = (rt.state(id).state || {}).pid;
  const k = rt.kill(id, '9');
  const st = await waitStatus(ctx, id, 'stopped');
  ctx.add('kill 9 stops a running container', k.status === 0 && st && st.status === 'stopped', `exit ${k.status}; state ${JSON.stringify(st)}`);
  ctx.add('... and its process is gone', !(pid > 0 && isAlive(pid)), `pid ${pid}`);
  ctx.add('delete exits 0', rt.delete(id).status === 0);
  ctx.checkGone(id, b.dir, config);

  const id2 = ctx.id('killcreated');
  const config2 = lifeConfig(ctx, id2);
  const b2 = ctx.bundle('killcreated', config2);
  const r2 = rt.create(id2, b2.dir, { stderrFile: path.join(ctx.dir, 'killcreated.stderr') });
  if (!ctx.add('create exits 0 (second container)', r2.status === 0, `exit ${r2.status}: ${clip(r2.stderr, 800)}`)) return;
  const k2 = rt.kill(id2, 'SIGKILL');
  const st2 = await waitStatus(ctx, id2, 'stopped');
  ctx.add('kill SIGKILL of a created container stops it', k2.status === 0 && st2 && st2.status === 'stopped', `exit ${k2.status}: ${clip(k2.stderr, 200)}; state ${JSON.stringify(st2)}`);
  ctx.add('the process of the killed created container never ran', readMarker(b2, 'lifecycle-started') === null);
  ctx.add('delete exits 0 (second container)', rt.delete(id2).status === 0);
  ctx.checkGone(id2, b2.dir, config2);
});

def('lifecycle-force-delete', 'delete of a created container fails without --force; delete --force removes created and running containers', async (ctx) => {
  const rt = ctx.runtime;
  for (const phase of ['created', 'running']) {
    const id = ctx.id(`force-${phase}`);
    const config = lifeConfig(ctx, id);
    const b = ctx.bundle(`force-${phase}`, config);
    const r = rt.create(id, b.dir, { stderrFile: path.join(ctx.dir, `force-${phase}.stderr`) });
    if (!ctx.add(`create exits 0 (${phase})`, r.status === 0, `exit ${r.status}: ${clip(r.stderr, 800)}`)) return;
    if (phase === 'running') {
      rt.start(id);
      await poll(() => readMarker(b, 'lifecycle-started'), 10000);
    }
    const pid = (rt.state(id).state || {}).pid;
    const d = rt.delete(id);
    const st = rt.state(id).state;
    ctx.add(`delete of a ${phase} container without --force fails and changes nothing`, d.status !== 0 && st && st.status === phase, `exit ${d.status}; state ${JSON.stringify(st)}`);
    const df = rt.delete(id, true);
    ctx.add(`delete --force of a ${phase} container exits 0`, df.status === 0, `exit ${df.status}: ${clip(df.stderr, 300)}`);
    const gone = await poll(() => !(pid > 0 && isAlive(pid)), 5000);
    ctx.add(`... and its process is gone`, gone, `pid ${pid}`);
    ctx.checkGone(id, b.dir, config);
  }
});

def('lifecycle-missing-container', 'operations on an id that does not exist fail', async (ctx) => {
  const rt = ctx.runtime;
  const id = `conf-${process.pid}-no-such-container`;
  for (const [name, res] of [
    ['state', rt.exec(['state', id])],
    ['start', rt.start(id)],
    ['kill', rt.kill(id, 'KILL')],
    ['delete', rt.delete(id)],
  ]) {
    ctx.add(`${name} of a container that does not exist fails`, res.status !== 0, `exit ${res.status}: ${clip(res.stderr, 200)}`);
  }
});

cases.push(...require('./resource-cases').cases);

module.exports = { cases, baseConfig, setNamespace };
