import { blake3Small } from "./blake3-small.ts";
import { core, type WasmCore } from "./module.ts";

export const DIGEST_LEN = 32;
/** Bytes copied into module memory per call; large enough to amortise the call, small enough to stay in cache. */
export const STAGING_LEN = 1 << 20;

let staging: { c: WasmCore; ptr: number } | undefined;

function stagingArea(): { c: WasmCore; ptr: number } {
  if (!staging) {
    const c = core();
    staging = { c, ptr: c.alloc(STAGING_LEN) };
  }
  return staging;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

const registry = new FinalizationRegistry<number>((handle) => core().x.b3_free(handle));

/** Streaming BLAKE3 (plain, keyed or key derivation), backed by the WASM module. */
export class Blake3Hasher {
  private handle: number;

  private constructor(handle: number) {
    if (handle === 0) throw new Error("blake3: out of memory in the hashing module");
    this.handle = handle;
    registry.register(this, handle, this);
  }

  static create(): Blake3Hasher {
    return new Blake3Hasher(core().x.b3_new());
  }

  static keyed(key: Uint8Array): Blake3Hasher {
    if (key.length !== 32) throw new RangeError("blake3: a key is exactly 32 bytes");
    const { c, ptr } = stagingArea();
    c.u8.set(key, ptr);
    return new Blake3Hasher(c.x.b3_new_keyed(ptr));
  }

  static deriveKey(context: string | Uint8Array): Blake3Hasher {
    const bytes = typeof context === "string" ? new TextEncoder().encode(context) : context;
    const c = core();
    const ptr = c.alloc(bytes.length);
    try {
      c.u8.set(bytes, ptr);
      return new Blake3Hasher(c.x.b3_new_derive_key(ptr, bytes.length));
    } finally {
      c.free(ptr, bytes.length);
    }
  }

  private live(): number {
    if (this.handle === 0) throw new Error("blake3: hasher used after dispose()");
    return this.handle;
  }

  update(data: Uint8Array): this {
    const h = this.live();
    const { c, ptr } = stagingArea();
    for (let off = 0; off < data.length; off += STAGING_LEN) {
      const piece = data.subarray(off, Math.min(off + STAGING_LEN, data.length));
      c.u8.set(piece, ptr);
      c.x.b3_update(h, ptr, piece.length);
    }
    return this;
  }

  /** Hashes `len` bytes already in module memory at `ptr` (no copy). */
  updateInPlace(ptr: number, len: number): this {
    core().x.b3_update(this.live(), ptr, len);
    return this;
  }

  /** The first `length` bytes of the extendable output; the hasher stays usable. */
  digest(length = DIGEST_LEN): Uint8Array {
    const h = this.live();
    const c = core();
    const out = c.alloc(length);
    try {
      c.x.b3_finalize(h, out, length);
      return c.bytes(out, length).slice();
    } finally {
      c.free(out, length);
    }
  }

  digestHex(length = DIGEST_LEN): string {
    return toHex(this.digest(length));
  }

  reset(): this {
    core().x.b3_reset(this.live());
    return this;
  }

  dispose(): void {
    if (this.handle === 0) return;
    registry.unregister(this);
    core().x.b3_free(this.handle);
    this.handle = 0;
  }
}

/**
 * Up to this size blake3() hashes in TypeScript (blake3-small.ts): cheaper than
 * instantiating the module in a process that hashes a few records and exits.
 */
export const SMALL_INPUT_MAX = 4 * 1024;

export function blake3(data: Uint8Array): Uint8Array {
  if (data.length <= SMALL_INPUT_MAX) return blake3Small(data);
  const h = Blake3Hasher.create();
  try {
    return h.update(data).digest();
  } finally {
    h.dispose();
  }
}

export function blake3Hex(data: Uint8Array | string): string {
  return toHex(blake3(typeof data === "string" ? new TextEncoder().encode(data) : data));
}

/**
 * Hashes many inputs with one call into the module per batch; for the small
 * buffers (records, manifests, layer JSON) where the call overhead dominates.
 */
export function blake3Many(inputs: readonly Uint8Array[]): Uint8Array[] {
  let total = 0;
  for (const input of inputs) total += input.length;
  if (total <= SMALL_INPUT_MAX) return inputs.map(blake3Small);
  const c = core();
  const results: Uint8Array[] = [];
  let i = 0;
  while (i < inputs.length) {
    // Batch until the staging budget is used; an oversized input goes alone.
    let bytes = 0;
    let j = i;
    while (j < inputs.length && (j === i || bytes + (inputs[j]?.length ?? 0) <= STAGING_LEN)) {
      bytes += inputs[j]?.length ?? 0;
      j++;
    }
    const count = j - i;
    const dataPtr = c.alloc(bytes);
    const lensPtr = c.alloc(count * 4);
    const outPtr = c.alloc(count * DIGEST_LEN);
    try {
      const mem = c.u8;
      const lens = new DataView(mem.buffer, lensPtr, count * 4);
      let off = 0;
      for (let k = 0; k < count; k++) {
        const input = inputs[i + k] as Uint8Array;
        mem.set(input, dataPtr + off);
        lens.setUint32(k * 4, input.length, true);
        off += input.length;
      }
      c.x.b3_hash_many(dataPtr, lensPtr, count, outPtr);
      const out = c.bytes(outPtr, count * DIGEST_LEN);
      for (let k = 0; k < count; k++) results.push(out.slice(k * DIGEST_LEN, (k + 1) * DIGEST_LEN));
    } finally {
      c.free(outPtr, count * DIGEST_LEN);
      c.free(lensPtr, count * 4);
      c.free(dataPtr, bytes);
    }
    i = j;
  }
  return results;
}
