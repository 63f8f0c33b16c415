/**
 * Hash strings become file names (objects/<hash>, layers/<hash>), so every
 * hash that reaches a path is checked here first: exactly 64 lowercase hex
 * characters, which cannot contain '/', '..' or anything else a path cares about.
 */
import { StoreError } from "../errors.ts";

const HASH_PATTERN = /^[0-9a-f]{64}$/;

export function isHash(value: string): boolean {
  return HASH_PATTERN.test(value);
}

/** Throws a StoreError naming `what` unless `value` is a valid blake3 hex digest. */
export function assertHash(value: string, what: string): string {
  if (!isHash(value)) {
    const shown = value.length > 80 ? `${value.slice(0, 80)}...` : value;
    throw new StoreError(`invalid ${what} '${shown}': expected 64 lowercase hex characters (a blake3 digest)`);
  }
  return value;
}
