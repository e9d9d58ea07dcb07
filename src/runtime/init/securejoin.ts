// Resolves a path inside the root filesystem the way the container will see
// it: symlinks are followed with `root` as "/", so no symlink in the rootfs
// can make a mount land outside it (a link to "/etc" means root + "/etc",
// "../../.." stops at root).
import * as fs from 'fs';
import * as path from 'path';

const MAX_LINKS = 255;

export function secureJoin(root: string, unsafe: string): string {
  const pending = unsafe.split('/').filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length) {
    const part = pending.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(candidate);
    } catch {
      st = undefined; // does not exist (yet): the rest is taken literally
    }
    if (st && st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new Error(`too many symlinks resolving ${unsafe} in ${root}`);
      const target = fs.readlinkSync(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved.push(part);
  }
  return path.join(root, ...resolved);
}
