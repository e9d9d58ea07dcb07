'use strict';
// Parses the output of conformance/checker.sh ("key<TAB>field..." lines)
// into a plain object. Unknown keys are kept in `facts.other`.

/** Undoes mountinfo's octal escapes (\040 for a space, ...). */
function unescapeMountinfo(s) {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Parses one /proc/<pid>/mountinfo line:
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 */
function parseMountinfoLine(line) {
  const parts = line.trim().split(' ');
  const sep = parts.indexOf('-', 6);
  if (parts.length < 10 || sep < 0) return null;
  const optional = parts.slice(6, sep);
  const propagation = { shared: null, master: null, propagateFrom: null, unbindable: false };
  for (const o of optional) {
    if (o.startsWith('shared:')) propagation.shared = Number(o.slice(7));
    else if (o.startsWith('master:')) propagation.master = Number(o.slice(7));
    else if (o.startsWith('propagate_from:')) propagation.propagateFrom = Number(o.slice(15));
    else if (o === 'unbindable') propagation.unbindable = true;
  }
  return {
    id: Number(parts[0]),
    parent: Number(parts[1]),
    dev: parts[2],
    root: unescapeMountinfo(parts[3]),
    mountPoint: unescapeMountinfo(parts[4]),
    mountOptions: parts[5].split(','),
    optional,
    propagation,
    fsType: parts[sep + 1],
    source: unescapeMountinfo(parts[sep + 2] || ''),
    superOptions: (parts[sep + 3] || '').split(','),
    line,
  };
}

function parseMountinfo(text) {
  return text.split('\n').filter(Boolean).map(parseMountinfoLine).filter(Boolean);
}

function hexToBuffer(hex) {
  return Buffer.from(hex || '', 'hex');
}

/** NUL-separated hex data (environ, cmdline) -> array of strings. */
function hexToStrings(hex) {
  const buf = hexToBuffer(hex);
  if (buf.length === 0) return [];
  const text = buf.toString('utf8');
  const items = text.split('\0');
  if (items[items.length - 1] === '') items.pop();
  return items;
}

/** "Max open files            1024                 4096                 files" */
function parseLimitsLine(line) {
  if (line.startsWith('Limit ')) return null;
  const name = line.slice(0, 26).trim();
  const rest = line.slice(26).trim().split(/\s+/);
  if (!name || rest.length < 2) return null;
  return { name, soft: rest[0], hard: rest[1] };
}

/** Parses the checker's output. */
function parseFacts(text) {
  const facts = {
    raw: text,
    started: false,
    complete: false,
    ready: false,
    waited: null,
    fds: [],
    pid: null,
    tty: {},
    status: {},
    cwd: null,
    env: null,
    cmdline: null,
    oomScoreAdj: null,
    lsmLabel: null,
    limits: {},
    idmap: { uid: [], gid: [] },
    hostname: null,
    domainname: null,
    ns: {},
    cgroup: [],
    mounts: [],
    rootWrite: null,
    stat: {},
    devlink: {},
    devread: {},
    devwrite: {},
    masked: {},
    write: {},
    read: {},
    sysctl: {},
    netdev: [],
    warnings: [],
    other: [],
  };
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split('\t');
    const key = f[0];
    switch (key) {
      case 'checker': facts.started = true; break;
      case 'end': facts.complete = f[1] === 'ok'; break;
      case 'ready': facts.ready = true; break;
      case 'waited': facts.waited = f[1]; break;
      case 'fd': {
        // fd <TAB> /proc/1/fd/3 <TAB> '/proc/1/fd/3' -> 'target'
        const num = Number(f[1].split('/').pop());
        const m = /-> '(.*)'$/.exec(f[2] || '');
        facts.fds.push({ fd: num, target: m ? m[1] : f[2] });
        break;
      }
      case 'pid': facts.pid = Number(f[1]); break;
      case 'tty': facts.tty[f[1]] = f[2] === '1'; break;
      case 'status': facts.status[f[1]] = f[2] === undefined ? '' : f[2]; break;
      case 'cwd': facts.cwd = f[1]; break;
      case 'environ': facts.env = hexToStrings(f[1]); break;
      case 'cmdline': facts.cmdline = hexToStrings(f[1]); break;
      case 'oom_score_adj': facts.oomScoreAdj = f[1] === '' ? null : Number(f[1]); break;
      case 'lsm_label': facts.lsmLabel = f[1]; break;
      case 'limits': {
        const l = parseLimitsLine(f.slice(1).join('\t'));
        if (l) facts.limits[l.name] = { soft: l.soft, hard: l.hard };
        break;
      }
      case 'idmap':
        facts.idmap[f[1]].push({ containerID: Number(f[2]), hostID: Number(f[3]), size: Number(f[4]) });
        break;
      case 'hostname': facts.hostname = f[1]; break;
      case 'domainname': facts.domainname = f[1]; break;
      case 'ns': facts.ns[f[1]] = f[2]; break;
      case 'cgroup': facts.cgroup.push(f.slice(1).join('\t')); break;
      case 'mountinfo': {
        const m = parseMountinfoLine(f.slice(1).join('\t'));
        if (m) facts.mounts.push(m);
        break;
      }
      case 'rootwrite': facts.rootWrite = f[1]; break;
      case 'stat':
        facts.stat[f[1]] = f[2] === 'absent' || f[2] === 'error'
          ? { type: f[2] }
          : { type: f[2], major: Number(f[3]), minor: Number(f[4]), mode: parseInt(f[5], 8), uid: Number(f[6]), gid: Number(f[7]), target: f[8] || '' };
        break;
      case 'devlink': facts.devlink[f[1]] = f[2]; break;
      case 'devread': facts.devread[f[1]] = Number(f[2]); break;
      case 'devwrite': facts.devwrite[f[1]] = f[2]; break;
      case 'masked':
        facts.masked[f[1]] = f[2] === 'absent'
          ? { type: 'absent' }
          : { type: f[2], major: Number(f[3]), minor: Number(f[4]), bytes: Number(f[5]), entries: Number(f[6]), fsType: f[7] || '' };
        break;
      case 'write': facts.write[f[1]] = f[2]; break;
      case 'read': facts.read[f[1]] = { ok: f[2] === 'ok', value: f.slice(3).join('\t') }; break;
      case 'sysctl': facts.sysctl[f[1]] = f[2]; break;
      case 'netdev': facts.netdev.push(f[1]); break;
      case 'warning': facts.warnings.push(f.slice(1).join(' ')); break;
      default: facts.other.push(line);
    }
  }
  return facts;
}

module.exports = { parseFacts, parseMountinfo, parseMountinfoLine, hexToStrings };
