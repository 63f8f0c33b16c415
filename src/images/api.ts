/**
 * What the rest of karapace uses from the image layer: one call that turns a
 * manifest's `base.image` into an unpacked, verified root filesystem in the
 * image cache (`<store>/images/<cache_key>/rootfs`).
 */
import type { NetworkOptions } from "./http.ts";

export interface PrepareImageOptions {
  /** The store root; the cache is `<storeRoot>/images/`. */
  storeRoot: string;
  /** Never touch the network: use the cache or fail with a clear ImageError. */
  offline: boolean;
  /** Progress and notes (a TTY progress bar is drawn on stderr when it is a TTY). */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * Where the download progress bar goes: default stderr when it is a TTY;
   * null for none.
   */
  progress?: { write(text: string): unknown } | null;
  /** Timeouts and retries (default: KARAPACE_IMAGE_* variables, then built-in values; see docs/images.md). */
  network?: NetworkOptions;
  /** Extraction limit in bytes of tar stream (default: image_max_bytes, KARAPACE_IMAGE_MAX_BYTES, 16 GiB). */
  maxExtractBytes?: number;
  /** Environment for configuration (KARAPACE_IMAGE_SERVER, XDG_CONFIG_HOME, ...); default process.env. */
  env?: Record<string, string | undefined>;
}

export interface PreparedImage {
  /** The name as written in the manifest. */
  name: string;
  /** Directory under images/ (the reference's cache keys, e.g. "debian-bookworm"). */
  cacheKey: string;
  /** Absolute path of the unpacked root filesystem (read-only use: it is the overlay's lower dir). */
  rootfs: string;
  /** 64-hex tree digest of the rootfs (content, modes, symlink targets): the lock's base_image_digest. */
  digest: string;
  /** Where it came from: the exact archive URL, file path or directory. */
  source: string;
  displayName: string;
}
