/** Messages between the main thread and hash workers (wasm/hash-worker.ts). */
export type HashRequest =
  /** Whole files, by absolute path as raw bytes. */
  | { kind: "files"; id: number; paths: Uint8Array[] }
  /** A run of the pack stream: an aligned power-of-two number of 1 KiB chunks. */
  | { kind: "subtree"; id: number; data: ArrayBuffer; counter: number };

export type HashReply =
  | { kind: "files"; id: number; digests: Uint8Array; sizes: number[] }
  /** `data` is the request's buffer, transferred back so the sender can reuse it. */
  | { kind: "subtree"; id: number; cv: Uint8Array; data: ArrayBuffer }
  | { kind: "error"; id: number; error: string };
