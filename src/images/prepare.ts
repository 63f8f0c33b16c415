/**
 * prepareImage: a manifest's base.image -> an unpacked, verified rootfs.
 *
 *   name -> source (names.ts) -> cached and unchanged? done (stat-cache re-check)
 *        -> [per-image lock] newest build (builds.ts) -> download, resumable,
 *           sha256-checked (download.ts) -> decompress (decompress.ts) ->
 *           safe extraction into images/.staging-* (extract.ts) -> tree
 *           digest (tree-digest.ts) -> digest.json + statcache.json ->
 *           one rename into images/<cache_key>
 *
 * Nothing reaches images/<cache_key> unless all of it succeeded; a failure
 * leaves at most a partial download (resumed next time) and a staging
 * directory that is removed at once, or by gc if the process was killed.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { ImageError } from "../errors.ts";
import { fsyncDir, removeTree } from "../store/fsx.ts";
import type { PreparedImage, PrepareImageOptions } from "./api.ts";
import { type ArchiveLocation, locateNewestBuild, publishedChecksum } from "./builds.ts";
import { type DigestRecord, DIGEST_FORMAT, ImageCache, writeJsonDurable } from "./cache.ts";
import { type Env, imageSettings } from "./config.ts";
import { detectFileCompression, openDecompressed } from "./decompress.ts";
import { downloadArchive } from "./download.ts";
import { extractTar, type ExtractReport, UnsafeArchiveError } from "./extract.ts";
import { lockFile } from "./file-lock.ts";
import { resolveNetwork } from "./http.ts";
import { type ImageRef, type LocalDirectoryImage, resolveImageName } from "./names.ts";
import { DownloadProgress, type ProgressStream } from "./progress.ts";
import { digestRootfs } from "./tree-digest.ts";

interface Ctx {
  name: string;
  ref: ImageRef;
  cache: ImageCache;
  options: PrepareImageOptions;
  env: Env;
  log: (line: string) => void;
  progress: ProgressStream | undefined;
}

function progressStream(options: PrepareImageOptions): ProgressStream | undefined {
  if (options.progress !== undefined) return options.progress ?? undefined;
  return process.stderr.isTTY === true ? process.stderr : undefined;
}

function prepared(ctx: Ctx, record: DigestRecord): PreparedImage {
  return {
    name: ctx.name,
    cacheKey: ctx.ref.cacheKey,
    rootfs: ctx.cache.rootfsOf(ctx.ref.cacheKey, record),
    digest: record.digest,
    source: record.source,
    displayName: ctx.ref.displayName,
  };
}

function nowIso(): string {
  return new Date().toISOString();
}

function archiveStat(path: string): { size: number; mtime_ns: string } {
  const st = statSync(path, { bigint: true });
  return { size: Number(st.size), mtime_ns: String(st.mtimeNs) };
}

/**
 * The cached image if it is there and still matches its digest; undefined
 * if it must be prepared. A cached archive image whose content changed is an
 * error: environments use it as their lower layer.
 */
async function checkCached(ctx: Ctx): Promise<PreparedImage | undefined> {
  const { cache, ref } = ctx;
  const key = ref.cacheKey;
  const record = cache.readRecord(key);
  if (record === undefined) {
    if (ref.kind !== "directory" && existsSync(`${cache.entryDir(key)}/rootfs/etc`)) return adopt(ctx);
    return undefined;
  }
  if (ref.kind === "archive") {
    const now = existsSync(ref.path) ? archiveStat(ref.path) : undefined;
    const then = record.archive_stat;
    if (now !== undefined && (then === null || now.size !== then.size || now.mtime_ns !== then.mtime_ns)) {
      ctx.log(`${ref.path} changed since it was unpacked; unpacking it again`);
      return undefined;
    }
  }
  const rootfs = cache.rootfsOf(key, record);
  if (!existsSync(rootfs)) {
    if (ref.kind === "directory") throw missingDirectory(ref);
    return undefined;
  }
  const d = await digestRootfs(rootfs, { cache: cache.readStatCache(key) });
  if (d.digest !== record.digest) {
    if (ref.kind === "directory") {
      ctx.log(`${ref.path} changed since it was last used; its digest is now ${d.digest.slice(0, 12)}`);
      const updated: DigestRecord = { ...record, digest: d.digest, entries: d.entries, files: d.files, bytes: d.bytes, verified_at: nowIso() };
      writeJsonDurable(cache.digestFile(key), updated);
      writeJsonDurable(cache.statCacheFile(key), d.cache);
      return prepared(ctx, updated);
    }
    throw new ImageError(
      `the cached image ${ref.displayName} (${cache.entryDir(key)}) was modified: its content digest is ${d.digest.slice(0, 12)}, ${record.digest.slice(0, 12)} was recorded`,
      { hint: `remove ${cache.entryDir(key)} and run the command again to download and unpack it afresh` },
    );
  }
  if (d.rehashed > 0) writeJsonDurable(cache.statCacheFile(key), d.cache);
  ctx.log(`using cached image ${ref.displayName}`);
  return prepared(ctx, record);
}

