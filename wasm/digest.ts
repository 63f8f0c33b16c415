import { readlinkSync } from "node:fs";
import { availableParallelism } from "node:os";
import { check, core } from "./module.ts";
import { toHex } from "./blake3.ts";
import { hashFileSync } from "./hash-file.ts";
import { HashPool, HashWorkerError } from "./hash-pool.ts";
import { walkTree, type EntryKind, type TreeEntry } from "./walk.ts";

export interface DigestOptions {
  /** Hash workers; default: one per core. 0 hashes on the calling thread. */
  workers?: number;
}

export interface DigestResult {
  /** Root digest of the tree, hex (format: docs/tree-digest.md). */
  digest: string;
  entries: number;
  files: number;
  bytes: number;
}

const KIND_BYTE: Record<EntryKind, number> = {
  file: 0x66, dir: 0x64, symlink: 0x6c, fifo: 0x70, socket: 0x73, chardev: 0x63, blockdev: 0x62,
};

/** Below this much file data, starting workers costs more than it saves. */
const WORKER_THRESHOLD_BYTES = 16 << 20;
const BATCH_BYTES = 8 << 20;
const BATCH_FILES = 512;

/**
 * Merkle digest of the tree under `dir`: file contents, permission bits,
 * symlink targets and names count; timestamps, owners and inode numbers don't.
 */
export async function digestTree(dir: string, opts: DigestOptions = {}): Promise<DigestResult> {
  const entries = walkTree(dir);
  const files = entries.filter((e) => e.kind === "file");
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const wanted = opts.workers ?? availableParallelism();
  const workers = totalBytes < WORKER_THRESHOLD_BYTES ? 0 : Math.min(wanted, Math.ceil(totalBytes / BATCH_BYTES));
  const hashes = workers > 0 ? await hashInWorkers(files, workers) : hashHere(files);
  return {
    digest: foldTree(entries, hashes),
    entries: entries.length,
    files: files.length,
    bytes: totalBytes,
  };
}

/**
 * BLAKE3 of each file in `files` (in order), on worker threads when there is
 * enough data to pay for them. For callers that reuse some hashes (a stat
 * cache) and fold the tree themselves with foldTreeDigest().
 */
export async function hashTreeFiles(files: readonly TreeEntry[], opts: DigestOptions = {}): Promise<Uint8Array[]> {
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const wanted = opts.workers ?? availableParallelism();
  const workers = totalBytes < WORKER_THRESHOLD_BYTES ? 0 : Math.min(wanted, Math.ceil(totalBytes / BATCH_BYTES));
  return workers > 0 ? hashInWorkers(files, workers) : hashHere(files);
}

/**
 * The root digest of a tree given its entries in walkTree() order and the
 * BLAKE3 of each regular file among them, in the same order.
 */
export function foldTreeDigest(entries: readonly TreeEntry[], fileHashes: readonly Uint8Array[]): string {
  return foldTree(entries, fileHashes);
}

function hashHere(files: readonly TreeEntry[]): Uint8Array[] {
  return files.map((f) => hashFileSync(f.abs).digest);
}

function batches(files: readonly TreeEntry[]): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < files.length; i++) {
    bytes += (files[i] as TreeEntry).size;
    if (bytes >= BATCH_BYTES || i - start + 1 >= BATCH_FILES) {
      out.push({ start, end: i + 1 });
      start = i + 1;
      bytes = 0;
    }
  }
  if (start < files.length) out.push({ start, end: files.length });
  return out;
}

/** Hashes batches on the pool; the results land in file order. */
async function hashInWorkers(files: readonly TreeEntry[], count: number): Promise<Uint8Array[]> {
  const results = new Array<Uint8Array>(files.length);
  const pool = new HashPool(count);
  try {
    await Promise.all(
      batches(files).map(async ({ start, end }) => {
        const { digests, sizes } = await pool.files(files.slice(start, end).map((f) => new Uint8Array(f.abs)));
        for (let i = start; i < end; i++) {
          const f = files[i] as TreeEntry;
          if (sizes[i - start] !== f.size) throw new HashWorkerError(`${f.rel.toString()} changed size while it was being hashed`);
          results[i] = digests.slice((i - start) * 32, (i - start + 1) * 32);
        }
      }),
    );
  } finally {
    pool.close();
  }
  return results;
}

/** Serializes the records (native/src/tree.zig `feed`) in walk order and folds them in WASM. */
function foldTree(entries: readonly TreeEntry[], fileHashes: readonly Uint8Array[]): string {
  const c = core();
  const t = c.x.tree_new();
  if (t === 0) throw new Error("tree digest: out of memory in the hashing module");
  const chunkCap = 1 << 20;
  const ptr = c.alloc(chunkCap);
  try {
    let parts: Buffer[] = [];
    let pending = 0;
    const flush = (): void => {
      const data = Buffer.concat(parts);
      // Records are never split: a flush happens between records and each fits in chunkCap.
      c.u8.set(data, ptr);
      check("tree_feed", c.x.tree_feed(t, ptr, data.length));
      parts = [];
      pending = 0;
    };
    let fileIndex = 0;
    for (const e of entries) {
      let payload: Buffer = Buffer.alloc(0);
      let size = e.size;
      if (e.kind === "file") payload = Buffer.from(fileHashes[fileIndex++] as Uint8Array);
      if (e.kind === "symlink") {
        const target = readlinkSync(e.abs, { encoding: "buffer" });
        const len = Buffer.alloc(4);
        len.writeUInt32LE(target.length);
        payload = Buffer.concat([len, target]);
        size = target.length;
      }
      const head = Buffer.alloc(17);
      head[0] = KIND_BYTE[e.kind];
      head.writeUInt32LE(e.mode, 1);
      head.writeBigUInt64LE(BigInt(size), 5);
      head.writeUInt32LE(e.rel.length, 13);
      const recLen = head.length + e.rel.length + payload.length;
      if (recLen > chunkCap) throw new Error(`tree digest: record for ${e.rel.toString()} is too large`);
      if (pending + recLen > chunkCap) flush();
      parts.push(head, e.rel, payload);
      pending += recLen;
    }
    if (pending > 0) flush();
    const out = c.alloc(32);
    try {
      c.x.tree_finish(t, out);
      return toHex(c.bytes(out, 32));
    } finally {
      c.free(out, 32);
    }
  } finally {
    c.free(ptr, chunkCap);
    c.x.tree_free(t);
  }
}
