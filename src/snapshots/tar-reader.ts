/**
 * A streaming tar reader that keeps names, link targets and attribute values
 * as raw bytes (Linux names need not be UTF-8 and `security.capability` is
 * binary), which the string-based decoders cannot. It reads what packTree
 * writes (ustar + PAX `path`, `linkpath`, `size`, `SCHILY.xattr.*`) and also
 * GNU long names, so a layer from elsewhere can be read too.
 *
 * Memory: one header at a time; file data is handed over in the chunks it
 * arrives in.
 */
import type { Xattr } from "../../wasm/xattr.ts";

export type TarEntryType = "file" | "hardlink" | "symlink" | "dir" | "fifo" | "chardev" | "blockdev" | "other";

export interface TarEntry {
  /** As stored: no normalization (unpack.ts checks and cleans it). */
  path: Buffer;
  type: TarEntryType;
  mode: number;
  size: number;
  linkname: Buffer;
  xattrs: Xattr[];
  devMajor: number;
  devMinor: number;
}

export class TarFormatError extends Error {
  constructor(message: string) {
    super(`tar: ${message}`);
    this.name = "TarFormatError";
  }
}

const BLOCK = 512;

/** Pulls exact byte counts out of a chunk stream. */
class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  position = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private get available(): number {
    return this.buf.length - this.off;
  }

  /** Makes `n` bytes available; false at the end of the stream. */
  private async fill(n: number): Promise<boolean> {
    while (this.available < n) {
      const next = await this.it.next();
      if (next.done === true) return false;
      const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      this.buf = this.available === 0 ? chunk : Buffer.concat([this.buf.subarray(this.off), chunk]);
      this.off = 0;
    }
    return true;
  }

  /** Exactly `n` bytes (a copy), or undefined at a clean end of stream before any of them. */
  async take(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) {
      if (this.available === 0) return undefined;
      throw new TarFormatError(`the archive ends in the middle of a block at byte ${this.position + this.available}`);
    }
    const out = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    this.position += n;
    return out;
  }

  async mustTake(n: number, what: string): Promise<Buffer> {
    const b = await this.take(n);
    if (b === undefined) throw new TarFormatError(`the archive ends inside ${what}`);
    return b;
  }

  /** Hands `n` bytes to `sink` in the pieces they arrive in (views: copy to keep). */
  async pipe(n: number, sink: (piece: Buffer) => void | Promise<void>): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.available === 0 && !(await this.fill(1))) throw new TarFormatError("the archive ends inside a file's data");
      const k = Math.min(left, this.available);
      const piece = this.buf.subarray(this.off, this.off + k);
      this.off += k;
      this.position += k;
      left -= k;
      await sink(piece);
    }
  }
}

function cString(field: Buffer): Buffer {
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end));
}

function parseNumber(field: Buffer, what: string): number {
  // GNU base-256: the high bit of the first byte set.
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let v = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + (field[i] ?? 0);
    if (!Number.isSafeInteger(v)) throw new TarFormatError(`${what} is too large`);
    return v;
  }
  const text = cString(field).toString("latin1").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`${what} '${text}' is not an octal number`);
  return Number.parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  let unsigned = 0;
  for (let i = 0; i < BLOCK; i++) unsigned += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  const stored = parseNumber(block.subarray(148, 156), "the header checksum");
  return stored === unsigned;
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "chardev", "4": "blockdev", "5": "dir", "6": "fifo",
};

interface Pending {
  path?: Buffer;
  linkpath?: Buffer;
  size?: number;
  xattrs: Xattr[];
}

const XATTR_KEY = Buffer.from("SCHILY.xattr.");

