/**
 * The image cache under `<store>/images/`:
 *
 *   <cache_key>/rootfs/          the unpacked root filesystem (an overlay lower dir)
 *   <cache_key>/digest.json      where it came from and its tree digest
 *   <cache_key>/statcache.json   per-file stat + BLAKE3, so re-checks read only changed files
 *   .staging-<key>-p<pid>.<start>-<rand>/   an unpack in progress (moved into place by one rename)
 *   .downloads/<key>.part(.json) a partial download, resumed by the next attempt
 *   .locks/<key>.lock            flock: one process prepares an image at a time
 *
 * A local directory image is used where it is; its cache entry has the two
 * JSON files and no rootfs/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ImageError } from "../errors.ts";
import { isAlive, ownerOfName, uniqueSuffix } from "../store/proc.ts";
import { writeFileDurable } from "../store/fsx.ts";
import { digestRootfs, type StatCache, STAT_CACHE_VERSION } from "./tree-digest.ts";

export const DIGEST_FORMAT = "karapace-tree-v1";

export interface DigestRecord {
  format: typeof DIGEST_FORMAT;
  cache_key: string;
  /** The image name it was prepared for (as first written in a manifest). */
  name: string;
  display_name: string;
  /** The exact archive URL, file path or directory. */
  source: string;
  /** Where the rootfs is: "rootfs" (inside the entry) or an absolute path (a local directory image). */
  rootfs: string;
  /** sha256 of the archive as downloaded; null for local sources. */
  archive_sha256: string | null;
  /** For a local archive: its size and mtime when unpacked, to notice it was replaced. */
  archive_stat: { size: number; mtime_ns: string } | null;
  digest: string;
  entries: number;
  files: number;
  bytes: number;
  skipped_devices: number;
  created_at: string;
  verified_at: string;
}

export class ImageCache {
  readonly dir: string;

  constructor(storeRoot: string) {
    this.dir = join(storeRoot, "images");
  }

  entryDir(key: string): string {
    return join(this.dir, key);
  }

  digestFile(key: string): string {
    return join(this.dir, key, "digest.json");
  }

  statCacheFile(key: string): string {
    return join(this.dir, key, "statcache.json");
  }

  rootfsOf(key: string, record: DigestRecord): string {
    return record.rootfs === "rootfs" ? join(this.dir, key, "rootfs") : record.rootfs;
  }

  stagingDir(key: string): string {
    return join(this.dir, `.staging-${key}${uniqueSuffix()}`);
  }

  partPath(key: string): string {
    return join(this.dir, ".downloads", `${key}.part`);
  }

  lockPath(key: string): string {
    return join(this.dir, ".locks", `${key}.lock`);
  }

  readRecord(key: string): DigestRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.digestFile(key), "utf8");
    } catch {
      return undefined;
    }
    try {
      const r = JSON.parse(text) as DigestRecord;
      if (r.format !== DIGEST_FORMAT || typeof r.digest !== "string" || !/^[0-9a-f]{64}$/.test(r.digest)) throw new Error("unexpected fields");
      return r;
    } catch (error) {
      throw new ImageError(`${this.digestFile(key)} is damaged (${(error as Error).message})`, {
        hint: `remove ${this.entryDir(key)} and run the command again to prepare the image afresh`,
      });
    }
  }

  readStatCache(key: string): StatCache | undefined {
    try {
      const c = JSON.parse(readFileSync(this.statCacheFile(key), "utf8")) as StatCache;
      return c.version === STAT_CACHE_VERSION && typeof c.files === "object" ? c : undefined;
    } catch {
      return undefined; // a missing or damaged stat cache only costs a full re-read
    }
  }

  /** What the cache directory holds; nothing when it does not exist yet. */
  private names(): string[] {
    try {
      return readdirSync(this.dir);
    } catch {
      return [];
    }
  }

  /** Keys of the cached images (entries with a digest record or a rootfs). */
  keys(): string[] {
    return this.names().filter((n) => !n.startsWith(".") && statSafe(join(this.dir, n))?.isDirectory() === true).sort();
  }

  /** Unpacks in progress whose process is gone. */
  staleStaging(): string[] {
    return this.names()
      .filter((n) => n.startsWith(".staging-"))
      .filter((n) => {
        const owner = ownerOfName(n);
        return owner === undefined || !isAlive(owner);
      })
      .map((n) => join(this.dir, n))
      .sort();
  }

  partialDownloads(): string[] {
    const dir = join(this.dir, ".downloads");
    try {
      return readdirSync(dir).filter((n) => n.endsWith(".part")).map((n) => join(dir, n)).sort();
    } catch {
      return [];
    }
  }
}

