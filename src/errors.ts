/**
 * Errors typed by the layer that raised them. Every layer throws one of these;
 * the CLI turns the `kind` into an exit code in exactly one place
 * (src/cli/exit-codes.ts) and prints `message` plus `hint`.
 */

export type ErrorKind =
  | "manifest"
  | "lock"
  | "store"
  | "image"
  | "runtime"
  | "remote"
  | "usage"
  | "general";

export interface ErrorDetails {
  /** The next step the user should take, e.g. "run 'karapace build' first". */
  hint?: string;
  cause?: unknown;
}

export abstract class KarapaceError extends Error {
  abstract readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.hint = details.hint;
  }
}

/** karapace.toml cannot be read, parsed or validated. */
export class ManifestError extends KarapaceError {
  override readonly kind = "manifest";
}

/** karapace.lock is missing, malformed, or disagrees with the manifest. */
export class LockError extends KarapaceError {
  override readonly kind = "lock";
}

/** The content store is unreadable, corrupt, locked by another process, or of an unknown format. */
export class StoreError extends KarapaceError {
  override readonly kind = "store";
}

/** A base image cannot be resolved, downloaded, verified or unpacked. */
export class ImageError extends KarapaceError {
  override readonly kind = "image";
}

/** The sandbox (namespaces, overlay, OCI runtime) failed or is unavailable. */
export class RuntimeError extends KarapaceError {
  override readonly kind = "runtime";
}

/** A remote store refused or failed a push/pull. */
export class RemoteError extends KarapaceError {
  override readonly kind = "remote";
}

/** The command line itself is wrong: unknown command, bad option, missing argument. */
export class CliUsageError extends KarapaceError {
  override readonly kind = "usage";
}

/** Any other failure the user can act on. */
export class GeneralError extends KarapaceError {
  override readonly kind = "general";
}