/** An image unpacked by the reference implementation (rootfs, no digest.json): record its digest now. */
async function adopt(ctx: Ctx): Promise<PreparedImage> {
  const key = ctx.ref.cacheKey;
  ctx.log(`recording the digest of ${ctx.ref.displayName}, unpacked by another karapace`);
  const d = await digestRootfs(`${ctx.cache.entryDir(key)}/rootfs`, { full: true });
  const record: DigestRecord = {
    format: DIGEST_FORMAT, cache_key: key, name: ctx.name, display_name: ctx.ref.displayName, source: "(unpacked by another karapace)",
    rootfs: "rootfs", archive_sha256: null, archive_stat: null, digest: d.digest, entries: d.entries, files: d.files, bytes: d.bytes,
    skipped_devices: 0, created_at: nowIso(), verified_at: nowIso(),
  };
  writeJsonDurable(ctx.cache.statCacheFile(key), d.cache);
  writeJsonDurable(ctx.cache.digestFile(key), record);
  return prepared(ctx, record);
}

function missingDirectory(ref: LocalDirectoryImage): ImageError {
  return new ImageError(`the image directory ${ref.path} does not exist`, { hint: "check base.image in the manifest: a local image is an absolute path to an unpacked root filesystem" });
}

/** A local directory is used in place; its digest is recorded (and re-checked through the stat cache). */
async function prepareDirectory(ctx: Ctx, ref: LocalDirectoryImage): Promise<PreparedImage> {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(ref.path);
  } catch {
    throw missingDirectory(ref);
  }
  if (!st.isDirectory()) throw new ImageError(`${ref.path} is not a directory or a .tar[.xz|.gz|.zst] archive`, { hint: "point base.image at an unpacked root filesystem or a rootfs archive" });
  const cached = await checkCached(ctx);
  if (cached !== undefined) return cached;
  const d = await digestRootfs(ref.path);
  const key = ref.cacheKey;
  mkdirSync(ctx.cache.entryDir(key), { recursive: true });
  const record: DigestRecord = {
    format: DIGEST_FORMAT, cache_key: key, name: ctx.name, display_name: ref.displayName, source: ref.path, rootfs: ref.path,
    archive_sha256: null, archive_stat: null, digest: d.digest, entries: d.entries, files: d.files, bytes: d.bytes, skipped_devices: 0,
    created_at: nowIso(), verified_at: nowIso(),
  };
  writeJsonDurable(ctx.cache.statCacheFile(key), d.cache);
  writeJsonDurable(ctx.cache.digestFile(key), record);
  return prepared(ctx, record);
}

async function locate(ctx: Ctx, server: string): Promise<ArchiveLocation> {
  const net = resolveNetwork(ctx.options.network, ctx.env);
  const lookup = { server, net, signal: ctx.options.signal, log: ctx.log };
  switch (ctx.ref.kind) {
    case "server":
      ctx.log(`looking up the newest build of ${ctx.ref.displayName} on ${server}`);
      return locateNewestBuild(ctx.ref, lookup);
    case "url":
      return (await publishedChecksum(ctx.ref.url, lookup)) ?? { url: ctx.ref.url, via: "url" };
    case "archive":
      return { url: ctx.ref.path, via: "file" };
    case "directory":
      throw new Error("internal: a directory image has no archive");
  }
}

async function download(ctx: Ctx, where: ArchiveLocation): Promise<{ path: string; sha256: string | null }> {
  if (where.via === "file") {
    if (!existsSync(where.url)) throw new ImageError(`the image archive ${where.url} does not exist`, { hint: "check base.image in the manifest" });
    return { path: where.url, sha256: null };
  }
  const key = ctx.ref.cacheKey;
  const partPath = ctx.cache.partPath(key);
  mkdirSync(`${ctx.cache.dir}/.downloads`, { recursive: true });
  const bar = ctx.progress === undefined ? undefined : new DownloadProgress(ctx.progress, `downloading ${ctx.ref.displayName}`);
  ctx.log(`downloading ${where.url}${where.sha256 === undefined ? " (no published checksum)" : ""}`);
  try {
    const r = await downloadArchive({
      url: where.url, partPath, sha256: where.sha256, size: where.size, net: resolveNetwork(ctx.options.network, ctx.env),
      signal: ctx.options.signal, log: ctx.log, onProgress: bar === undefined ? undefined : (n, t) => bar.update(n, t),
    });
    if (r.resumedFrom > 0) ctx.log(`resumed the download at ${r.resumedFrom} bytes`);
    return { path: partPath, sha256: r.sha256 };
  } finally {
    bar?.clear();
  }
}

