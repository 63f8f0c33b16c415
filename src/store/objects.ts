/**
 * Content-addressed blobs: store/objects/<blake3 of the bytes>.
 *
 * Writes stream into a temp file in the objects directory while hashing, then
 * fsync, rename to the hash, fsync the directory (see fsx.ts). Reads re-hash
 * everything they return; corrupt bytes are never handed out as good. The one
 * write that is not hashed here is placeOwnFile, for files whose hash the
 * caller computed from the very bytes it wrote.
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname } from "node:path";
import { blake3Hex, Blake3Hasher, toHex } from "../../wasm/blake3.ts";
import { hashFileSync } from "../../wasm/hash-file.ts";
import { CorruptionError, NotFoundError } from "./errors.ts";
import { fsyncDir, ioError, isNotFound, listHashNames, removeIfPresent, tempPathIn, writeAll } from "./fsx.ts";
import { assertHash, isHash } from "./hash.ts";
import type { StoreLayout } from "./layout.ts";

/** What put() accepts: bytes, a byte stream (ReadableStream is async-iterable), or a file to copy. */
export type PutSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | { file: string };

export interface PutResult {
  hash: string;
  bytes: number;
  /** False when the object was already there (put is idempotent). */
  stored: boolean;
}

/** Read size for copies and streamed reads. */
const CHUNK = 1 << 20;

