/** Messages between the main thread and hash workers (wasm/hash-worker.ts). */
export type HashRequest =
  /** Whole files, by absolute path as raw bytes. */
  | { kind: "files"; id: number; paths: Uint8Array[] }
  /**
   * Serve subtree jobs from shared memory until a slot says stop
   * (wasm/hash-pool-ring.ts); never answered by message. The worker owns
   * slots `first` to `first + count - 1` and takes them in that order.
   */
  | { kind: "ring"; id: number; control: SharedArrayBuffer; data: SharedArrayBuffer; slots: number; first: number; count: number; unit: number };

export type HashReply =
  | { kind: "files"; id: number; digests: Uint8Array; sizes: number[] }
  | { kind: "error"; id: number; error: string };

/** States of a ring slot, in its Int32 state word. */
export const SLOT = { free: 0, ready: 1, done: 2, stop: 3, failed: 4 } as const;

/**
 * Where a ring's parts sit in its control buffer: the Int32 state words,
 * then each slot's chunk counter (Float64: counters pass 2^32 past 4 TiB),
 * then each slot's 32-byte chaining value.
 */
export function ringLayout(slots: number): { counters: number; cvs: number; bytes: number } {
  const counters = Math.ceil((slots * 4) / 8) * 8;
  const cvs = counters + slots * 8;
  return { counters, cvs, bytes: cvs + slots * 32 };
}
