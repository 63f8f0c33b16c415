/** /etc/subuid and /etc/subgid: `owner:start:count` lines, the owner a user name or a numeric uid. */

export interface SubidRange {
  start: number;
  count: number;
}

/** Every range that belongs to the user, by name or by uid, in file order. */
export function subidRanges(text: string, user: string, id: number): SubidRange[] {
  const out: SubidRange[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [owner, start, count] = line.split(":");
    if (owner !== user && owner !== String(id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isSafeInteger(s) && Number.isSafeInteger(c) && s >= 0 && c > 0) out.push({ start: s, count: c });
  }
  return out;
}

export function describeRanges(ranges: readonly SubidRange[]): string {
  return ranges.map((r) => `${r.start}-${r.start + r.count - 1} (${r.count})`).join(", ");
}
