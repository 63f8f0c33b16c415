import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readlinkSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { availableParallelism } from "node:os";
import { HashPool } from "./hash-pool.ts";
import { check, core, type WasmCore } from "./module.ts";
import { toHex } from "./blake3.ts";
import { walkTree, type TreeEntry } from "./walk.ts";
import { encodeXattrs, readXattrs, type Xattr } from "./xattr.ts";

/** Tar type codes as `tar_header` takes them (native/src/tar.zig `Kind`). */
const KIND = { file: 0, hardlink: 1, symlink: 2, dir: 5, fifo: 6 } as const;

/**
 * The archive is assembled in units of this size, aligned to multiples of it in
 * the stream: each full unit is a complete BLAKE3 subtree (4096 chunks) whose
 * chaining value a worker can compute independently.
 */
const UNIT = 4 << 20;
const UNIT_CHUNKS = UNIT / 1024;
const YIELD_EVERY = 64 << 20;
/** Below this much file data, starting workers costs more than it saves. */
const PARALLEL_THRESHOLD = 32 << 20;

export interface PackOptions {
  /** Store extended attributes as PAX records (default true). */
  xattrs?: boolean;
  /**
   * Hash workers for large trees; 0 hashes on this thread. Default: one per
   * core but one, since this thread is kept busy reading and writing.
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

/**
 * The archive being assembled in module memory, one unit at a time. File bytes
 * are read straight into the unit. A full unit is written out once more bytes
 * follow it (so it is never the last one, whose hash must be finished as the
 * root), and its subtree hash is computed here or by a worker. A unit made
 * only of zero file data becomes a hole in the output.
 */
class OutputStream {
  readonly buf: number;
  fill = 0;
  allZero = true;
  /** Bytes of the archive already handed to the kernel or left as holes. */
  flushed = 0;
  private readonly cvs: Array<Promise<Uint8Array>> = [];
  /** Unit-sized buffers back from the workers, reused so memory stays flat. */
  private readonly spare: ArrayBuffer[] = [];
  private readonly cvTmp: number;
  scratch: number;
  scratchCap = 64 << 10;
  readonly hdr: number;
  readonly hdrCap = 64 << 10;