function statSafe(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

export function writeJsonDurable(path: string, value: unknown): void {
  writeFileDurable(path, new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`));
}

export interface ImageCacheEntry {
  cache_key: string;
  ok: boolean;
  /** What is wrong, when not ok; or a note (e.g. an image another karapace unpacked). */
  problem?: string;
  display_name?: string;
  source?: string;
  digest?: string;
  files?: number;
  /** Files read to check it (the rest matched the stat cache); all of them with `full`. */
  rehashed?: number;
}

export interface ImageCacheReport {
  ok: boolean;
  full: boolean;
  images: ImageCacheEntry[];
  /** Unpack directories left by killed processes ('karapace gc' removes them). */
  stale_staging: string[];
  /** Downloads that stopped part-way (the next prepare of that image resumes them). */
  partial_downloads: string[];
}

/**
 * Checks every cached image against its recorded digest: with `full`, every
 * file is read; without, only files whose stat changed since the last check.
 */
export async function verifyImageCache(storeRoot: string, options: { full: boolean; workers?: number }): Promise<ImageCacheReport> {
  const cache = new ImageCache(storeRoot);
  const images: ImageCacheEntry[] = [];
  for (const key of cache.keys()) {
    images.push(await verifyOne(cache, key, options));
  }
  return {
    ok: images.every((i) => i.ok),
    full: options.full,
    images,
    stale_staging: cache.staleStaging(),
    partial_downloads: cache.partialDownloads(),
  };
}

async function verifyOne(cache: ImageCache, key: string, options: { full: boolean; workers?: number }): Promise<ImageCacheEntry> {
  let record: DigestRecord | undefined;
  try {
    record = cache.readRecord(key);
  } catch (error) {
    return { cache_key: key, ok: false, problem: (error as Error).message };
  }
  if (record === undefined) {
    const unpacked = existsSync(join(cache.entryDir(key), "rootfs", "etc"));
    return unpacked
      ? { cache_key: key, ok: true, problem: "no digest record (unpacked by another karapace); its digest is recorded when it is next used" }
      : { cache_key: key, ok: false, problem: "incomplete: no digest record and no unpacked rootfs" };
  }
  const base = { cache_key: key, display_name: record.display_name, source: record.source, files: record.files };
  const rootfs = cache.rootfsOf(key, record);
  if (!existsSync(rootfs)) return { ...base, ok: false, problem: `the rootfs ${rootfs} is missing` };
  try {
    const d = await digestRootfs(rootfs, { cache: cache.readStatCache(key), full: options.full, workers: options.workers });
    if (d.digest !== record.digest) {
      const local = record.rootfs !== "rootfs";
      return {
        ...base, digest: d.digest, rehashed: d.rehashed, ok: false,
        problem: local
          ? `the local directory changed since it was last used (digest ${record.digest.slice(0, 12)} -> ${d.digest.slice(0, 12)})`
          : `content does not match the recorded digest (${record.digest.slice(0, 12)} recorded, ${d.digest.slice(0, 12)} found): files were modified`,
      };
    }
    return { ...base, digest: d.digest, rehashed: d.rehashed, ok: true };
  } catch (error) {
    return { ...base, ok: false, problem: `cannot be read: ${(error as Error).message}` };
  }
}
