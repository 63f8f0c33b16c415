/**
 * Reading a manifest or lock file from disk without trusting it: a size cap
 * enforced while reading (so /dev/zero, a FIFO or a 50 MB file cannot make us
 * allocate or parse much), and strict UTF-8 with the position of the first bad
 * byte.
 */
import { closeSync, openSync, readSync } from "node:fs";

/** Manifests and locks are a few KiB; 1 MiB leaves room for tens of thousands of packages. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

export type SourceProblem =
  | { kind: "io"; message: string }
  | { kind: "too-large"; message: string }
  | { kind: "encoding"; message: string; line: number; column: number };

export type SourceResult = { ok: true; text: string } | { ok: false; problem: SourceProblem };

function ioMessage(error: unknown): string {
  if (error instanceof Error && "code" in error) {
    switch (error.code) {
      case "ENOENT":
        return "no such file";
      case "EACCES":
      case "EPERM":
        return "permission denied";
      case "EISDIR":
        return "is a directory, not a file";
      case "ENOTDIR":
        return "a parent of this path is not a directory";
      case "ELOOP":
        return "too many levels of symbolic links";
    }
    return `cannot read: ${String(error.code)}`;
  }
  return `cannot read: ${error instanceof Error ? error.message : String(error)}`;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** Reads at most `limit + 1` bytes: enough to know the file is too large without reading it. */
function readBounded(path: string, limit: number): { ok: true; bytes: Uint8Array } | { ok: false; problem: SourceProblem } {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    return { ok: false, problem: { kind: "io", message: ioMessage(error) } };
  }
  try {
    const buffer = new Uint8Array(limit + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const n = readSync(fd, buffer, filled, buffer.length - filled, null);
      if (n === 0) break;
      filled += n;
    }
    if (filled > limit) {
      return {
        ok: false,
        problem: { kind: "too-large", message: `is larger than ${formatSize(limit)}, the limit for this file (refusing to parse it)` },
      };
    }
    return { ok: true, bytes: buffer.subarray(0, filled) };
  } catch (error) {
    return { ok: false, problem: { kind: "io", message: ioMessage(error) } };
  } finally {
    closeSync(fd);
  }
}

/** Length of the valid UTF-8 prefix (RFC 3629: no overlongs, no surrogates, max U+10FFFF). */
export function validUtf8Prefix(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b0 = bytes[i] as number;
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      if (b0 === 0xe0) lo = 0xa0;
      if (b0 === 0xed) hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      if (b0 === 0xf0) lo = 0x90;
      if (b0 === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= n) return i; // truncated sequence
    const b1 = bytes[i + 1] as number;
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const b = bytes[i + k] as number;
      if (b < 0x80 || b > 0xbf) return i;
    }
    i += need + 1;
  }
  return n;
}

/** 1-based line and column (in characters) of a byte offset in valid UTF-8 `bytes`. */
function positionOf(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset; i++) {
    const b = bytes[i] as number;
    if (b === 0x0a) {
      line++;
      column = 1;
    } else if ((b & 0xc0) !== 0x80) column++;
  }
  return { line, column };
}

/** Decodes UTF-8 strictly; a leading BOM is dropped, as the reference's TOML parser does. */
export function decodeSource(bytes: Uint8Array): SourceResult {
  const valid = validUtf8Prefix(bytes);
  if (valid < bytes.length) {
    const { line, column } = positionOf(bytes, valid);
    const byte = (bytes[valid] as number).toString(16).padStart(2, "0");
    return {
      ok: false,
      problem: { kind: "encoding", message: `is not UTF-8 text (byte 0x${byte}); is it a binary file?`, line, column },
    };
  }
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return { ok: true, text: Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start).toString("utf8") };
}

/** Reads a UTF-8 text file of at most `limit` bytes. */
export function readSourceFile(path: string, limit = MAX_SOURCE_BYTES): SourceResult {
  const read = readBounded(path, limit);
  if (!read.ok) return read;
  return decodeSource(read.bytes);
}

/** One line for a file that could not be read: `<path>[:line:col]: <what> <problem>`. */
export function describeSourceProblem(path: string, what: string, problem: SourceProblem): string {
  switch (problem.kind) {
    case "io":
      return `${path}: cannot read ${what}: ${problem.message}`;
    case "too-large":
      return `${path}: ${what} ${problem.message}`;
    case "encoding":
      return `${path}:${problem.line}:${problem.column}: ${what} ${problem.message}`;
  }
}
