/**
 * Safe extraction of a rootfs tar stream into an empty staging directory,
 * with modern-tar's streaming decoder (strict: bad checksums, truncation and
 * impossible sizes are errors).
 *
 * The rules, which make the result depend on the archive alone and keep every
 * write inside `dest`:
 * - names are relative: an absolute name or a `..` component is refused;
 * - nothing is written through a symlink: every entry's parent directories
 *   must be real directories this extraction made (the set of what was
 *   extracted is kept in memory, so no lstat walk is needed), and files are
 *   opened O_EXCL|O_NOFOLLOW;
 * - hard links must point at a regular file already extracted;
 * - character and block devices and fifos are skipped and counted (a
 *   rootless user cannot make them; /dev comes from the sandbox);
 * - modes get u+rwX as the reference's `chmod -R u+rwX` does; owners are
 *   never set; mtimes are kept;
 * - past `maxBytes` of tar stream the archive is taken for a decompression
 *   bomb and refused.
 * Each regular file is hashed (BLAKE3) while it is written, so the tree
 * digest need not read the files again.
 */
import { closeSync, constants, fchmodSync, futimesSync, linkSync, lutimesSync, mkdirSync, chmodSync, openSync, symlinkSync, unlinkSync, utimesSync, writeSync } from "node:fs";
import { createTarDecoder, type ParsedTarEntry } from "modern-tar";
import { Blake3Hasher } from "../../wasm/blake3.ts";
import { ImageError } from "../errors.ts";

export interface ExtractOptions {
  /** Refuse the archive past this many bytes of (decompressed) tar stream. */
  maxBytes: number;
  signal?: AbortSignal;
}

export interface ExtractReport {
  entries: number;
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  /** Character/block devices and fifos, which are not extracted. */
  skippedDevices: number;
  /** Bytes of regular-file content written. */
  bytes: number;
  /** Bytes of tar stream read. */
  streamBytes: number;
  /** BLAKE3 of every regular file (hard links included), by relative path. */
  fileHashes: Map<string, Uint8Array>;
}

type Kind = "dir" | "file" | "symlink";

/** An archive that breaks a safety rule (escapes, links, sizes); it is refused and nothing is kept. */
export class UnsafeArchiveError extends ImageError {}

/** An archive that is not a complete, valid tar stream. */
export class DamagedArchiveError extends ImageError {}

const DAMAGED_HINT = "the archive is damaged or hostile; nothing from it was kept. Use another image or download it again";

function unsafe(message: string): UnsafeArchiveError {
  return new UnsafeArchiveError(message, { hint: DAMAGED_HINT });
}

/** `./a//b/` -> `a/b`; `.` or empty -> `` (the root). Absolute names and `..` are refused. */
export function normalizeEntryName(name: string, what = "entry"): string {
  if (name.startsWith("/")) throw unsafe(`the archive has an absolute path (${what} '${name}')`);
  const parts: string[] = [];
  for (const seg of name.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") throw unsafe(`the archive has a path that escapes its root (${what} '${name}')`);
    parts.push(seg);
  }
  return parts.join("/");
}

function fileMode(mode: number): number {
  const m = mode & 0o7777;
  return m | 0o600 | ((m & 0o111) !== 0 ? 0o100 : 0);
}

function dirMode(mode: number): number {
  return (mode & 0o7777) | 0o700;
}

const OPEN_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

class Extractor {
  readonly kinds = new Map<string, Kind>();
  readonly report: ExtractReport = {
    entries: 0, files: 0, directories: 0, symlinks: 0, hardlinks: 0, skippedDevices: 0, bytes: 0, streamBytes: 0, fileHashes: new Map(),
  };
  private readonly dirTimes: Array<[string, Date]> = [];
  private readonly hasher = Blake3Hasher.create();

  constructor(
    private readonly dest: string,
    private readonly maxBytes: number,
  ) {}

  private abs(rel: string): string {
    return `${this.dest}/${rel}`;
  }