async function unpack(ctx: Ctx, archive: string, rootfs: string, maxBytes: number): Promise<ExtractReport> {
  const compression = detectFileCompression(archive);
  ctx.log(`unpacking ${ctx.ref.displayName}${compression === "none" ? "" : ` (${compression})`}`);
  const d = openDecompressed(archive, compression);
  try {
    const report = await extractTar(d.stream, rootfs, { maxBytes, signal: ctx.options.signal });
    await d.finished;
    return report;
  } catch (error) {
    d.cancel();
    if (error instanceof UnsafeArchiveError) throw error;
    // A decompressor that failed explains a broken tar stream better (a truncated .xz: "unexpected end of input").
    const why = await d.finished.then(() => undefined, (e: unknown) => e);
    throw why instanceof ImageError ? why : error;
  }
}

async function fetchAndUnpack(ctx: Ctx): Promise<PreparedImage> {
  const settings = imageSettings(ctx.env);
  const key = ctx.ref.cacheKey;
  const where = await locate(ctx, settings.server);
  const { path: archive, sha256 } = await download(ctx, where);
  const staging = ctx.cache.stagingDir(key);
  const rootfs = `${staging}/rootfs`;
  try {
    mkdirSync(rootfs, { recursive: true });
    const report = await unpack(ctx, archive, rootfs, ctx.options.maxExtractBytes ?? settings.maxExtractBytes);
    if (report.skippedDevices > 0) ctx.log(`skipped ${report.skippedDevices} device node(s) and fifo(s) (the sandbox provides /dev)`);
    const d = await digestRootfs(rootfs, { known: report.fileHashes });
    const record: DigestRecord = {
      format: DIGEST_FORMAT, cache_key: key, name: ctx.name, display_name: ctx.ref.displayName, source: where.url, rootfs: "rootfs",
      archive_sha256: sha256, archive_stat: where.via === "file" ? archiveStat(archive) : null, digest: d.digest, entries: d.entries,
      files: d.files, bytes: d.bytes, skipped_devices: report.skippedDevices, created_at: nowIso(), verified_at: nowIso(),
    };
    writeJsonDurable(`${staging}/statcache.json`, d.cache);
    writeJsonDurable(`${staging}/digest.json`, record);
    const target = ctx.cache.entryDir(key);
    if (existsSync(target)) {
      // A stale entry (damaged, or a local archive that changed): it goes aside first, then away.
      const aside = ctx.cache.stagingDir(`old-${key}`);
      renameSync(target, aside);
      removeTree(aside);
    }
    renameSync(staging, target);
    fsyncDir(ctx.cache.dir);
    if (where.via !== "file") {
      rmSync(archive, { force: true });
      rmSync(`${archive}.json`, { force: true });
    }
    ctx.log(`image ${ctx.ref.displayName} ready (digest ${d.digest.slice(0, 12)})`);
    return prepared(ctx, record);
  } catch (error) {
    removeTree(staging);
    throw error;
  }
}

/** See api.ts. */
export async function prepareImage(image: string, options: PrepareImageOptions): Promise<PreparedImage> {
  const ref = resolveImageName(image);
  const cache = new ImageCache(options.storeRoot);
  const ctx: Ctx = {
    name: image.trim(), ref, cache, options, env: options.env ?? process.env,
    log: options.log ?? (() => {}), progress: progressStream(options),
  };
  mkdirSync(cache.dir, { recursive: true });
  if (ref.kind === "directory") return prepareDirectory(ctx, ref);
  const cached = await checkCached(ctx);
  if (cached !== undefined) return cached;
  if (options.offline && ref.kind !== "archive") {
    throw new ImageError(`offline mode: the base image ${ref.displayName} is not cached`, {
      hint: "build once without --offline to download it (or use a local image: file:///path/rootfs.tar.xz)",
    });
  }
  const lock = await lockFile(cache.lockPath(ref.cacheKey), {
    signal: options.signal,
    onWait: () => ctx.log(`waiting for another karapace preparing ${ref.displayName}`),
  });
  try {
    // Whoever held the lock may have just prepared it.
    return (await checkCached(ctx)) ?? (await fetchAndUnpack(ctx));
  } finally {
    lock.release();
  }
}
