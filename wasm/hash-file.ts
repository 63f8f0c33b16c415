import { closeSync, openSync, readSync } from "node:fs";
import { core } from "./module.ts";
import { DIGEST_LEN, STAGING_LEN, toHex } from "./blake3.ts";

/**
 * Per-thread reader state: a hasher and a read buffer inside module memory,
 * so file bytes go from the kernel straight to where they are hashed.
 */
let state: { hasher: number; buf: number; out: number } | undefined;

function readerState(): { hasher: number; buf: number; out: number } {
  if (!state) {
    const c = core();
    const hasher = c.x.b3_new();
    if (hasher === 0) throw new Error("blake3: out of memory in the hashing module");
    state = { hasher, buf: c.alloc(STAGING_LEN), out: c.alloc(DIGEST_LEN) };
  }
  return state;
}

export interface FileHash {
  digest: Uint8Array;
  size: number;
}

/** BLAKE3 of a file's bytes, read in chunks (never whole into memory). Synchronous. */
export function hashFileSync(path: string | Buffer): FileHash {
  const c = core();
  const s = readerState();
  c.x.b3_reset(s.hasher);
  const fd = openSync(path, "r");
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, c.bytes(s.buf, STAGING_LEN), 0, STAGING_LEN, null);
      if (n === 0) break;
      c.x.b3_update(s.hasher, s.buf, n);
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  c.x.b3_finalize(s.hasher, s.out, DIGEST_LEN);
  return { digest: c.bytes(s.out, DIGEST_LEN).slice(), size };
}

/** Hex BLAKE3 of a file's bytes. */
export async function hashFile(path: string): Promise<string> {
  return toHex(hashFileSync(path).digest);
}
