/** Messages between digestTree and its hash workers. */
export interface HashRequest {
  id: number;
  /** Absolute paths as raw bytes. */
  paths: Uint8Array[];
}

export type HashReply =
  | { id: number; digests: Uint8Array; sizes: number[]; error?: undefined }
  | { id: number; error: string; digests?: undefined; sizes?: undefined };
