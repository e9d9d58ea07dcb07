// linux.netDevices (config-linux.md "Network Devices"): `create` moves each
// named device of the runtime's network namespace into the container's,
// renamed there when asked, with its permanent global addresses (a move drops
// every address), and sets it up. The init is forked and waits for `continue`
// meanwhile: nothing of the container runs yet.
//
// Nothing moves the devices back: the spec forbids it ("MUST NOT attempt to
// move the interface out of the namespace before deletion"), as runc and crun
// do. When the container's network namespace is freed (its last process gone:
// the container's end, delete --force, a failed create), the kernel moves
// physical devices back to the initial namespace and destroys virtual ones
// (veth, dummy, macvlan...); a namespace joined by path keeps them for its owner.
import * as sys from '../linux/sys';
import * as C from '../linux/constants';
import { RouteSocket, IFA_F_PERMANENT, RT_SCOPE_UNIVERSE, IFNAME_MAX, type Link, type Address } from '../linux/netlink';
import { processStartTime } from '../linux/proc';
import { RuntimeError } from '../errors';
import { type NetDevice } from '../bundle/spec-types';
import { fault } from '../faults';

const problem = (hostName: string, what: string, cause?: unknown) => new RuntimeError(`linux.netDevices[${JSON.stringify(hostName)}]: ${what}`, 1, { cause });

/** Its name in the container: `name`, or the host's when absent or empty (as runc). */
const targetName = (hostName: string, d: NetDevice) => d.name || hostName;

/** Moves the devices into the network namespace of the init `init` (its PID and start time, to tell it from a reused PID). */
export function moveNetDevices(devices: Record<string, NetDevice>, init: { pid: number; startTime: string }): void {
  const entries = Object.entries(devices);
  if (entries.length === 0) return;
  const nsPath = `/proc/${init.pid}/ns/net`;
  const nsFd = sys.open(nsPath, C.O_RDONLY | C.O_CLOEXEC);
  try {
    if (processStartTime(init.pid) !== init.startTime) throw new RuntimeError(`linux.netDevices: the container's init (${init.pid}) is gone`);
    const host = RouteSocket.open();
    try {
      const inner = RouteSocket.openIn(nsFd, `the container's network namespace (${nsPath})`);
      try {
        // every device there and every name free before the first moves: a refused config moves nothing
        const links = entries.map(([hostName, d]) => preflight(host, inner, hostName, targetName(hostName, d)));
        entries.forEach(([hostName, d], i) => move(host, inner, nsFd, hostName, targetName(hostName, d), links[i]));
      } finally {
        inner.close();
      }
    } finally {
      host.close();
    }
  } finally {
    sys.close(nsFd);
  }
}

function preflight(host: RouteSocket, inner: RouteSocket, hostName: string, target: string): Link {
  const link = host.linkByName(hostName);
  if (!link) throw problem(hostName, `no network device "${hostName}" in the runtime's network namespace`);
  if (!target.includes('%') && inner.linkByName(target)) throw nameTaken(hostName, target);
  return link;
}

const nameTaken = (hostName: string, target: string) =>
  problem(hostName, `a network device named "${target}" already exists in the container's network namespace`);

/** Only permanent addresses of global scope move (config-linux.md, RFC 3549 2.3.3.2): not dynamic, link or host ones. */
const carried = (a: Address) => (a.flags & IFA_F_PERMANENT) !== 0 && a.scope === RT_SCOPE_UNIVERSE;

function move(host: RouteSocket, inner: RouteSocket, nsFd: number, hostName: string, target: string, link: Link): void {
  const addresses = host.addresses(link.index).filter(carried);
  const template = target.includes('%');
  const before = template ? new Set(inner.links().map((l) => l.index)) : undefined;
  try {
    host.moveLink(link.index, nsFd, target);
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') throw nameTaken(hostName, target);
    throw problem(hostName, `cannot move it into the container's network namespace: ${(e as Error).message}`, e);
  }
  fault('create:netdev-moved');
  // the kernel keeps the device's hardware address: it tells ours from a device made meanwhile
  const moved = template ? inner.links().find((l) => !before!.has(l.index) && l.mac === link.mac && matchesTemplate(l.name, target)) : inner.linkByName(target);
  if (!moved || moved.mac !== link.mac) throw problem(hostName, `moved, but not found in the container's network namespace as "${target}"`);
  try {
    for (const a of addresses) inner.addAddress(moved.index, a, relabel(a.label, hostName, moved.name));
    inner.setUp(moved.index);
  } catch (e) {
    throw problem(hostName, `moved as "${moved.name}", but: ${(e as Error).message}`, e);
  }
}

function matchesTemplate(name: string, template: string): boolean {
  const [prefix, suffix] = template.split('%d');
  return name.length > prefix.length + suffix.length && name.startsWith(prefix) && name.endsWith(suffix) && /^\d+$/.test(name.slice(prefix.length, name.length - suffix.length));
}

/** An IPv4 label names its device ("eth0", or "eth0:1" for an alias): the same, with the device's new name. */
function relabel(label: string | undefined, hostName: string, name: string): string | undefined {
  if (label === undefined) return undefined;
  if (label === hostName) return name;
  if (label.startsWith(`${hostName}:`)) {
    const alias = name + label.slice(hostName.length);
    return Buffer.byteLength(alias) <= IFNAME_MAX ? alias : name;
  }
  return label;
}
