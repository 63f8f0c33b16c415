import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readlinkSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { dlopen, FFIType } from "bun:ffi";
import { availableParallelism } from "node:os";
import { SubtreeRing } from "./hash-pool-ring.ts";
import { check, core, type WasmCore } from "./module.ts";
import { toHex } from "./blake3.ts";
import { walkTree, type TreeEntry } from "./walk.ts";
import { encodeXattrs, readXattrs, type Xattr } from "./xattr.ts";

/** Tar type codes as `tar_header` takes them (native/src/tar.zig `Kind`). */
const KIND = { file: 0, hardlink: 1, symlink: 2, dir: 5, fifo: 6 } as const;

/**
 * The archive is assembled in units of this size, aligned to multiples of it in
 * the stream: each full unit is a complete BLAKE3 subtree (1024 chunks) whose
 * chaining value a worker can compute independently. Memory holds one unit
 * here, one in each worker and a few queued per worker (hash-pool-ring.ts).
 * 1 MiB rather than 4 took ~10 MiB off a 500 MB commit's peak RSS; timing did
 * not move beyond the noise (0.5 to 4 MiB, 2 to 8 queued, all measured).
 */
const UNIT = 1 << 20;
const UNIT_CHUNKS = UNIT / 1024;
const YIELD_EVERY = 64 << 20;
/** Below this much file data, starting workers costs more than it saves. */
const PARALLEL_THRESHOLD = 32 << 20;

export interface PackOptions {
  /** Store extended attributes as PAX records (default true). */
  xattrs?: boolean;
  /**
   * Hash workers for large trees; 0 hashes on this thread. Default: one per
   * core but one, since this thread reads and writes, and hashes too whenever
   * every worker's queue is full.
   */
  workers?: number;
  /** Called now and then with the bytes written so far. */
  onProgress?: (bytesWritten: number) => void;
  /**
   * The tree is an overlayfs upper directory: write it as an OCI image layer
   * (whiteouts as `.wh.<name>`, opaque directories marked by `.wh..wh..opq`,
   * overlay-internal attributes left out). See docs/export-format.md.
   */
  overlayUpper?: boolean;
}

export interface SkippedEntry {
  path: string;
  kind: TreeEntry["kind"];
}

export interface PackResult {
  /** BLAKE3 of the archive bytes, hex. */
  tarHash: string;
  bytes: number;
  entries: number;
  /** Sockets and device nodes, which a layer cannot carry. */
  skipped: SkippedEntry[];
  /** overlayUpper: whiteout entries written (deletions of lower paths). */
  whiteouts: number;
  /** overlayUpper: directories written as opaque (they replace the lower directory). */
  opaqueDirs: number;
}

/** OCI layer spelling of an overlay whiteout: `.wh.` + the hidden name. */
export const WHITEOUT_PREFIX = ".wh.";
/** OCI layer spelling of an opaque directory: this entry inside it. */
export const OPAQUE_MARKER = ".wh..wh..opq";

/**
 * Attribute namespaces overlayfs (kernel, with or without `userxattr`) and
 * fuse-overlayfs keep their bookkeeping in. They describe the upper dir's
 * relation to its lower dir on this host, not the content.
 */
const OVERLAY_XATTR_PREFIXES = ["trusted.overlay.", "user.overlay.", "user.fuseoverlayfs.", "trusted.fuseoverlayfs."];

/**
 * What an overlay layer keeps: user attributes, file capabilities and ACLs.
 * SELinux labels are host policy and other trusted.* names need real root to
 * set, so neither would restore in a rootless environment.
 */
function keptInLayer(name: string): boolean {
  if (OVERLAY_XATTR_PREFIXES.some((p) => name.startsWith(p))) return false;
  return name.startsWith("user.") || name === "security.capability" || name === "system.posix_acl_access" || name === "system.posix_acl_default";
}

function overlayXattr(xattrs: readonly Xattr[], suffix: string): Buffer | undefined {
  for (const x of xattrs) {
    const name = x.name.toString("latin1");
    if (OVERLAY_XATTR_PREFIXES.some((p) => name === p + suffix)) return x.value;
  }
  return undefined;
}

/** An upper dir written with overlay features a layer cannot express. */
export class OverlayFeatureError extends Error {
  constructor(readonly path: string, feature: string) {
    super(`${path} uses the overlayfs ${feature} feature, which a layer cannot carry; mount without redirect_dir and metacopy (karapace does) and commit again`);
    this.name = "OverlayFeatureError";
  }
}

