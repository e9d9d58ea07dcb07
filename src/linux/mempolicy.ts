// linux.memoryPolicy: set_mempolicy(2)'s modes, flags and node masks. The
// init (and each exec'd process) sets it on itself right before exec; a
// policy is inherited by children and kept across execve.
import { lib } from './ffi';
import { fail, ptr } from './sys';

const SYS_set_mempolicy = process.arch === 'arm64' ? 237 : 238;

/** The modes of <linux/mempolicy.h>, in the spec's order. */
export const MPOL_MODES: Record<string, number> = {
  MPOL_DEFAULT: 0, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_WEIGHTED_INTERLEAVE: 6, MPOL_PREFERRED: 1,
  MPOL_PREFERRED_MANY: 5, MPOL_LOCAL: 4,
};
/** The mode flags, or'ed into the mode argument. */
export const MPOL_FLAGS: Record<string, number> = {
  MPOL_F_NUMA_BALANCING: 1 << 13, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_STATIC_NODES: 1 << 15,
};
/** Node numbers run below MAX_NUMNODES (1 << CONFIG_NODES_SHIFT, at most 10). */
export const MAX_NUMNODES = 1024;

/** The nodes of a node list ("0-3,7"; empty: none), or why it is not one. */
export function parseNodeList(list: string | undefined): number[] | string {
  if (list === undefined || list.trim() === '') return [];
  const nodes = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) return `"${list}" is not a node list like "0-3,7"`;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return `"${part.trim()}" is a range that ends before it starts`;
    // checked before it is expanded: "0-4000000000" is one bad range, not four billion nodes
    if (hi >= MAX_NUMNODES) return `node ${hi} is above the largest node number Linux has (${MAX_NUMNODES - 1})`;
    for (let n = lo; n <= hi; n++) nodes.add(n);
  }
  return [...nodes].sort((a, b) => a - b);
}

export interface MemoryPolicy {
  mode: string;
  nodes?: string;
  flags?: string[];
}

/** set_mempolicy(2) for the calling thread (a forked stage has only one). */
export function setMemoryPolicy(p: MemoryPolicy): void {
  let mode = MPOL_MODES[p.mode];
  for (const f of p.flags ?? []) mode |= MPOL_FLAGS[f];
  const nodes = parseNodeList(p.nodes);
  if (typeof nodes === 'string') throw new Error(nodes); // bundle/semantic refused it before
  const mask = Buffer.alloc(MAX_NUMNODES / 8);
  for (const n of nodes) mask[n >> 3] |= 1 << (n & 7);
  // maxnode counts one more than the mask's bits (the kernel's historic off-by-one)
  const ret = nodes.length ? lib().syscall6(SYS_set_mempolicy, mode, ptr(mask), MAX_NUMNODES + 1, 0, 0) : lib().syscall6(SYS_set_mempolicy, mode, 0, 0, 0, 0);
  if (Number(ret) < 0) fail('set_mempolicy', [[p.mode, ...(p.flags ?? [])].join('|'), p.nodes ?? '']);
}
