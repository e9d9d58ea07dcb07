'use strict';
// Compares what the checker saw inside a container with the config.json the
// container was made from. Every comparison is a check { name, ok, detail }.
// Names start with the config field they judge (e.g. "process.user.uid").
const os = require('os');
const path = require('path');
const { CHECKER } = require('./bundle');
const { NS_PROC_NAME } = require('./host');

// Linux capability numbers (include/uapi/linux/capability.h).
const CAP_BITS = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4,
  CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10, CAP_NET_BROADCAST: 11, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15, CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17, CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20, CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25, CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29, CAP_AUDIT_CONTROL: 30, CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32, CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35, CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37, CAP_PERFMON: 38,
  CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
};
const CAP_NAMES = Object.fromEntries(Object.entries(CAP_BITS).map(([k, v]) => [v, k]));

// RLIMIT_* -> row name in /proc/<pid>/limits
const RLIMIT_ROWS = {
  RLIMIT_CPU: 'Max cpu time', RLIMIT_FSIZE: 'Max file size', RLIMIT_DATA: 'Max data size',
  RLIMIT_STACK: 'Max stack size', RLIMIT_CORE: 'Max core file size', RLIMIT_RSS: 'Max resident set',
  RLIMIT_NPROC: 'Max processes', RLIMIT_NOFILE: 'Max open files', RLIMIT_MEMLOCK: 'Max locked memory',
  RLIMIT_AS: 'Max address space', RLIMIT_LOCKS: 'Max file locks', RLIMIT_SIGPENDING: 'Max pending signals',
  RLIMIT_MSGQUEUE: 'Max msgqueue size', RLIMIT_NICE: 'Max nice priority', RLIMIT_RTPRIO: 'Max realtime priority',
  RLIMIT_RTTIME: 'Max realtime timeout',
};
const RLIM_INFINITY = 18446744073709551615n;

// linux.personality domains (PER_LINUX, PER_LINUX32) and what uname -m says under PER_LINUX32.
const PERSONALITY_DOMAINS = { LINUX: 0x0000, LINUX32: 0x0008 };
const MACHINE_32 = { x86_64: /^i[3-6]86$/, aarch64: /^armv[78]l$/ };

/** Default devices every container MUST have (config-linux.md). */
const DEFAULT_DEVICES = [
  ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7],
  ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0],
];

const DEV_SYMLINKS = [
  ['/dev/fd', '/proc/self/fd'], ['/dev/stdin', '/proc/self/fd/0'],
  ['/dev/stdout', '/proc/self/fd/1'], ['/dev/stderr', '/proc/self/fd/2'],
];

function capMask(names) {
  let m = 0n;
  for (const n of names || []) if (n in CAP_BITS) m |= 1n << BigInt(CAP_BITS[n]);
  return m;
}

function capNames(mask) {
  const out = [];
  for (let b = 0; b < 64; b++) if (mask & (1n << BigInt(b))) out.push(CAP_NAMES[b] || `cap${b}`);
  return out;
}

/**
 * The capability sets the checker (a plain /bin/sh without file
 * capabilities or set-id bits) must show after execve, given the sets the
 * runtime applied before it, per the transformation rules of
 * capabilities(7). Sets the runtime could not grant (not in the runtime's
 * own bounding set `hostBnd`) are left out: the spec says those only warn.
 */
function expectedCaps(caps, { uid, noNewPrivileges, hostBnd }) {
  const bnd = capMask(caps.bounding) & hostBnd;
  const inh = capMask(caps.inheritable) & hostBnd;
  const prm = capMask(caps.permitted) & hostBnd;
  const eff = capMask(caps.effective) & prm;
  const amb = capMask(caps.ambient) & prm & inh;
  let prmAfter;
  let effAfter;
  if (uid === 0) {
    prmAfter = bnd | inh;
    // with no_new_privs an execve may not gain permitted capabilities
    if (noNewPrivileges && (prmAfter & ~prm) !== 0n) prmAfter &= prm;
    prmAfter |= amb;
    effAfter = prmAfter;
  } else {
    prmAfter = amb;
    effAfter = amb;
  }
  void eff;
  return { CapBnd: bnd, CapInh: inh, CapPrm: prmAfter, CapEff: effAfter, CapAmb: amb };
}