function isByteArray(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

export class ObjectStore {
  constructor(private readonly layout: StoreLayout) {}

  get dir(): string {
    return this.layout.objectsDir;
  }

  path(hash: string): string {
    return this.layout.objectPath(hash);
  }

  /** Stores the bytes of `source` and returns their blake3. Idempotent. */
  async put(source: PutSource): Promise<PutResult> {
    if (isByteArray(source)) return this.putBytes(source);
    if ("file" in source) return this.putCopyOf(source.file);
    return this.putStream(source);
  }

  /** Bytes already in memory: hashed first, so an existing object costs no write. */
  putBytes(bytes: Uint8Array): PutResult {
    const hash = blake3Hex(bytes);
    if (this.existingSize(hash) === bytes.length) return { hash, bytes: bytes.length, stored: false };
    return this.writeThenPlace((fd) => writeAll(fd, bytes), () => ({ hash, bytes: bytes.length }));
  }

  private async putStream(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<PutResult> {
    const temp = tempPathIn(this.dir, "put");
    const hasher = Blake3Hasher.create();
    let bytes = 0;
    try {
      const fd = this.openTemp(temp);
      try {
        for await (const chunk of chunks) {
          hasher.update(chunk);
          writeAll(fd, chunk);
          bytes += chunk.length;
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return this.place(temp, hasher.digestHex(), bytes);
    } catch (error) {
      rmSync(temp, { force: true });
      throw ioError(error, "writing an object");
    } finally {
      hasher.dispose();
    }
  }

  /** Copies a file into the store, hashing while copying; the source is left alone. */
  private putCopyOf(file: string): PutResult {
    let src: number;
    try {
      src = openSync(file, "r");
    } catch (error) {
      throw ioError(error, `opening ${file}`);
    }
    try {
      const hasher = Blake3Hasher.create();
      try {
        const buf = Buffer.allocUnsafe(CHUNK);
        let bytes = 0;
        return this.writeThenPlace(
          (fd) => {
            for (;;) {
              const n = readSync(src, buf, 0, CHUNK, null);
              if (n === 0) break;
              const piece = buf.subarray(0, n);
              hasher.update(piece);
              writeAll(fd, piece);
              bytes += n;
            }
          },
          () => ({ hash: hasher.digestHex(), bytes }),
        );
      } finally {
        hasher.dispose();
      }
    } finally {
      closeSync(src);
    }
  }

  /**
   * Moves a file that is already complete (e.g. packTree's output in staging)
   * into the store. It is hashed again on the way in, since a file we did not
   * hash ourselves is not trusted; with `expected` a mismatch is a
   * CorruptionError and the file is deleted. Same filesystem: a rename, no copy.
   */
  putFile(path: string, expected?: string): PutResult {
    if (expected !== undefined) assertHash(expected, "expected object hash");
    let hash: string;
    let bytes: number;
    try {
      const fd = openSync(path, "r");
      try {
        // fsync before the rename: the writer may not have, and the object must be durable.
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      const result = hashFileSync(path);
      hash = toHex(result.digest);
      bytes = result.size;
    } catch (error) {
      throw ioError(error, `reading ${path}`);
    }
    if (expected !== undefined && hash !== expected) {
      rmSync(path, { force: true });
      throw new CorruptionError("object", expected, `the file ${path} hashes to ${hash}`);
    }
    return this.moveIn(path, hash, bytes, false);
  }

  /**
   * Moves a file this process wrote into the store under `hash`, which the
   * caller computed from exactly the bytes it wrote (packTree hashes the
   * archive as it assembles it). Unlike putFile it does not read the file back:
   * re-hashing a 500 MB snapshot single-threaded cost more than packing it.
   * Only for our own output; a file from anywhere else goes through putFile.
   * The claim is not trusted forever: every read and verify-store re-hash, so
   * a wrong one shows up as a corrupt object there.
   */
  placeOwnFile(path: string, hash: string): PutResult {
    assertHash(hash, "object hash");
    let bytes: number;
    try {
      const fd = openSync(path, "r");
      try {
        // The caller has usually synced already (then this costs next to nothing); the object must be durable either way.
        fsyncSync(fd);
        bytes = fstatSync(fd).size;
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      throw ioError(error, `reading ${path}`);
    }
    return this.moveIn(path, hash, bytes, true);
  }

  /**
   * Puts a complete, synced file in place as object `hash` (or drops it when
   * the object is there already). Across filesystems it is copied; the copy
   * is hashed anyway, so a `claimed` hash is checked there for free.
   */
  private moveIn(path: string, hash: string, bytes: number, claimed: boolean): PutResult {
    if (this.existingSize(hash) === bytes) {
      rmSync(path, { force: true });
      return { hash, bytes, stored: false };
    }
    try {
      renameSync(path, this.path(hash));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw ioError(error, `moving ${path} into the store`);
      const copied = this.putCopyOf(path);
      rmSync(path, { force: true });
      if (claimed && copied.hash !== hash) {
        // Only what this call added goes; an object of that content that was there before is someone else's.
        if (copied.stored) this.remove(copied.hash);
        throw new CorruptionError("object", hash, `the file ${path} hashes to ${copied.hash}`);
      }
      return copied;
    }
    fsyncDir(this.dir);
    fsyncDir(dirname(path));
    return { hash, bytes, stored: true };
  }

  /** Writes a temp file with `write`, fsyncs it, then renames it to the hash `done` reports. */
  private writeThenPlace(write: (fd: number) => void, done: () => { hash: string; bytes: number }): PutResult {
    const temp = tempPathIn(this.dir, "put");
    try {
      const fd = this.openTemp(temp);
      try {
        write(fd);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      const { hash, bytes } = done();
      return this.place(temp, hash, bytes);
    } catch (error) {
      rmSync(temp, { force: true });
      throw ioError(error, "writing an object");
    }
  }

  private openTemp(temp: string): number {
    return openSync(temp, "wx", 0o444);
  }

  /**
   * Renames a finished temp file to its hash. If the object exists with the
   * right size the temp is dropped; a wrong size (a truncated or damaged
   * object) is replaced, which heals it for free.
   */
  private place(temp: string, hash: string, bytes: number): PutResult {
    if (this.existingSize(hash) === bytes) {
      rmSync(temp, { force: true });
      return { hash, bytes, stored: false };
    }
    renameSync(temp, this.path(hash));
    fsyncDir(this.dir);
    return { hash, bytes, stored: true };
  }

  private existingSize(hash: string): number | undefined {
    try {
      return statSync(this.path(hash)).size;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw ioError(error, `checking object ${hash}`);
    }
  }

  has(hash: string): boolean {
    return this.existingSize(hash) !== undefined;
  }

  /** Size in bytes; NotFoundError if absent. */
  size(hash: string): number {
    const size = this.existingSize(hash);
    if (size === undefined) throw new NotFoundError("object", hash);
    return size;
  }

  /**
   * The whole object, verified before it is returned (buffer-and-verify).
   * For small objects such as manifests; use stream() or copyOut() for large ones.
   */
  get(hash: string): Uint8Array {
    let data: Buffer;
    try {
      data = readFileSync(this.path(hash));
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError("object", hash);
      throw ioError(error, `reading object ${hash}`);
    }
    const actual = blake3Hex(data);
    if (actual !== hash) throw new CorruptionError("object", hash, `its content hashes to ${actual}`);
    return data;
  }

  /**
   * The object as a stream that re-hashes as it reads. Each chunk is held back
   * until the next one has been read, and the last one is released only after
   * the digest matched; on a mismatch the stream errors instead of ending.
   * So an object of up to one chunk (1 MiB) is never seen unverified, and for
   * a larger one a consumer can never see a successful end of corrupt data:
   * it must treat what it received as provisional until the stream closes
   * (extract into staging, commit on close), which is what a tar extraction
   * wants anyway. Holding back one chunk costs one chunk of memory instead
   * of buffering the whole object or reading it twice.
   */
  stream(hash: string, chunkSize = CHUNK): ReadableStream<Uint8Array> {
    let fd: number;
    try {
      fd = openSync(this.path(hash), "r");
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError("object", hash);
      throw ioError(error, `opening object ${hash}`);
    }
    const hasher = Blake3Hasher.create();
    let held: Uint8Array | undefined;
    let open = true;
    const finish = (): void => {
      if (!open) return;
      open = false;
      closeSync(fd);
      hasher.dispose();
    };
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        try {
          for (;;) {
            const chunk = new Uint8Array(chunkSize);
            const n = readSync(fd, chunk, 0, chunkSize, null);
            if (n === 0) {
              const actual = hasher.digestHex();
              finish();
              if (actual !== hash) {
                controller.error(new CorruptionError("object", hash, `its content hashes to ${actual}`));
                return;
              }
              if (held !== undefined) controller.enqueue(held);
              controller.close();
              return;
            }
            const piece = chunk.subarray(0, n);
            hasher.update(piece);
            const release = held;
            held = piece;
            if (release !== undefined) {
              controller.enqueue(release);
              return;
            }
          }
        } catch (error) {
          finish();
          controller.error(ioError(error, `reading object ${hash}`));
        }
      },
      cancel() {
        finish();
      },
    });
  }

  /**
   * Copies the object to `dest` through a temp file beside it, renaming only
   * after the digest matched: `dest` never holds unverified bytes.
   */
  async copyOut(hash: string, dest: string): Promise<void> {
    const temp = tempPathIn(dirname(dest), "out");
    try {
      const fd = openSync(temp, "wx", 0o644);
      try {
        for await (const chunk of this.stream(hash)) writeAll(fd, chunk);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, dest);
    } catch (error) {
      rmSync(temp, { force: true });
      throw ioError(error, `copying object ${hash} to ${dest}`);
    }
  }

  /** Deletes the object; false if it was not there. Not fsynced: a resurrected garbage object is just garbage. */
  remove(hash: string): boolean {
    return removeIfPresent(this.path(hash), `object ${hash}`);
  }

  /** Every object hash, sorted. Temp files and anything not named like a hash are skipped. */
  list(): string[] {
    return listHashNames(this.dir, isHash);
  }
}
