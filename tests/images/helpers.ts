/** Helpers for the image layer's tests: temp dirs, hand-built tar archives, tree snapshots. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PrepareImageOptions } from "../../src/images/api.ts";
import { requireTool } from "../support/prereq.ts";

const made: string[] = [];

export function tempDir(prefix = "images"): string {
  const dir = mkdtempSync(join(tmpdir(), `karapace-${prefix}-`));
  made.push(dir);
  return dir;
}

export function cleanupTemp(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Options for prepareImage in tests: quiet, no progress bar, fast retries. */
export function testOptions(storeRoot: string, extra: Partial<PrepareImageOptions> = {}): PrepareImageOptions {
  return {
    storeRoot,
    offline: false,
    progress: null,
    network: { backoffMs: 10, connectTimeoutMs: 5000, stallTimeoutMs: 5000, retries: 3 },
    env: { ...process.env, KARAPACE_IMAGE_SERVER: undefined },
    ...extra,
  };
}

export interface RawEntry {
  name: string;
  /** Tar typeflag: '0' file, '1' hard link, '2' symlink, '3' char dev, '4' block dev, '5' dir, '6' fifo. */
  type?: string;
  body?: Uint8Array | string;
  linkname?: string;
  mode?: number;
  /** Raw 12-byte size field, to write sizes the body does not have (octal string or base-256 bytes). */
  sizeField?: string | Uint8Array;
}

function putString(block: Buffer, offset: number, length: number, value: string): void {
  Buffer.from(value, "utf8").copy(block, offset, 0, length);
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

/** One ustar header block, checksum included. */
export function tarHeader(e: RawEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  putString(block, 0, 100, e.name);
  putString(block, 100, 8, octal(e.mode ?? (e.type === "5" ? 0o755 : 0o644), 8));
  putString(block, 108, 8, octal(0, 8));
  putString(block, 116, 8, octal(0, 8));
  if (e.sizeField instanceof Uint8Array) Buffer.from(e.sizeField).copy(block, 124, 0, 12);
  else putString(block, 124, 12, e.sizeField ?? octal(size, 12));
  putString(block, 136, 12, octal(1_700_000_000, 12));
  putString(block, 148, 8, "        ");
  putString(block, 156, 1, e.type ?? "0");
  putString(block, 157, 100, e.linkname ?? "");
  putString(block, 257, 6, "ustar\0");
  putString(block, 263, 2, "00");
  let sum = 0;
  for (const b of block) sum += b;
  putString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** A tar archive from raw entries; `end: false` leaves out the end-of-archive blocks. */
export function tarArchive(entries: readonly RawEntry[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    parts.push(tarHeader(e, body.length));
    if (body.length > 0) {
      parts.push(body);
      const pad = (512 - (body.length % 512)) % 512;
      if (pad > 0) parts.push(Buffer.alloc(pad));
    }
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Writes `data` as `<dir>/<name>`, compressed with the system tool for .xz/.gz/.zst names; returns a file:// URL. */
export function writeArchive(dir: string, name: string, data: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const tool = name.endsWith(".xz") ? "xz" : name.endsWith(".gz") ? "gzip" : name.endsWith(".zst") ? "zstd" : undefined;
  if (tool === undefined) {
    writeFileSync(path, data);
  } else {
    const exe = requireTool(tool);
    const proc = Bun.spawnSync([exe, "-c", ...(tool === "zstd" ? ["-q"] : [])], { stdin: data, stdout: "pipe", stderr: "pipe" });
    if (!proc.success) throw new Error(`${tool} -c failed: ${proc.stderr.toString()}`);
    writeFileSync(path, proc.stdout);
  }
  return `file://${path}`;
}

/** Every path under `dir` (relative, sorted), to show that nothing appeared or vanished. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(join(dir, rel));
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      out.push(r);
      walk(r);
    }
  };
  walk("");
  return out;
}

/** What an images/ directory holds besides lock files: cache entries, staging and downloads. */
export function imagesContent(storeRoot: string): string[] {
  return listTree(join(storeRoot, "images")).filter((p) => !p.startsWith(".locks") && p !== ".downloads");
}
