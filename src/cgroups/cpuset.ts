// CPU and memory-node lists as cpuset files write them: "0-3,7".

const MAX_ID = 1 << 16;

/** "0-3,7" -> [0,1,2,3,7]; undefined when malformed ("0-", "3-1", "a", ""). */
export function parseList(text: string): number[] | undefined {
  const out = new Set<number>();
  const t = text.trim();
  if (t === '') return undefined;
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi >= MAX_ID) return undefined;
    for (let n = lo; n <= hi; n++) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/** [0,1,2,3,7] -> "0-3,7". */
export function formatList(ids: number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