/** PAX records: "<len> <key>=<value>\n", len counting the whole record; values are bytes. */
function parsePax(body: Buffer, into: Pending): void {
  let at = 0;
  while (at < body.length) {
    if (body[at] === 0) break; // padding some writers leave
    const space = body.indexOf(0x20, at);
    if (space < 0) throw new TarFormatError("a PAX record has no length");
    const len = Number.parseInt(body.subarray(at, space).toString("latin1"), 10);
    if (!Number.isSafeInteger(len) || len <= space - at || at + len > body.length || body[at + len - 1] !== 0x0a) {
      throw new TarFormatError("a PAX record has a bad length");
    }
    const record = body.subarray(space + 1, at + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError("a PAX record has no '='");
    const key = record.subarray(0, eq);
    const value = Buffer.from(record.subarray(eq + 1));
    const k = key.toString("latin1");
    if (k === "path") into.path = value;
    else if (k === "linkpath") into.linkpath = value;
    else if (k === "size") {
      const n = Number(value.toString("latin1"));
      if (!Number.isSafeInteger(n) || n < 0) throw new TarFormatError(`PAX size '${value.toString("latin1")}' is not a size`);
      into.size = n;
    } else if (key.subarray(0, XATTR_KEY.length).equals(XATTR_KEY)) {
      into.xattrs.push({ name: Buffer.from(key.subarray(XATTR_KEY.length)), value });
    }
    at += len;
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/**
 * Calls `onEntry` for every entry in order. `body` hands over a file's data;
 * whatever the callback leaves unread is skipped. Throws TarFormatError on a
 * malformed archive (bad checksum, truncation, bad records).
 */
export async function readTar(
  source: AsyncIterable<Uint8Array>,
  onEntry: (entry: TarEntry, body: (sink: (piece: Buffer) => void | Promise<void>) => Promise<void>) => Promise<void> | void,
): Promise<{ entries: number }> {
  const r = new ByteReader(source);
  let pending: Pending = { xattrs: [] };
  let entries = 0;
  for (;;) {
    const block = await r.take(BLOCK);
    if (block === undefined) break; // no end-of-archive blocks: tolerated, the data was all there
    if (block.every((b) => b === 0)) break;
    if (!checksumOk(block)) throw new TarFormatError(`bad header checksum at byte ${r.position - BLOCK}`);
    const flag = String.fromCharCode(block[156] as number);
    const headerSize = parseNumber(block.subarray(124, 136), "an entry size");
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      const body = await r.mustTake(headerSize, "an extended header");
      await r.mustTake(padding(headerSize), "padding");
      if (flag === "x") parsePax(body, pending);
      else if (flag === "L") pending.path = cString(body);
      else if (flag === "K") pending.linkpath = cString(body);
      continue;
    }
    const magic = block.subarray(257, 262).toString("latin1");
    const name = cString(block.subarray(0, 100));
    const prefix = magic === "ustar" ? cString(block.subarray(345, 500)) : Buffer.alloc(0);
    const path = pending.path ?? (prefix.length > 0 ? Buffer.concat([prefix, Buffer.from("/"), name]) : name);
    const type = TYPES[flag] ?? "other";
    const size = pending.size ?? headerSize;
    const entry: TarEntry = {
      path,
      type,
      mode: parseNumber(block.subarray(100, 108), "a mode") & 0o7777,
      size: type === "file" ? size : 0,
      linkname: pending.linkpath ?? cString(block.subarray(157, 257)),
      xattrs: pending.xattrs,
      devMajor: magic === "ustar" ? parseNumber(block.subarray(329, 337), "a device number") : 0,
      devMinor: magic === "ustar" ? parseNumber(block.subarray(337, 345), "a device number") : 0,
    };
    pending = { xattrs: [] };
    // Other types may carry data too (a hardlink written by some tools); it is skipped either way.
    let left = size;
    await onEntry(entry, async (sink) => {
      const n = left;
      left = 0;
      await r.pipe(n, sink);
    });
    if (left > 0) await r.pipe(left, () => undefined);
    await r.mustTake(padding(size), "padding");
    entries++;
  }
  return { entries };
}
