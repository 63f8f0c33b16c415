/**
 * The tree digest of a cached rootfs (docs/tree-digest.md), with a stat cache
 * so that checking an unchanged image does not read its files again.
 *
 * The cache records, per regular file, (dev, ino, size, mtime_ns, ctime_ns)
 * and the file's BLAKE3. A file whose stat still matches keeps its hash; any
 * other is re-read. ctime cannot be set from user space, so even a change
 * that restores size and mtime (utimes) is seen. A file whose ctime is not
 * clearly older than the moment the cache was taken is re-read next time
 * ("racy" entries, as git does for its index): timestamps are coarse, and a
 * write in the same tick as the snapshot would otherwise go unnoticed.
 */
import type { BigIntStats } from "node:fs";
import { toHex } from "../../wasm/blake3.ts";
import { foldTreeDigest, hashTreeFiles } from "../../wasm/digest.ts";
import { type TreeEntry, walkTreeWithStats } from "../../wasm/walk.ts";

export const STAT_CACHE_VERSION = 1;

/** [dev, ino, size, mtime_ns, ctime_ns, blake3 hex] */
export type StatRecord = [string, string, string, string, string, string];

export interface StatCache {
  version: number;
  /** Wall-clock time (ns since the epoch) just before the tree was walked. */
  taken_ns: string;
  /** Relative path (bytes as latin1 code points) -> record. */
  files: Record<string, StatRecord>;
}

/** Entries whose ctime is within this of the snapshot are re-read next time. */
const RACY_NS = 50_000_000n;


function recordOf(st: BigIntStats, hash: string): StatRecord {
  return [String(st.dev), String(st.ino), String(st.size), String(st.mtimeNs), String(st.ctimeNs), hash];
}

function matches(r: StatRecord, st: BigIntStats, takenNs: bigint): boolean {
  return (
    r[0] === String(st.dev) &&
    r[1] === String(st.ino) &&
    r[2] === String(st.size) &&
    r[3] === String(st.mtimeNs) &&
    r[4] === String(st.ctimeNs) &&
    st.ctimeNs < takenNs - RACY_NS
  );
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

export interface TreeDigestOptions {
  /** The previous stat cache; files whose stat matches are not read. */
  cache?: StatCache;
  /** Hashes already known to be right (computed while extracting), by relative path. */
  known?: ReadonlyMap<string, Uint8Array>;
  /** Ignore `cache` and `known`: read every file. */
  full?: boolean;
  workers?: number;
}

export interface TreeDigest {
  digest: string;
  entries: number;
  files: number;
  bytes: number;
  /** Files that were read (not taken from the cache). */
  rehashed: number;
  cache: StatCache;
}

export async function digestRootfs(root: string, options: TreeDigestOptions = {}): Promise<TreeDigest> {
  const takenNs = BigInt(Date.now()) * 1_000_000n;
  const { entries, stats } = walkTreeWithStats(root);
  const cached = options.full === true ? undefined : options.cache;
  const cachedTaken = cached !== undefined && cached.version === STAT_CACHE_VERSION ? BigInt(cached.taken_ns) : undefined;
  const hashes: Uint8Array[] = [];
  const fileStats: BigIntStats[] = [];
  const fileKeys: string[] = [];
  const misses: TreeEntry[] = [];
  const missAt: number[] = [];
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as TreeEntry;
    if (e.kind !== "file") continue;
    const st = stats[i] as BigIntStats;
    const key = e.rel.toString("latin1");
    bytes += e.size;
    let hash: Uint8Array | undefined;
    if (options.full !== true) {
      const r = cachedTaken !== undefined ? cached?.files[key] : undefined;
      if (r !== undefined && cachedTaken !== undefined && matches(r, st, cachedTaken)) hash = fromHex(r[5]);
      else hash = options.known?.get(e.rel.toString("utf8"));
    }
    if (hash === undefined) {
      misses.push(e);
      missAt.push(hashes.length);
      hashes.push(new Uint8Array(0));
    } else {
      hashes.push(hash);
    }
    fileStats.push(st);
    fileKeys.push(key);
  }
  const fresh = misses.length > 0 ? await hashTreeFiles(misses, { workers: options.workers }) : [];
  for (let j = 0; j < fresh.length; j++) hashes[missAt[j] as number] = fresh[j] as Uint8Array;
  const files: Record<string, StatRecord> = {};
  for (let i = 0; i < fileKeys.length; i++) files[fileKeys[i] as string] = recordOf(fileStats[i] as BigIntStats, toHex(hashes[i] as Uint8Array));
  return {
    digest: foldTreeDigest(entries, hashes),
    entries: entries.length,
    files: fileKeys.length,
    bytes,
    rehashed: misses.length,
    cache: { version: STAT_CACHE_VERSION, taken_ns: String(takenNs), files },
  };
}
