import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readlinkSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { check, core, type WasmCore } from "./module.ts";
import { toHex } from "./blake3.ts";
import { walkTree, type TreeEntry } from "./walk.ts";
import { encodeXattrs, readXattrs } from "./xattr.ts";

/** Tar type codes as `tar_header` takes them (native/src/tar.zig `Kind`). */
const KIND = { file: 0, hardlink: 1, symlink: 2, dir: 5, fifo: 6 } as const;

/** Output is assembled here and written with one syscall per fill. */
const OUT_LEN = 4 << 20;
const YIELD_EVERY = 64 << 20;

export interface PackOptions {
  /** Store extended attributes as PAX records (default true). */
  xattrs?: boolean;
  /** Called now and then with the bytes written so far. */
  onProgress?: (bytesWritten: number) => void;
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
}

export class FileChangedError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path} changed while it was being packed (${detail}); pack again once it is quiet`);
    this.name = "FileChangedError";
  }
}

/**
 * The archive being assembled in module memory. Headers are encoded and file
 * bytes are read straight into it, hashed in place, and written out when it
 * fills. A fill made only of zero file data becomes a hole in the output.
 */
class OutputStream {
  buf: number;
  fill = 0;
  allZero = true;
  /** Bytes of the archive already handed to the kernel or left as holes. */
  flushed = 0;
  scratch: number;
  scratchCap = 64 << 10;
  digest: number;

  constructor(private readonly c: WasmCore, private readonly fd: number) {
    this.buf = c.alloc(OUT_LEN);
    this.scratch = c.alloc(this.scratchCap);
    this.digest = c.alloc(32);
  }

  get position(): number {
    return this.flushed + this.fill;
  }

  flush(): void {
    if (this.fill > 0 && !this.allZero) writeSync(this.fd, this.c.bytes(this.buf, this.fill), 0, this.fill, this.flushed);
    this.flushed += this.fill;
    this.fill = 0;
    this.allZero = true;
  }

  /** Room for at least `n` more bytes, flushing first if needed; returns the write pointer. */
  reserve(n: number): number {
    if (n > OUT_LEN) throw new Error(`tar: a ${n}-byte header does not fit the output buffer`);
    if (this.fill + n > OUT_LEN) this.flush();
    return this.buf + this.fill;
  }

  get room(): number {
    return OUT_LEN - this.fill;
  }

  /** Marks `n` bytes at the write pointer as part of the archive. */
  advance(n: number, zero: boolean): void {
    this.fill += n;
    if (!zero) this.allZero = false;
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
    this.c.free(this.buf, OUT_LEN);
    this.c.free(this.scratch, this.scratchCap);
    this.c.free(this.digest, 32);
  }
}

/**
 * Writes a deterministic tar of `dir` to `outPath` and returns its BLAKE3.
 * The archive streams through a temp file beside `outPath` that is fsynced and
 * renamed into place, so `outPath` is either absent or complete. Memory stays
 * bounded by the output buffer whatever the size of the tree.
 */
export async function packTree(dir: string, outPath: string, opts: PackOptions = {}): Promise<PackResult> {
  const entries = walkTree(dir).sort((a, b) => Buffer.compare(a.rel, b.rel));
  const c = core();
  const w = c.x.tar_new();
  if (w === 0) throw new Error("tar: out of memory in the hashing module");
  const tmp = `${outPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = openSync(tmp, "wx", 0o644);
  const out = new OutputStream(c, fd);
  let sinceYield = 0;
  let packed = 0;
  const skipped: SkippedEntry[] = [];
  const firstPathOfInode = new Map<string, Buffer>();
  const slash = Buffer.from("/");
  const none = Buffer.alloc(0);

  try {
    for (const e of entries) {
      if (e.kind === "socket" || e.kind === "chardev" || e.kind === "blockdev") {
        skipped.push({ path: e.rel.toString(), kind: e.kind });
        continue;
      }
      let kind: number = KIND[e.kind];
      let link = none;
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
      const xattrs = opts.xattrs === false ? none : encodeXattrs(readXattrs(e.abs));

      // Two ustar blocks, the PAX body, and slack for the records' length prefixes.
      const worst = 3 * 512 + path.length + link.length + xattrs.length * 2 + 1024;
      const [pathPtr, linkPtr, xattrPtr] = out.stage([path, link, xattrs]) as [number, number, number];
      const at = out.reserve(worst);
      const hdrLen = check(
        "tar_header",
        c.x.tar_header(w, kind, e.mode, size, pathPtr, path.length, linkPtr, link.length, xattrPtr, xattrs.length, at, out.room),
        path.toString(),
      );
      out.advance(hdrLen, false);

      if (kind === KIND.file && size > 0) {
        copyFileData(c, w, out, e, size);
        sinceYield += size;
      }
      const padAt = out.reserve(512);
      out.advance(check("tar_end_entry", c.x.tar_end_entry(w, padAt, out.room), path.toString()), false);
      packed++;
      if (sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        opts.onProgress?.(out.position);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const endAt = out.reserve(1024);
    out.advance(check("tar_finish", c.x.tar_finish(w, endAt, out.room, out.digest)), false);
    out.flush();
    const tarHash = toHex(c.bytes(out.digest, 32));
    const bytes = out.position;
    // Trailing holes are never written; the length must still be right.
    ftruncateSync(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, outPath);
    fsyncDir(dirname(outPath));
    opts.onProgress?.(bytes);
    return { tarHash, bytes, entries: packed, skipped };
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed on the success path
    }
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    out.release();
    c.x.tar_free(w);
  }
}

function copyFileData(c: WasmCore, w: number, out: OutputStream, e: TreeEntry, size: number): void {
  const fd = openSync(e.abs, "r");
  try {
    let done = 0;
    while (done < size) {
      if (out.room === 0) out.flush();
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
