// Parsing of mounts[].options as config.md's table defines them.
import * as C from '../linux/constants';

export interface ParsedMountOptions {
  /** mount(2) flags to set. */
  flags: number;
  /** Flags explicitly cleared ("rw", "suid", ...): matter only for remounts. */
  clearFlags: number;
  /** Propagation changes, applied one by one after the mount (MS_SHARED|MS_REC, ...). */
  propagation: number[];
  /** mount_setattr(2) attributes applied recursively (the r* options). */
  recursiveSet: number;
  recursiveClear: number;
  /** Filesystem-specific options passed as mount(2) data. */
  data: string[];
  bind: boolean;
  /** Copy the existing contents of the destination into a new tmpfs. */
  tmpcopyup: boolean;
  /** idmap or ridmap, the last one given (config.md): the mount gets an id mapping, ridmap for its whole tree. */
  idmap?: 'idmap' | 'ridmap';
}

const FLAG_SET: Record<string, number> = {
  ro: C.MS_RDONLY, nosuid: C.MS_NOSUID, nodev: C.MS_NODEV, noexec: C.MS_NOEXEC,
  sync: C.MS_SYNCHRONOUS, remount: C.MS_REMOUNT, mand: C.MS_MANDLOCK, dirsync: C.MS_DIRSYNC,
  noatime: C.MS_NOATIME, nodiratime: C.MS_NODIRATIME, relatime: C.MS_RELATIME,
  strictatime: C.MS_STRICTATIME, iversion: C.MS_I_VERSION, lazytime: C.MS_LAZYTIME,
  silent: C.MS_SILENT, nosymfollow: C.MS_NOSYMFOLLOW,
};

const FLAG_CLEAR: Record<string, number> = {
  rw: C.MS_RDONLY, suid: C.MS_NOSUID, dev: C.MS_NODEV, exec: C.MS_NOEXEC, async: C.MS_SYNCHRONOUS,
  nomand: C.MS_MANDLOCK, atime: C.MS_NOATIME, diratime: C.MS_NODIRATIME, norelatime: C.MS_RELATIME,
  nostrictatime: C.MS_STRICTATIME, noiversion: C.MS_I_VERSION, nolazytime: C.MS_LAZYTIME,
  loud: C.MS_SILENT, symfollow: C.MS_NOSYMFOLLOW, defaults: 0,
};

const PROPAGATION: Record<string, number> = {
  private: C.MS_PRIVATE, rprivate: C.MS_PRIVATE | C.MS_REC,
  shared: C.MS_SHARED, rshared: C.MS_SHARED | C.MS_REC,
  slave: C.MS_SLAVE, rslave: C.MS_SLAVE | C.MS_REC,
  unbindable: C.MS_UNBINDABLE, runbindable: C.MS_UNBINDABLE | C.MS_REC,
};

// [set, clear] for mount_setattr, applied recursively.
const RECURSIVE: Record<string, [number, number]> = {
  rro: [C.MOUNT_ATTR_RDONLY, 0], rrw: [0, C.MOUNT_ATTR_RDONLY],
  rnosuid: [C.MOUNT_ATTR_NOSUID, 0], rsuid: [0, C.MOUNT_ATTR_NOSUID],
  rnodev: [C.MOUNT_ATTR_NODEV, 0], rdev: [0, C.MOUNT_ATTR_NODEV],
  rnoexec: [C.MOUNT_ATTR_NOEXEC, 0], rexec: [0, C.MOUNT_ATTR_NOEXEC],
  rnodiratime: [C.MOUNT_ATTR_NODIRATIME, 0], rdiratime: [0, C.MOUNT_ATTR_NODIRATIME],
  // The atime mode is one field: changing it means clearing all of MOUNT_ATTR__ATIME.
  // Without noatime/strictatime the kernel's default, relatime, applies.
  rrelatime: [C.MOUNT_ATTR_RELATIME, C.MOUNT_ATTR__ATIME], rnorelatime: [C.MOUNT_ATTR_STRICTATIME, C.MOUNT_ATTR__ATIME],
  rnoatime: [C.MOUNT_ATTR_NOATIME, C.MOUNT_ATTR__ATIME], ratime: [C.MOUNT_ATTR_RELATIME, C.MOUNT_ATTR__ATIME],
  rstrictatime: [C.MOUNT_ATTR_STRICTATIME, C.MOUNT_ATTR__ATIME], rnostrictatime: [C.MOUNT_ATTR_RELATIME, C.MOUNT_ATTR__ATIME],
  rnosymfollow: [C.MOUNT_ATTR_NOSYMFOLLOW, 0], rsymfollow: [0, C.MOUNT_ATTR_NOSYMFOLLOW],
};