/** How overlay marks a directory that hides its lower counterpart: an xattr "y", or fuse-overlayfs' marker file. */
export function isOpaqueDir(abs: Buffer, xattrs: readonly Xattr[]): boolean {
  const v = overlayXattr(xattrs, "opaque");
  if (v !== undefined && v.toString("latin1") === "y") return true;
  return existsSync(Buffer.concat([abs, Buffer.from(`/${OPAQUE_MARKER}`)]));
}

/**
 * Whether an upper-dir entry is a whiteout: a 0:0 character device (kernel
 * overlayfs, fuse-overlayfs), a `.wh.<name>` file (fuse-overlayfs when it may
 * not mknod), or an empty file with an overlay `whiteout` attribute (the
 * kernel's xattr whiteouts, Linux 6.7+).
 */
export function isWhiteout(e: Pick<TreeEntry, "kind" | "rdevMajor" | "rdevMinor" | "size">, name: Buffer, xattrs: readonly Xattr[]): boolean {
  if (e.kind === "chardev") return e.rdevMajor === 0 && e.rdevMinor === 0;
  if (e.kind !== "dir" && name.length > WHITEOUT_PREFIX.length && name.subarray(0, WHITEOUT_PREFIX.length).toString("latin1") === WHITEOUT_PREFIX) {
    return name.toString("latin1") !== OPAQUE_MARKER;
  }
  return e.kind === "file" && e.size === 0 && overlayXattr(xattrs, "whiteout") !== undefined;
}

function baseName(rel: Buffer): Buffer {
  const i = rel.lastIndexOf(0x2f);
  return i < 0 ? rel : rel.subarray(i + 1);
}

function withName(rel: Buffer, name: Buffer): Buffer {
  const i = rel.lastIndexOf(0x2f);
  return i < 0 ? name : Buffer.concat([rel.subarray(0, i + 1), name]);
}

