import { readFileSync } from "node:fs";
import wasmPath from "./karapace.wasm" with { type: "file" };

/** The functions `native/src/root.zig` exports; pointers and lengths are plain numbers. */
export interface KarapaceExports {
  memory: WebAssembly.Memory;
  kp_alloc(len: number): number;
  kp_free(ptr: number, len: number): void;
  b3_new(): number;
  b3_new_keyed(keyPtr: number): number;
  b3_new_derive_key(ctxPtr: number, ctxLen: number): number;
  b3_update(h: number, ptr: number, len: number): void;
  b3_finalize(h: number, outPtr: number, outLen: number): void;
  b3_reset(h: number): void;
  b3_free(h: number): void;
  b3_hash_many(dataPtr: number, lensPtr: number, count: number, outPtr: number): void;
  b3_subtree_cv(ptr: number, len: number, counter: number, outPtr: number): number;
  b3_push_subtree(h: number, cvPtr: number, nChunks: number): number;
  tar_new(): number;
  tar_free(w: number): void;
  tar_header(
    w: number, kind: number, mode: number, size: number,
    pathPtr: number, pathLen: number, linkPtr: number, linkLen: number,
    xattrPtr: number, xattrLen: number, outPtr: number, outCap: number,
  ): number;
  tar_data(w: number, ptr: number, len: number): number;
  tar_end_entry(w: number, outPtr: number, outCap: number): number;
  tar_finish(w: number, outPtr: number, outCap: number): number;
  tree_new(): number;
  tree_feed(t: number, ptr: number, len: number): number;
  tree_finish(t: number, outPtr: number): void;
  tree_free(t: number): void;
}

const CODE_MESSAGES: Record<number, string> = {
  [-1]: "out of memory in the hashing module",
  [-2]: "unsupported entry type",
  [-3]: "empty path",
  [-4]: "output buffer too small",
  [-5]: "file grew while it was being read",
  [-6]: "file shrank while it was being read",
  [-7]: "malformed extended attributes",
  [-8]: "truncated tree record",
  [-9]: "invalid path in tree record",
  [-10]: "tree records out of order",
  [-11]: "not an aligned power-of-two run of whole chunks",
};

export class WasmCallError extends Error {
  constructor(readonly call: string, readonly code: number, detail?: string) {
    super(`${call}: ${CODE_MESSAGES[code] ?? `error ${code}`}${detail ? ` (${detail})` : ""}`);
    this.name = "WasmCallError";
  }
}

/** Throws for the negative codes fallible exports return; passes other values through. */
export function check(call: string, result: number, detail?: string): number {
  if (result < 0) throw new WasmCallError(call, result, detail);
  return result;
}

/**
 * One instance of the module plus helpers for moving bytes in and out of its
 * memory. Views are re-created after the memory grows, which detaches them.
 */
export class WasmCore {
  private view: Uint8Array;

  constructor(readonly x: KarapaceExports) {
    this.view = new Uint8Array(x.memory.buffer);
  }

  get u8(): Uint8Array {
    if (this.view.buffer !== this.x.memory.buffer) this.view = new Uint8Array(this.x.memory.buffer);
    return this.view;
  }

  alloc(len: number): number {
    const ptr = this.x.kp_alloc(Math.max(len, 1));
    if (ptr === 0) throw new WasmCallError("kp_alloc", -1, `${len} bytes`);
    return ptr;
  }

  free(ptr: number, len: number): void {
    this.x.kp_free(ptr, Math.max(len, 1));
  }

  /** A view of `len` bytes at `ptr`; valid until the next allocation. */
  bytes(ptr: number, len: number): Uint8Array {
    return this.u8.subarray(ptr, ptr + len);
  }
}

let shared: WasmCore | undefined;

export function instantiate(): WasmCore {
  // Synchronous on purpose: the module is ~32 KiB and callers should not need to await it.
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  const instance = new WebAssembly.Instance(module, {});
  return new WasmCore(instance.exports as unknown as KarapaceExports);
}

/** The instance of this thread, created on first use. */
export function core(): WasmCore {
  shared ??= instantiate();
  return shared;
}