export function parseMountOptions(options: string[] | undefined, type?: string): ParsedMountOptions {
  const p: ParsedMountOptions = {
    flags: 0, clearFlags: 0, propagation: [], recursiveSet: 0, recursiveClear: 0,
    data: [], bind: type === 'bind', tmpcopyup: false,
  };
  for (const opt of options ?? []) {
    if (opt === 'bind') {
      p.bind = true;
      p.flags |= C.MS_BIND;
    } else if (opt === 'rbind') {
      p.bind = true;
      p.flags |= C.MS_BIND | C.MS_REC;
    } else if (opt in FLAG_SET) {
      p.flags |= FLAG_SET[opt];
      p.clearFlags &= ~FLAG_SET[opt];
    } else if (opt in FLAG_CLEAR) {
      p.flags &= ~FLAG_CLEAR[opt];
      p.clearFlags |= FLAG_CLEAR[opt];
    } else if (opt in PROPAGATION) {
      p.propagation.push(PROPAGATION[opt]);
    } else if (opt in RECURSIVE) {
      const [set, clear] = RECURSIVE[opt];
      p.recursiveSet = (p.recursiveSet & ~clear) | set;
      p.recursiveClear = (p.recursiveClear & ~set) | clear;
      // mount_setattr(2) rejects a partial atime clear mask
      if (p.recursiveClear & C.MOUNT_ATTR__ATIME) p.recursiveClear |= C.MOUNT_ATTR__ATIME;
    } else if (opt === 'tmpcopyup') {
      p.tmpcopyup = true;
    } else if (opt === 'idmap' || opt === 'ridmap') {
      p.idmap = opt;
    } else {
      p.data.push(opt);
    }
  }
  if (p.bind) p.flags |= C.MS_BIND;
  return p;
}

// Options each filesystem type accepts as data, so that a typo fails at
// validation with the field named rather than as EINVAL from mount(2).
const KNOWN_DATA: Record<string, RegExp> = {
  proc: /^(hidepid=\w+|gid=\d+|subset=pid)$/,
  sysfs: /^$/,
  mqueue: /^$/,
  tmpfs: /^(size=\d+[kmgtpe%]?|nr_blocks=\d+[kmgtpe]?|nr_inodes=\d+[kmgtpe]?|mode=[0-7]{1,4}|uid=\d+|gid=\d+|huge=\w+|mpol=[\w:,-]+|noswap|inode(32|64)|quota|usrquota|grpquota)$/i,
  devpts: /^(newinstance|ptmxmode=[0-7]{1,4}|mode=[0-7]{1,4}|gid=\d+|uid=\d+|max=\d+)$/,
  cgroup: /^[\w,=.-]*$/,
  cgroup2: /^(nsdelegate|memory_recursiveprot|memory_localevents|favordynmods|memory_hugetlb_accounting|pids_localevents)$/,
  // A bind mount ignores filesystem data; runc and crun accept key=value options there (runtime-tools
  // uses them), so only bare words, likely misspelled flags, are refused.
  bind: /^[\w.-]+=.*$/,
};

/** Problems with one mount's options, as text naming the option. */
export function checkMountData(type: string, parsed: ParsedMountOptions): string[] {
  const fsType = parsed.bind ? 'bind' : type;
  const pattern = KNOWN_DATA[fsType];
  if (!pattern) return []; // other filesystems: the kernel is the judge
  return parsed.data
    .filter((d) => !pattern.test(d))
    .map((d) => (fsType === 'bind' ? `unknown mount option "${d}" for a bind mount` : `unknown mount option "${d}" for type ${fsType}`));
}

/** Every mount option name parseMountOptions recognises (for `features`). */
export function knownMountOptions(): string[] {
  return [
    'bind', 'rbind', 'tmpcopyup', 'idmap', 'ridmap',
    ...Object.keys(FLAG_SET), ...Object.keys(FLAG_CLEAR), ...Object.keys(PROPAGATION), ...Object.keys(RECURSIVE),
  ].sort();
}