  /** Makes the parents of `rel` (as 0755 directories) unless they exist; refuses to go through anything but a directory. */
  private parents(rel: string): void {
    const slash = rel.lastIndexOf("/");
    if (slash < 0) return;
    const parent = rel.slice(0, slash);
    const known = this.kinds.get(parent);
    if (known === "dir") return;
    if (known === "symlink") throw unsafe(`the archive writes '${rel}' through the symlink '${parent}'`);
    if (known === "file") throw unsafe(`the archive puts '${rel}' under '${parent}', which is a file`);
    this.parents(parent);
    mkdirSync(this.abs(parent), 0o755);
    chmodSync(this.abs(parent), 0o755);
    this.kinds.set(parent, "dir");
  }

  /** Clears the way for a non-directory at `rel` (a later entry replaces an earlier one, as tar does). */
  private replace(rel: string): void {
    const existing = this.kinds.get(rel);
    if (existing === undefined) return;
    if (existing === "dir") throw unsafe(`the archive replaces the directory '${rel}' with a non-directory`);
    unlinkSync(this.abs(rel));
    this.kinds.delete(rel);
    this.report.fileHashes.delete(rel);
  }

  async entry(entry: ParsedTarEntry): Promise<void> {
    const h = entry.header;
    const type = h.type ?? "file";
    if (type === "character-device" || type === "block-device" || type === "fifo") {
      this.report.skippedDevices++;
      await entry.body.cancel();
      return;
    }
    if (!Number.isSafeInteger(h.size) || h.size < 0 || h.size > this.maxBytes) {
      throw unsafe(`the archive's entry '${h.name}' claims ${h.size} bytes, more than the extraction limit of ${this.maxBytes}`);
    }
    const rel = normalizeEntryName(h.name);
    this.report.entries++;
    if (rel === "") {
      await entry.body.cancel(); // the root itself: the staging directory stands for it
      return;
    }
    const mtime = h.mtime ?? new Date(0);
    const mode = h.mode ?? 0o644;
    this.parents(rel);
    switch (type) {
      case "directory": {
        await entry.body.cancel();
        const existing = this.kinds.get(rel);
        if (existing !== "dir") {
          this.replace(rel);
          mkdirSync(this.abs(rel));
          this.kinds.set(rel, "dir");
          this.report.directories++;
        }
        chmodSync(this.abs(rel), dirMode(mode));
        this.dirTimes.push([rel, mtime]);
        return;
      }
      case "symlink": {
        await entry.body.cancel();
        const target = h.linkname ?? "";
        if (target === "") throw unsafe(`the archive's symlink '${h.name}' has no target`);
        this.replace(rel);
        symlinkSync(target, this.abs(rel));
        this.kinds.set(rel, "symlink");
        this.report.symlinks++;
        try {
          lutimesSync(this.abs(rel), mtime, mtime);
        } catch {
          // some filesystems do not keep symlink times; they are not part of the digest
        }
        return;
      }
      case "link": {
        await entry.body.cancel();
        const target = normalizeEntryName(h.linkname ?? "", `hard link target of '${h.name}'`);
        if (this.kinds.get(target) !== "file") {
          throw unsafe(`the archive's hard link '${h.name}' points at '${h.linkname ?? ""}', which is not a regular file extracted before it`);
        }
        if (target === rel) return;
        this.replace(rel);
        linkSync(this.abs(target), this.abs(rel));
        this.kinds.set(rel, "file");
        const hash = this.report.fileHashes.get(target);
        if (hash !== undefined) this.report.fileHashes.set(rel, hash);
        this.report.hardlinks++;
        return;
      }
      default:
        await this.file(entry, rel, mode, mtime);
    }
  }