function sizeToBytes(v) {
  const m = /^(\d+)([kmgKMG]?)$/.exec(String(v));
  if (!m) return null;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()];
  return Number(m[1]) * mult;
}

/** Is `opts` (a mount's data options) consistent with what the config asked for? */
function compareDataOption(key, want, superOptions) {
  const got = superOptions.find((o) => o.startsWith(`${key}=`));
  if (!got) return { ok: true, note: `${key} not shown by the kernel (default value)` };
  const gotValue = got.slice(key.length + 1);
  let eq;
  if (key === 'mode' || key === 'ptmxmode') eq = parseInt(want, 8) === parseInt(gotValue, 8);
  else if (key === 'size') eq = sizeToBytes(want) === null || sizeToBytes(want) === sizeToBytes(gotValue);
  else eq = String(want) === gotValue;
  return { ok: eq, note: `${key}: want ${want}, kernel shows ${gotValue}` };
}

/** The mount (in `mounts`) whose mount point is the longest prefix of `p`. */
function coveringMount(mounts, p) {
  let best = null;
  for (const m of mounts) {
    const mp = m.mountPoint;
    if (p === mp || p.startsWith(mp === '/' ? '/' : `${mp}/`)) {
      if (!best || mp.length >= best.mountPoint.length) best = m;
    }
  }
  return best;
}

/** Maps a container id to the host id through OCI-style mappings (unmapped: unchanged). */
function mapId(mappings, id) {
  for (const m of mappings || []) {
    if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  }
  return id;
}