export class FileChangedError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path} changed while it was being packed (${detail}); pack again once it is quiet`);
    this.name = "FileChangedError";
  }
}

interface StreamingCalls {
  syncFileRange(fd: number, offset: number, length: number, flags: number): number;
  fadvise(fd: number, offset: number, length: number, advice: number): number;
}

const SYNC_FILE_RANGE_WAIT_BEFORE = 1;
const SYNC_FILE_RANGE_WRITE = 2;
const SYNC_FILE_RANGE_WAIT_AFTER = 4;
const POSIX_FADV_DONTNEED = 4;

let streamingCalls: StreamingCalls | null | undefined;

/** sync_file_range and posix_fadvise from libc; null where they cannot be had (then writes are plain writes). */
function streaming(): StreamingCalls | null {
  if (streamingCalls !== undefined) return streamingCalls;
  try {
    const { symbols } = dlopen("libc.so.6", {
      sync_file_range: { args: [FFIType.i32, FFIType.i64, FFIType.i64, FFIType.u32], returns: FFIType.i32 },
      posix_fadvise: { args: [FFIType.i32, FFIType.i64, FFIType.i64, FFIType.i32], returns: FFIType.i32 },
    });
    streamingCalls = {
      syncFileRange: (fd, offset, length, flags) => symbols.sync_file_range(fd, offset, length, flags),
      fadvise: (fd, offset, length, advice) => symbols.posix_fadvise(fd, offset, length, advice),
    };
  } catch {
    streamingCalls = null;
  }
  return streamingCalls;
}

/**
 * Write-back is started per window of this many bytes (fewer calls than per
 * unit), and a window is awaited and dropped from the cache once the one
 * after it is complete: at most two windows are dirty at a time.
 */
const WRITEBACK_WINDOW = 4 << 20;

/**
 * The archive's temp file, streamed through the page cache rather than piled
 * into it. Write-back of each few MiB starts as soon as they are written, and
 * a few MiB later the kernel is asked to finish it and drop those pages. Plain
 * buffered writes of 500 MB take fresh cache pages, which on our VMs (host
 * memory handed out on first touch) cost 0.6-1.4 s, and leave all the work to
 * the final fsync; recycled pages make each write a copy, the device works
 * while we hash, and the final fsync has little left. O_DIRECT avoided the
 * fresh pages too but blocked this thread for every unit's device write.
 * Every sync_file_range and fadvise result is ignored: they only move work
 * earlier, and the fsync in finish() is what makes the archive durable.
 */
class ArchiveFile {
  readonly fd: number;
  private open = true;
  private readonly calls = streaming();

  constructor(readonly path: string) {
    this.fd = openSync(path, "wx", 0o644);
  }

  /** Writes `bytes` at `position`; each window the stream completes is streamed out. */
  write(bytes: Uint8Array, position: number): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off, position + off);
    const end = position + bytes.length;
    if (this.calls === null || end % WRITEBACK_WINDOW !== 0) return;
    // A window that ends in a hole (a unit of zeros is never written) is left to the final fsync.
    const done = end - WRITEBACK_WINDOW;
    this.calls.syncFileRange(this.fd, done, WRITEBACK_WINDOW, SYNC_FILE_RANGE_WRITE);
    const old = done - WRITEBACK_WINDOW;
    if (old < 0) return;
    this.calls.syncFileRange(this.fd, old, WRITEBACK_WINDOW, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    this.calls.fadvise(this.fd, old, WRITEBACK_WINDOW, POSIX_FADV_DONTNEED);
  }

  /** Sets the final length (trailing holes are never written), syncs, drops what is left in the cache, closes. */
  finish(length: number): void {
    ftruncateSync(this.fd, length);
    fsyncSync(this.fd);
    // The archive is seldom read back at once (export to stdout is the exception): leave the cache to the user's files.
    this.calls?.fadvise(this.fd, 0, 0, POSIX_FADV_DONTNEED);
    this.close();
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
  }
}

/**
 * The archive being assembled in module memory, one unit at a time. File bytes
 * are read straight into the unit. A full unit is written out once more bytes
 * follow it (so it is never the last one, whose hash must be finished as the
 * root), and its subtree hash is computed by a worker if one is free, here
 * otherwise. A unit made only of zero file data becomes a hole in the output.
 * Everything but the final wait for the workers is synchronous, so adding a
 * header costs no promise.
 */
class OutputStream {
  readonly buf: number;
  fill = 0;
  allZero = true;
  /** Bytes of the archive already handed to the kernel or left as holes. */
  flushed = 0;
  private units = 0;
  /** Chaining value of unit i at i * 32. */
  private cvs = new Uint8Array(32 * 128);
  private readonly cvTmp: number;
  scratch: number;
  scratchCap = 64 << 10;
  readonly hdr: number;
  readonly hdrCap = 64 << 10;
  /** Where stage() put the path, link target and attribute records. */
  pathPtr = 0;
  linkPtr = 0;
  xattrPtr = 0;

  constructor(private readonly c: WasmCore, private readonly file: ArchiveFile, private readonly ring: SubtreeRing | undefined) {
    this.buf = c.alloc(UNIT);
    this.scratch = c.alloc(this.scratchCap);
    this.hdr = c.alloc(this.hdrCap);
    this.cvTmp = c.alloc(32);
  }

  get position(): number {
    return this.flushed + this.fill;
  }

  get room(): number {
    return UNIT - this.fill;
  }

  private readonly collect = (index: number, cv: Uint8Array): void => {
    if ((index + 1) * 32 > this.cvs.length) {
      const grown = new Uint8Array(Math.max(this.cvs.length * 2, (index + 1) * 32));
      grown.set(this.cvs);
      this.cvs = grown;
    }
    this.cvs.set(cv, index * 32);
  };

  /** Called before bytes are added: a full unit now has a successor, so it can go. */
  makeRoom(): void {
    if (this.fill < UNIT) return;
    const counter = this.flushed / 1024;
    const index = this.units++;
    const unit = this.c.bytes(this.buf, UNIT);
    // Offered before the write, so a worker is hashing while this thread writes.
    const given = this.ring !== undefined && this.ring.offer(unit, counter, index, this.collect);
    if (!this.allZero) this.file.write(unit, this.flushed);
    if (!given) {
      check("b3_subtree_cv", this.c.x.b3_subtree_cv(this.buf, UNIT, counter, this.cvTmp));
      this.collect(index, this.c.bytes(this.cvTmp, 32));
    }
    this.flushed += UNIT;
    this.fill = 0;
    this.allZero = true;
  }

  /** Appends `len` bytes from elsewhere in module memory, across unit boundaries. */
  append(ptr: number, len: number): void {
    let off = 0;
    while (off < len) {
      this.makeRoom();
      const n = Math.min(this.room, len - off);
      this.c.u8.copyWithin(this.buf + this.fill, ptr + off, ptr + off + n);
      this.fill += n;
      this.allZero = false;
      off += n;
    }
  }

  /** Marks `n` bytes read straight into the unit as part of the archive. */
  advance(n: number, zero: boolean): void {
    this.fill += n;
    if (!zero) this.allZero = false;
  }

  /** Writes the last unit and returns the BLAKE3 of the whole archive. */
  async finish(): Promise<Uint8Array> {
    if (this.fill > 0 && !this.allZero) this.file.write(this.c.bytes(this.buf, this.fill), this.flushed);
    await this.ring?.drain(this.collect);
    const h = this.c.x.b3_new();
    if (h === 0) throw new Error("blake3: out of memory in the hashing module");
    try {
      for (let i = 0; i < this.units; i++) {
        this.c.u8.set(this.cvs.subarray(i * 32, i * 32 + 32), this.cvTmp);
        check("b3_push_subtree", this.c.x.b3_push_subtree(h, this.cvTmp, UNIT_CHUNKS));
      }
      this.c.x.b3_update(h, this.buf, this.fill);
      this.c.x.b3_finalize(h, this.cvTmp, 32);
      this.flushed += this.fill;
      this.fill = 0;
      return this.c.bytes(this.cvTmp, 32).slice();
    } finally {
      this.c.x.b3_free(h);
    }
  }

  /** Copies an entry's path, link target and attribute records one after another into scratch. */
  stage(path: Uint8Array, link: Uint8Array, xattrs: Uint8Array): void {
    const total = path.length + link.length + xattrs.length;
    if (total > this.scratchCap) {
      this.c.free(this.scratch, this.scratchCap);
      this.scratchCap = total;
      this.scratch = this.c.alloc(total);
    }
    const mem = this.c.u8;
    this.pathPtr = this.scratch;
    this.linkPtr = this.pathPtr + path.length;
    this.xattrPtr = this.linkPtr + link.length;
    mem.set(path, this.pathPtr);
    mem.set(link, this.linkPtr);
    mem.set(xattrs, this.xattrPtr);
  }

  release(): void {
    this.c.free(this.buf, UNIT);
    this.c.free(this.scratch, this.scratchCap);
    this.c.free(this.hdr, this.hdrCap);
    this.c.free(this.cvTmp, 32);
  }
}

/**
 * Writes a deterministic tar of `dir` to `outPath` and returns its BLAKE3.
 * The archive streams through a temp file beside `outPath` that is fsynced and
 * renamed into place, so `outPath` is either absent or complete. Memory stays
 * bounded by the output unit and the workers' queues whatever the size of the
 * files (the walk's list of entries grows with their number).
 */
export async function packTree(dir: string, outPath: string, opts: PackOptions = {}): Promise<PackResult> {
  // Depth-first, each directory's children by name bytes: a directory's contents
  // stay together, which extractors rely on to apply a directory's mode after
  // its last child (sorting whole paths would put "a-b" between "a/" and "a/c").
  const entries = walkTree(dir);
  const c = core();
  const w = c.x.tar_new();
  if (w === 0) throw new Error("tar: out of memory in the hashing module");
  const fileBytes = entries.reduce((n, e) => n + e.size, 0);
  const workers = fileBytes < PARALLEL_THRESHOLD ? 0 : (opts.workers ?? Math.max(1, availableParallelism() - 1));
  const ring = workers > 0 ? new SubtreeRing(workers, UNIT) : undefined;
  const tmp = `${outPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let file: ArchiveFile;
  try {
    file = new ArchiveFile(tmp);
  } catch (err) {
    ring?.close();
    c.x.tar_free(w);
    throw err;
  }
  const out = new OutputStream(c, file, ring);
  let sinceYield = 0;
  let packed = 0;
  const skipped: SkippedEntry[] = [];
  const firstPathOfInode = new Map<string, Buffer>();
  const slash = Buffer.from("/");
  const none = Buffer.alloc(0);

  const overlay = opts.overlayUpper === true;
  let whiteouts = 0;
  let opaqueDirs = 0;
  const empty = encodeXattrs([]);

  /** Writes one entry's header (and PAX header), its data for a file, and its padding. */
  const writeEntry = (path: Buffer, kind: number, mode: number, size: number, link: Buffer, xattrs: Buffer, data?: TreeEntry): void => {
    // Two ustar blocks, the PAX body, and slack for the records' length prefixes.
    const worst = 3 * 512 + path.length + link.length + xattrs.length * 2 + 1024;
    if (worst > out.hdrCap) throw new Error(`tar: the header of ${path.toString()} is too large (${worst} bytes)`);
    out.stage(path, link, xattrs);
    const hdrLen = c.x.tar_header(w, kind, mode, size, out.pathPtr, path.length, out.linkPtr, link.length, out.xattrPtr, xattrs.length, out.hdr, out.hdrCap);
    // The path is decoded only for an error message, not for every entry.
    if (hdrLen < 0) check("tar_header", hdrLen, path.toString());
    out.append(out.hdr, hdrLen);
    if (data !== undefined && size > 0) {
      copyFileData(c, w, out, data, size);
      sinceYield += size;
    }
    const endLen = c.x.tar_end_entry(w, out.hdr, out.hdrCap);
    if (endLen < 0) check("tar_end_entry", endLen, path.toString());
    out.append(out.hdr, endLen);
    packed++;
  };

  try {
    for (const e of entries) {
      const raw = overlay || opts.xattrs !== false ? readXattrs(e.abs) : [];
      if (overlay) {
        const name = baseName(e.rel);
        if (name.toString("latin1") === OPAQUE_MARKER) continue; // written with its directory
        if (isWhiteout(e, name, raw)) {
          const hidden = name.subarray(0, WHITEOUT_PREFIX.length).toString("latin1") === WHITEOUT_PREFIX ? name : Buffer.concat([Buffer.from(WHITEOUT_PREFIX), name]);
          writeEntry(withName(e.rel, hidden), KIND.file, 0o644, 0, none, empty);
          whiteouts++;
          continue;
        }
        if (overlayXattr(raw, "redirect") !== undefined) throw new OverlayFeatureError(e.rel.toString(), "redirect_dir");
        if (overlayXattr(raw, "metacopy") !== undefined) throw new OverlayFeatureError(e.rel.toString(), "metacopy");
      }
      if (e.kind === "socket" || e.kind === "chardev" || e.kind === "blockdev") {
        skipped.push({ path: e.rel.toString(), kind: e.kind });
        continue;
      }
      let kind: number = KIND[e.kind];
      let link: Buffer = none;
      let size = e.kind === "file" ? e.size : 0;
      if (e.kind === "symlink") link = readlinkSync(e.abs, { encoding: "buffer" });
      if (e.kind === "file" && e.nlink > 1) {
        const key = `${e.dev}:${e.ino}`;
        const first = firstPathOfInode.get(key);
        if (first) {
          kind = KIND.hardlink;
          link = first;
          size = 0;
        } else {
          firstPathOfInode.set(key, e.rel);
        }
      }
      const path = e.kind === "dir" ? Buffer.concat([e.rel, slash]) : e.rel;
      const stored = opts.xattrs === false ? [] : overlay ? raw.filter((x) => keptInLayer(x.name.toString("latin1"))) : raw;
      writeEntry(path, kind, e.mode, size, link, stored.length === 0 ? empty : encodeXattrs(stored), kind === KIND.file ? e : undefined);
      if (overlay && e.kind === "dir" && isOpaqueDir(e.abs, raw)) {
        // First among the directory's entries, so an extractor clears the lower contents before adding the upper ones.
        writeEntry(Buffer.concat([e.rel, slash, Buffer.from(OPAQUE_MARKER)]), KIND.file, 0o644, 0, none, empty);
        opaqueDirs++;
      }
      if (sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        opts.onProgress?.(out.position);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const endLen = check("tar_finish", c.x.tar_finish(w, out.hdr, out.hdrCap));
    out.append(out.hdr, endLen);
    const tarHash = toHex(await out.finish());
    const bytes = out.position;
    // Trailing holes are never written; the length must still be right.
    file.finish(bytes);
    renameSync(tmp, outPath);
    fsyncDir(dirname(outPath));
    opts.onProgress?.(bytes);
    return { tarHash, bytes, entries: packed, skipped, whiteouts, opaqueDirs };
  } catch (err) {
    file.close();
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    ring?.close();
    out.release();
    c.x.tar_free(w);
  }
}

function copyFileData(c: WasmCore, w: number, out: OutputStream, e: TreeEntry, size: number): void {
  const fd = openSync(e.abs, "r");
  try {
    let done = 0;
    let probed = false;
    while (done < size) {
      out.makeRoom();
      const want = Math.min(out.room, size - done);
      const at = out.buf + out.fill;
      // The last read asks for one byte more where the unit has room: getting it means the file grew, found without an fstat per file.
      const ask = want === size - done && want < out.room ? want + 1 : want;
      probed ||= ask > want;
      const n = readSync(fd, c.bytes(at, ask), 0, ask, done);
      if (n === 0) throw new FileChangedError(e.rel.toString(), "it shrank");
      if (n > want) throw new FileChangedError(e.rel.toString(), "it grew");
      const zero = c.x.tar_data(w, at, n);
      if (zero < 0) check("tar_data", zero, e.rel.toString());
      out.advance(n, zero === 1);
      done += n;
    }
    if (!probed && readSync(fd, c.bytes(out.scratch, 1), 0, 1, size) > 0) throw new FileChangedError(e.rel.toString(), "it grew");
  } finally {
    closeSync(fd);
  }
}

export function fsyncDir(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