  constructor(private readonly c: WasmCore, private readonly fd: number, private readonly pool: HashPool | undefined) {
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

  /** Called before bytes are added: a full unit now has a successor, so it can go. */
  async makeRoom(): Promise<void> {
    if (this.fill < UNIT) return;
    if (!this.allZero) writeSync(this.fd, this.c.bytes(this.buf, UNIT), 0, UNIT, this.flushed);
    const counter = this.flushed / 1024;
    if (this.pool) {
      // Bound the copies in flight: memory stays flat however large the tree.
      const limit = 2 * this.pool.size;
      if (this.pool.inFlight >= limit) await this.cvs[this.cvs.length - limit];
      const copy = this.spare.pop() ?? new ArrayBuffer(UNIT);
      new Uint8Array(copy).set(this.c.bytes(this.buf, UNIT));
      this.cvs.push(
        this.pool.subtree(copy, counter).then(({ cv, data }) => {
          this.spare.push(data);
          return cv;
        }),
      );
    } else {
      check("b3_subtree_cv", this.c.x.b3_subtree_cv(this.buf, UNIT, counter, this.cvTmp));
      this.cvs.push(Promise.resolve(this.c.bytes(this.cvTmp, 32).slice()));
    }
    this.flushed += UNIT;
    this.fill = 0;
    this.allZero = true;
  }

  /** Appends `len` bytes from elsewhere in module memory, across unit boundaries. */
  async append(ptr: number, len: number): Promise<void> {
    let off = 0;
    while (off < len) {
      await this.makeRoom();
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
    if (this.fill > 0 && !this.allZero) writeSync(this.fd, this.c.bytes(this.buf, this.fill), 0, this.fill, this.flushed);
    const cvs = await Promise.all(this.cvs);
    const h = this.c.x.b3_new();
    if (h === 0) throw new Error("blake3: out of memory in the hashing module");
    try {
      for (const cv of cvs) {
        this.c.u8.set(cv, this.cvTmp);
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

  /** Copies the parts one after another into scratch; returns their offsets. */
  stage(parts: readonly Uint8Array[]): number[] {
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (total > this.scratchCap) {
      this.c.free(this.scratch, this.scratchCap);
      this.scratchCap = total;
      this.scratch = this.c.alloc(total);
    }
    const offsets: number[] = [];
    let off = this.scratch;
    const mem = this.c.u8;
    for (const p of parts) {
      mem.set(p, off);
      offsets.push(off);
      off += p.length;
    }
    return offsets;
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
 * bounded by the output buffer whatever the size of the tree.
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
  const pool = workers > 0 ? new HashPool(workers) : undefined;
  const tmp = `${outPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let fd: number;
  try {
    fd = openSync(tmp, "wx", 0o644);
  } catch (err) {
    pool?.close();
    c.x.tar_free(w);
    throw err;
  }
  const out = new OutputStream(c, fd, pool);
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
  const writeEntry = async (path: Buffer, kind: number, mode: number, size: number, link: Buffer, xattrs: Buffer, data?: TreeEntry): Promise<void> => {
    // Two ustar blocks, the PAX body, and slack for the records' length prefixes.
    const worst = 3 * 512 + path.length + link.length + xattrs.length * 2 + 1024;
    if (worst > out.hdrCap) throw new Error(`tar: the header of ${path.toString()} is too large (${worst} bytes)`);
    const [pathPtr, linkPtr, xattrPtr] = out.stage([path, link, xattrs]) as [number, number, number];
    const hdrLen = check(
      "tar_header",
      c.x.tar_header(w, kind, mode, size, pathPtr, path.length, linkPtr, link.length, xattrPtr, xattrs.length, out.hdr, out.hdrCap),
      path.toString(),
    );
    await out.append(out.hdr, hdrLen);
    if (data !== undefined && size > 0) {
      await copyFileData(c, w, out, data, size);
      sinceYield += size;
    }
    await out.append(out.hdr, check("tar_end_entry", c.x.tar_end_entry(w, out.hdr, out.hdrCap), path.toString()));
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
          await writeEntry(withName(e.rel, hidden), KIND.file, 0o644, 0, none, empty);
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
      await writeEntry(path, kind, e.mode, size, link, encodeXattrs(stored), kind === KIND.file ? e : undefined);
      if (overlay && e.kind === "dir" && isOpaqueDir(e.abs, raw)) {
        // First among the directory's entries, so an extractor clears the lower contents before adding the upper ones.
        await writeEntry(Buffer.concat([e.rel, slash, Buffer.from(OPAQUE_MARKER)]), KIND.file, 0o644, 0, none, empty);
        opaqueDirs++;
      }
      if (sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        opts.onProgress?.(out.position);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const endLen = check("tar_finish", c.x.tar_finish(w, out.hdr, out.hdrCap));
    await out.append(out.hdr, endLen);
    const tarHash = toHex(await out.finish());
    const bytes = out.position;
    // Trailing holes are never written; the length must still be right.
    ftruncateSync(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, outPath);
    fsyncDir(dirname(outPath));
    opts.onProgress?.(bytes);
    return { tarHash, bytes, entries: packed, skipped, whiteouts, opaqueDirs };
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed on the success path
    }
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    pool?.close();
    out.release();
    c.x.tar_free(w);
  }
}

async function copyFileData(c: WasmCore, w: number, out: OutputStream, e: TreeEntry, size: number): Promise<void> {
  const fd = openSync(e.abs, "r");
  try {
    let done = 0;
    while (done < size) {
      await out.makeRoom();
      const want = Math.min(out.room, size - done);
      const at = out.buf + out.fill;
      const n = readSync(fd, c.bytes(at, want), 0, want, done);
      if (n === 0) throw new FileChangedError(e.rel.toString(), "it shrank");
      const zero = check("tar_data", c.x.tar_data(w, at, n), e.rel.toString());
      out.advance(n, zero === 1);
      done += n;
    }
    if (fstatSync(fd).size !== size) throw new FileChangedError(e.rel.toString(), "its size changed");
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