function sameSet(a, b) {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

const fmt = (v) => JSON.stringify(v);

/**
 * Compares facts with config.
 * @param {object} config  the config.json the container ran with
 * @param {object} facts   parseFacts() output
 * @param {object} env     { host: hostInfo(), nsTargets: {type: link},
 *                           nsMappings: {uid:[], gid:[]} (for a joined user ns),
 *                           preserveFds: n }
 */
function checkFacts(config, facts, env) {
  const checks = [];
  const add = (name, ok, detail) => checks.push({ name, ok: !!ok, detail: detail || '' });
  const proc = config.process || {};
  const linux = config.linux || {};
  const nsList = linux.namespaces || [];
  const nsEntry = (type) => nsList.find((n) => n.type === type);

  add('checker ran to completion', facts.started && facts.complete,
    facts.complete ? '' : `checker output ended early; last lines: ${fmt(facts.raw.split('\n').slice(-5))}`);
  if (!facts.started) return checks;

  // ---- process ------------------------------------------------------------
  if (proc.args && proc.args[0] && proc.args[0].startsWith('/') && facts.cmdline) {
    // the checker runs through its #! line: cmdline is [/bin/sh, args...]
    const got = facts.cmdline.slice(1);
    add('process.args', fmt(got) === fmt(proc.args), `want ${fmt(proc.args)}, got ${fmt(got)}`);
  }
  if (proc.cwd) add('process.cwd', facts.cwd === proc.cwd, `want ${fmt(proc.cwd)}, got ${fmt(facts.cwd)}`);
  if (proc.env && facts.env) {
    const missing = proc.env.filter((e) => !facts.env.includes(e));
    const extra = facts.env.filter((e) => !proc.env.includes(e));
    // runc adds HOME when the config has none; tolerate that one only
    const badExtra = extra.filter((e) => !(e.startsWith('HOME=') && !proc.env.some((c) => c.startsWith('HOME='))));
    add('process.env', missing.length === 0 && badExtra.length === 0,
      `missing ${fmt(missing)}, unexpected ${fmt(badExtra)}${extra.length !== badExtra.length ? ` (tolerated: ${fmt(extra.filter((e) => !badExtra.includes(e)))})` : ''}`);
  }
  if (!proc.terminal) {
    add('process.terminal=false: stdio is not a tty', facts.tty.stdin === false && facts.tty.stdout === false,
      `stdin tty=${facts.tty.stdin}, stdout tty=${facts.tty.stdout}`);
  }
  if (proc.user) {
    const u = proc.user;
    const uids = (facts.status.Uid || '').split(' ').map(Number);
    const gids = (facts.status.Gid || '').split(' ').map(Number);
    add('process.user.uid', uids.length === 4 && uids.every((x) => x === u.uid), `want ${u.uid} (real/effective/saved/fs), got ${facts.status.Uid}`);
    add('process.user.gid', gids.length === 4 && gids.every((x) => x === u.gid), `want ${u.gid} (real/effective/saved/fs), got ${facts.status.Gid}`);
    if (u.additionalGids) {
      const got = (facts.status.Groups || '').split(' ').filter(Boolean).map(Number).filter((g) => g !== u.gid);
      const want = u.additionalGids.filter((g) => g !== u.gid);
      add('process.user.additionalGids', sameSet(got, want), `want ${fmt(want)}, got Groups: ${fmt(facts.status.Groups)}`);
    }
    if (u.umask !== undefined) {
      const got = parseInt(facts.status.Umask || 'x', 8);
      add('process.user.umask', got === u.umask, `want 0${u.umask.toString(8)}, got ${facts.status.Umask}`);
    }
  }
  if (proc.capabilities) {
    const want = expectedCaps(proc.capabilities, {
      uid: proc.user ? proc.user.uid : 0,
      noNewPrivileges: !!proc.noNewPrivileges,
      hostBnd: env.host && env.host.capBnd ? BigInt(`0x${env.host.capBnd}`) : (1n << 41n) - 1n,
    });
    for (const [key, field] of [['CapBnd', 'bounding'], ['CapPrm', 'permitted'], ['CapEff', 'effective'], ['CapInh', 'inheritable'], ['CapAmb', 'ambient']]) {
      const got = facts.status[key] ? BigInt(`0x${facts.status[key]}`) : null;
      add(`process.capabilities.${field} (${key} after execve)`, got === want[key],
        `want ${fmt(capNames(want[key]))}, got ${got === null ? 'nothing' : fmt(capNames(got))}`);
    }
  }
  for (const rl of proc.rlimits || []) {
    const row = RLIMIT_ROWS[rl.type];
    const got = row && facts.limits[row];
    const norm = (v) => (v === 'unlimited' ? RLIM_INFINITY : BigInt(v));
    const ok = got && norm(got.soft) === BigInt(rl.soft) && norm(got.hard) === BigInt(rl.hard);
    add(`process.rlimits ${rl.type}`, ok, `want soft ${rl.soft} hard ${rl.hard}, got ${got ? `soft ${got.soft} hard ${got.hard}` : 'no row'}`);
  }
  {
    const want = proc.noNewPrivileges ? '1' : '0';
    add(`process.noNewPrivileges=${!!proc.noNewPrivileges}`, facts.status.NoNewPrivs === want, `want NoNewPrivs ${want}, got ${facts.status.NoNewPrivs}`);
  }
  if (proc.oomScoreAdj !== undefined) {
    add('process.oomScoreAdj', facts.oomScoreAdj === proc.oomScoreAdj, `want ${proc.oomScoreAdj}, got ${facts.oomScoreAdj}`);
  } else if (env.host) {
    add('process.oomScoreAdj unset: oom_score_adj unchanged', facts.oomScoreAdj === env.host.oomScoreAdj,
      `the runtime's caller has ${env.host.oomScoreAdj}, container has ${facts.oomScoreAdj}`);
  }
  {
    const preserved = env.preserveFds || 0;
    const want = [0, 1, 2];
    for (let i = 0; i < preserved; i++) want.push(3 + i);
    // busybox sh keeps its script open on a descriptor >= 10: not the runtime's
    const got = facts.fds.filter((f) => f.target !== CHECKER).map((f) => f.fd).sort((a, b) => a - b);
    add(`open file descriptors are exactly 0-2${preserved ? ` and ${preserved} preserved` : ''}`, sameSet(got, want),
      `want ${fmt(want)}, got ${fmt(facts.fds.filter((f) => f.target !== CHECKER))}`);
  }

  // ---- namespaces -----------------------------------------------------------
  for (const type of Object.keys(NS_PROC_NAME)) {
    const procName = NS_PROC_NAME[type];
    const got = facts.ns[procName];
    const hostLink = env.host ? env.host.ns[type] : null;
    if (!hostLink) continue; // the kernel has no such namespace
    const entry = nsEntry(type);
    if (!entry) {
      add(`namespace ${type}: not in config, inherited from the runtime`, got === hostLink, `host ${hostLink}, container ${got}`);
    } else if (entry.path) {
      const want = env.nsTargets && env.nsTargets[type];
      add(`namespace ${type}: joined by path`, !!want && got === want, `path ${entry.path} is ${want}, container ${got}`);
    } else {
      add(`namespace ${type}: new`, !!got && got !== hostLink, `host ${hostLink}, container ${got}`);
    }
  }
  const pidNs = nsEntry('pid');
  if (pidNs && !pidNs.path) add('new pid namespace: process is pid 1', facts.pid === 1, `pid ${facts.pid}`);
  const userNs = nsEntry('user');
  if (userNs) {
    for (const kind of ['uid', 'gid']) {
      const want = userNs.path ? (env.nsMappings || {})[kind] : linux[`${kind}Mappings`];
      if (!want) continue;
      const norm = (l) => l.map((m) => `${m.containerID}:${m.hostID}:${m.size}`).sort();
      add(`linux.${kind}Mappings in the user namespace`, fmt(norm(facts.idmap[kind])) === fmt(norm(want)),
        `want ${fmt(norm(want))}, got ${fmt(norm(facts.idmap[kind]))}`);
    }
  }
  const cgNs = nsEntry('cgroup');
  if (cgNs && !cgNs.path) {
    const paths = facts.cgroup.map((l) => l.split(':').slice(2).join(':'));
    add('new cgroup namespace: cgroup paths are "/"', paths.length > 0 && paths.every((p) => p === '/'), `got ${fmt(facts.cgroup)}`);
  } else if (!cgNs && linux.cgroupsPath && linux.cgroupsPath.startsWith('/')) {
    // v1 controller lines ("4:memory:/path"); named hierarchies and v2 are runtime-defined
    const lines = facts.cgroup.map((l) => l.split(':')).filter((p) => p[0] !== '0' && p[1] && !p[1].startsWith('name='));
    const bad = lines.filter((p) => p.slice(2).join(':') !== linux.cgroupsPath);
    add('linux.cgroupsPath: process is in that cgroup', lines.length > 0 && bad.length === 0,
      `want ${linux.cgroupsPath} in every controller, got ${fmt(facts.cgroup)}`);
  }

  // ---- uts --------------------------------------------------------------------
  if (config.hostname !== undefined) add('hostname', facts.hostname === config.hostname, `want ${fmt(config.hostname)}, got ${fmt(facts.hostname)}`);
  if (config.domainname !== undefined) add('domainname', facts.domainname === config.domainname, `want ${fmt(config.domainname)}, got ${fmt(facts.domainname)}`);

  // ---- root and mounts ----------------------------------------------------------
  const rootMount = facts.mounts.filter((m) => m.mountPoint === '/').pop();
  if (config.root) {
    if (config.root.readonly) {
      add('root.readonly=true: / is mounted read-only', rootMount && rootMount.mountOptions.includes('ro'), rootMount ? rootMount.line : 'no / mount');
      add('root.readonly=true: writing to / fails with EROFS', /Read-only/i.test(facts.rootWrite || ''), `write probe: ${facts.rootWrite}`);
    } else {
      add('root.readonly=false: / is mounted read-write', rootMount && rootMount.mountOptions.includes('rw'), rootMount ? rootMount.line : 'no / mount');
      const uid = proc.user ? proc.user.uid : 0;
      if (uid === 0 && !userNs) add('root.readonly=false: writing to / works', facts.rootWrite === 'ok', `write probe: ${facts.rootWrite}`);
    }
  }
  if (linux.rootfsPropagation && rootMount) {
    const p = rootMount.propagation;
    const want = linux.rootfsPropagation;
    let ok;
    if (want === 'shared') ok = p.shared !== null;
    else if (want === 'slave') ok = p.master !== null && p.shared === null;
    else if (want === 'private') ok = p.shared === null && p.master === null && !p.unbindable;
    else if (want === 'unbindable') ok = p.unbindable;
    add(`linux.rootfsPropagation=${want}: / propagation`, ok, `/ optional fields: ${fmt(rootMount.optional)}`);
  }

  const userNsEntry = nsEntry('user');
  const idMaps = userNsEntry
    ? (userNsEntry.path ? env.nsMappings : { uid: linux.uidMappings, gid: linux.gidMappings })
    : null;
  const seen = {};
  for (const m of config.mounts || []) {
    const dest = path.posix.resolve('/', m.destination);
    const nth = seen[dest] = (seen[dest] || 0) + 1;
    const at = facts.mounts.filter((x) => x.mountPoint === dest);
    const got = at[nth - 1];
    const opts = m.options || [];
    const isBind = opts.includes('bind') || opts.includes('rbind');
    const label = `mount ${dest}${m.type ? ` (${m.type})` : ''}`;
    if (!got) {
      add(`${label}: mounted`, false, `no mount at ${dest} (${at.length} found, want #${nth})`);
      continue;
    }
    add(`${label}: mounted`, true, got.line);
    const problems = [];
    const notes = [];
    if (!isBind && m.type && m.type !== 'none' && m.type !== 'bind') {
      const okTypes = m.type === 'cgroup' ? ['cgroup', 'cgroup2', 'tmpfs'] : [m.type];
      if (!okTypes.includes(got.fsType)) problems.push(`fs type ${got.fsType}, want ${m.type}`);
    }
    // cgroup v1 hosts: a tmpfs at the destination with one cgroup mount per
    // hierarchy below it; the flags then apply to those cgroup mounts.
    let targets = [got];
    if (m.type === 'cgroup' && got.fsType === 'tmpfs') {
      targets = facts.mounts.filter((x) => x.mountPoint.startsWith(`${dest}/`) && (x.fsType === 'cgroup' || x.fsType === 'cgroup2'));
      if (targets.length === 0) problems.push('cgroup v1 layout without any cgroup mount below it');
      else notes.push(`cgroup v1 layout: flags checked on ${targets.length} hierarchy mounts below the tmpfs`);
    }
    for (const t of targets) {
      const has = (o) => t.mountOptions.includes(o);
      const where = t === got ? '' : ` (${t.mountPoint})`;
      if (opts.includes('ro') && !has('ro')) problems.push(`not read-only${where}`);
      if (!opts.includes('ro') && !has('rw')) problems.push(`read-only, want read-write${where}`);
      for (const f of ['nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime', 'relatime']) {
        if (opts.includes(f) && !has(f)) problems.push(`${f} missing${where}`);
      }
      for (const [f, neg] of [['suid', 'nosuid'], ['dev', 'nodev'], ['exec', 'noexec']]) {
        if (opts.includes(f) && !opts.includes(neg) && has(neg)) problems.push(`${neg} set, want ${f}${where}`);
      }
      if (opts.includes('strictatime') && (has('relatime') || has('noatime'))) problems.push(`strictatime wanted, got relatime/noatime${where}`);
    }
    if (!isBind) {
      for (const o of opts) {
        const eq = o.indexOf('=');
        if (eq < 0) continue;
        const key = o.slice(0, eq);
        if (!['mode', 'ptmxmode', 'size', 'uid', 'gid', 'nr_inodes'].includes(key)) continue;
        let wantValue = o.slice(eq + 1);
        // the kernel shows uid=/gid= of tmpfs and devpts as ids of the initial user namespace
        if ((key === 'uid' || key === 'gid') && idMaps && idMaps[key]) wantValue = mapId(idMaps[key], Number(wantValue));
        const r = compareDataOption(key, String(wantValue), got.superOptions);
        (r.ok ? notes : problems).push(r.note);
      }
    }
    const prop = got.propagation;
    if (opts.some((o) => o === 'shared' || o === 'rshared') && prop.shared === null) problems.push('not shared');
    if (opts.some((o) => o === 'slave' || o === 'rslave') && prop.master === null) problems.push('not a slave');
    if (opts.some((o) => o === 'private' || o === 'rprivate') && (prop.shared !== null || prop.master !== null)) problems.push('not private');
    if (opts.some((o) => o === 'unbindable' || o === 'runbindable') && !prop.unbindable) problems.push('not unbindable');
    // idmap / ridmap, or a mount's own mappings (idmap, as runc): the kernel shows "idmapped";
    // with rbind, the mounts the source had below it are idmapped by ridmap only
    const idmapOpt = [...opts].reverse().find((o) => o === 'idmap' || o === 'ridmap') || (m.uidMappings || m.gidMappings ? 'idmap' : null);
    if (idmapOpt) {
      if (!got.mountOptions.includes('idmapped')) problems.push(`not idmapped (${idmapOpt})`);
      const configured = new Set((config.mounts || []).map((x) => path.posix.resolve('/', x.destination)));
      for (const sub of facts.mounts.filter((x) => x.mountPoint.startsWith(`${dest}/`) && !configured.has(x.mountPoint))) {
        const mapped = sub.mountOptions.includes('idmapped');
        if (idmapOpt === 'ridmap' && !mapped) problems.push(`ridmap: ${sub.mountPoint} below it is not idmapped`);
        if (idmapOpt === 'idmap' && mapped) problems.push(`idmap (not recursive): ${sub.mountPoint} below it is idmapped`);
      }
    }
    add(`${label}: type and options`, problems.length === 0, [...problems, ...notes, `options ${fmt(opts)}`, got.line].join('; '));
    if (opts.includes('ro') && facts.write[m.destination] !== undefined) {
      add(`${label}: writing fails with EROFS`, /Read-only/i.test(facts.write[m.destination]), `write probe: ${facts.write[m.destination]}`);
    }
  }

  // ---- masked and read-only paths -------------------------------------------------------
  for (const p of linux.maskedPaths || []) {
    const f = facts.masked[p];
    let ok = false;
    let why;
    if (!f) why = 'checker did not report it';
    else if (f.type === 'absent') { ok = true; why = 'absent in the container (nothing to mask)'; }
    else if (f.type === 'd') { ok = f.entries === 0; why = `directory with ${f.entries} entries on ${f.fsType}`; }
    else if (f.type === 'c') { ok = (f.major === 1 && f.minor === 3) || f.bytes === 0; why = `char device ${f.major}:${f.minor}, ${f.bytes} bytes readable`; }
    else { ok = f.bytes === 0; why = `${f.type} with ${f.bytes} bytes readable`; }
    add(`linux.maskedPaths ${p}`, ok, why);
  }
  for (const p of linux.readonlyPaths || []) {
    const w = facts.write[p];
    if (w === 'absent') { add(`linux.readonlyPaths ${p}`, true, 'absent in the container'); continue; }
    const cover = coveringMount(facts.mounts, p);
    const roMount = cover && cover.mountOptions.includes('ro');
    add(`linux.readonlyPaths ${p}`, roMount && w !== undefined && w !== 'ok',
      `covering mount ${cover ? `${cover.mountPoint} ${cover.mountOptions.join(',')}` : 'none'}; write probe: ${w}`);
  }

  // ---- devices ------------------------------------------------------------------------------
  const procMounted = facts.mounts.some((m) => m.mountPoint === '/proc' && m.fsType === 'proc');
  for (const [p, maj, min] of DEFAULT_DEVICES) {
    const s = facts.stat[p];
    add(`default device ${p}`, s && s.type === 'c' && s.major === maj && s.minor === min,
      s ? `${s.type} ${s.major}:${s.minor} mode ${s.mode !== undefined ? s.mode.toString(8) : '?'}` : 'absent');
  }
  for (const p of ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom']) {
    const want = p === '/dev/null' ? 0 : 4;
    add(`default device ${p} is readable`, facts.devread[p] === want, `read ${facts.devread[p]} bytes, want ${want}`);
  }
  add('default device /dev/null is writable', facts.devwrite['/dev/null'] === 'ok', `write: ${facts.devwrite['/dev/null']}`);
  {
    const link = facts.devlink['/dev/ptmx'];
    const s = facts.stat['/dev/ptmx'];
    const ok = (link && /^(\/dev\/)?pts\/ptmx$/.test(link)) || (s && s.type === 'c' && s.major === 5 && s.minor === 2);
    add('default device /dev/ptmx', ok, link ? `symlink to ${link}` : (s ? `${s.type} ${s.major}:${s.minor}` : 'absent'));
  }
  if (procMounted) {
    for (const [p, target] of DEV_SYMLINKS) {
      add(`/dev symlink ${p} -> ${target}`, facts.devlink[p] === target, `got ${fmt(facts.devlink[p] || null)}`);
    }
  }
  for (const d of linux.devices || []) {
    const s = facts.stat[d.path];
    const wantType = d.type === 'u' ? 'c' : d.type;
    const problems = [];
    if (!s || s.type === 'absent') problems.push('absent');
    else {
      if (s.type !== wantType) problems.push(`type ${s.type}, want ${wantType}`);
      if (d.type !== 'p' && (s.major !== d.major || s.minor !== d.minor)) problems.push(`${s.major}:${s.minor}, want ${d.major}:${d.minor}`);
      if (d.fileMode !== undefined && s.mode !== (d.fileMode & 0o7777)) problems.push(`mode ${s.mode.toString(8)}, want ${(d.fileMode & 0o7777).toString(8)}`);
      if (d.uid !== undefined && s.uid !== d.uid) problems.push(`uid ${s.uid}, want ${d.uid}`);
      if (d.gid !== undefined && s.gid !== d.gid) problems.push(`gid ${s.gid}, want ${d.gid}`);
    }
    add(`linux.devices ${d.path}`, problems.length === 0, problems.length ? problems.join('; ') : `${s.type} ${s.major}:${s.minor} mode ${s.mode.toString(8)} ${s.uid}:${s.gid}`);
  }

  // ---- personality -------------------------------------------------------------------------------
  // (checker keys "personality" and "machine": not parsed by facts.js, so read from facts.other)
  if (linux.personality) {
    const other = (key) => {
      const line = facts.other.find((l) => l.startsWith(`${key}\t`));
      return line === undefined ? undefined : line.slice(key.length + 1);
    };
    const persona = other('personality');
    const domain = persona ? parseInt(persona, 16) & 0xff : null;
    const want = PERSONALITY_DOMAINS[linux.personality.domain];
    add(`linux.personality.domain=${linux.personality.domain}: /proc/self/personality`, want !== undefined && domain === want,
      `want execution domain ${want}, /proc/self/personality is ${fmt(persona)}`);
    const machine = other('machine');
    const native = os.machine ? os.machine() : null;
    if (native && MACHINE_32[native]) {
      const wantMachine = linux.personality.domain === 'LINUX32' ? MACHINE_32[native] : native;
      add(`linux.personality.domain=${linux.personality.domain}: uname -m`, wantMachine.test ? wantMachine.test(machine) : machine === wantMachine,
        `want ${wantMachine}, got ${fmt(machine)}`);
    }
  }

  // ---- sysctl ----------------------------------------------------------------------------------
  for (const [k, v] of Object.entries(linux.sysctl || {})) {
    const got = facts.sysctl[k];
    add(`linux.sysctl ${k}`, got !== undefined && got.trim().split(/\s+/).join(' ') === String(v).trim().split(/\s+/).join(' '), `want ${fmt(v)}, got ${fmt(got)}`);
  }
  return checks;
}

module.exports = { checkFacts, expectedCaps, capMask, capNames, coveringMount, CAP_BITS, RLIMIT_ROWS };