  private async file(entry: ParsedTarEntry, rel: string, mode: number, mtime: Date): Promise<void> {
    this.replace(rel);
    const fd = openSync(this.abs(rel), OPEN_NEW, 0o600);
    this.kinds.set(rel, "file");
    const hasher = this.hasher.reset();
    try {
      const reader = entry.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let off = 0;
        while (off < value.length) off += writeSync(fd, value, off, value.length - off);
        hasher.update(value);
        this.report.bytes += value.length;
      }
      fchmodSync(fd, fileMode(mode));
      futimesSync(fd, mtime, mtime);
    } finally {
      closeSync(fd);
    }
    this.report.fileHashes.set(rel, hasher.digest());
    this.report.files++;
  }

  /** Directory times last, deepest first: creating entries inside a directory changes its mtime. */
  finish(): void {
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const [rel, mtime] = this.dirTimes[i] as [string, Date];
      utimesSync(this.abs(rel), mtime, mtime);
    }
    this.hasher.dispose();
  }

  dispose(): void {
    this.hasher.dispose();
  }
}

const TAIL = 1024;

/**
 * Extracts the tar stream into `dest` (an existing, empty directory). On
 * error, whatever was written stays in `dest` for the caller to remove.
 */
export async function extractTar(stream: ReadableStream<Uint8Array>, dest: string, options: ExtractOptions): Promise<ExtractReport> {
  const x = new Extractor(dest.replace(/\/+$/, ""), options.maxBytes);
  const decoder = createTarDecoder({ strict: true });
  const source = stream.getReader();
  const writer = decoder.writable.getWriter();
  const tail = new Uint8Array(TAIL);
  let tailLen = 0;
  let feedError: unknown;
  let stopped = false;

  const feed = async (): Promise<void> => {
    try {
      for (;;) {
        if (options.signal?.aborted === true) throw new ImageError("image extraction interrupted", { hint: "run the command again" });
        const { done, value } = await source.read();
        if (done || stopped) break;
        x.report.streamBytes += value.length;
        if (x.report.streamBytes > options.maxBytes) {
          throw unsafe(`the archive unpacks to more than ${options.maxBytes} bytes (the extraction limit); refusing it as a decompression bomb`);
        }
        if (value.length >= TAIL) {
          tail.set(value.subarray(value.length - TAIL));
          tailLen = TAIL;
        } else {
          const keep = Math.min(tailLen, TAIL - value.length);
          tail.copyWithin(0, tailLen - keep, tailLen);
          tail.set(value, keep);
          tailLen = keep + value.length;
        }
        await writer.write(value);
      }
      await writer.close();
    } catch (error) {
      feedError = error;
      await writer.abort(error).catch(() => {});
      await source.cancel().catch(() => {});
    }
  };

  const feeding = feed();
  const entries = decoder.readable.getReader();
  try {
    for (;;) {
      const { done, value } = await entries.read();
      if (done) break;
      await x.entry(value);
    }
    await feeding;
    if (feedError !== undefined) throw feedError;
    if (tailLen < TAIL || tail.some((b) => b !== 0)) {
      throw new DamagedArchiveError("the archive is truncated: it has no end-of-archive marker", { hint: DAMAGED_HINT });
    }
    x.finish();
    return x.report;
  } catch (error) {
    const primary = feedError ?? error;
    stopped = true;
    x.dispose();
    await entries.cancel().catch(() => {});
    await source.cancel().catch(() => {});
    await feeding;
    throw asExtractError(primary);
  }
}

/** modern-tar's and the filesystem's errors, as one-line ImageErrors. */
function asExtractError(error: unknown): Error {
  if (error instanceof ImageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new ImageError("no space left on the device while unpacking the image", { hint: "free some space (or run 'karapace gc'), then try again; nothing was kept" });
  }
  if (code !== undefined) return new ImageError(`unpacking the image failed: ${message}`, { hint: "check the store directory's permissions and free space; nothing was kept" });
  if (/truncated/i.test(message)) return new DamagedArchiveError("the archive is truncated", { hint: DAMAGED_HINT });
  if (/number too large|entry size|tar number/i.test(message)) {
    return new UnsafeArchiveError(`the archive has a header with an impossible size or number field (${message.replace(/\.$/, "")})`, { hint: DAMAGED_HINT });
  }
  return new DamagedArchiveError(`the archive is not a valid tar archive: ${message}`, { hint: DAMAGED_HINT });
}
