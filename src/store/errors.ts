/**
 * The store's error types. All but InvalidTransitionError are StoreErrors, so
 * the CLI maps them to exit code 3 (the reference's "store error"); subclasses
 * let the Engine tell the cases apart without parsing messages.
 */
import { GeneralError, StoreError, type ErrorDetails } from "../errors.ts";

/** What a corrupt or missing item is. Also the `kind` verify-store reports. */
export type ItemKind = "object" | "layer" | "metadata";

/** Content that does not match its hash or checksum. Nothing of it is returned. */
export class CorruptionError extends StoreError {
  constructor(
    readonly item: ItemKind,
    readonly id: string,
    readonly reason: string,
    details: ErrorDetails = {},
  ) {
    super(`corrupt ${item} ${id}: ${reason}`, {
      hint: details.hint ?? "run 'karapace verify-store' to list every damaged item",
      cause: details.cause,
    });
  }
}

/** An object or layer that the store does not have. */
export class NotFoundError extends StoreError {
  constructor(
    readonly item: "object" | "layer",
    readonly id: string,
  ) {
    super(`${item} not found: ${id}`, { hint: "run 'karapace verify-store' to check the store" });
  }
}

/**
 * No environment matches. A general failure (exit 1), as the reference's
 * CoreError::EnvNotFound: the store is fine, the reference given is not.
 */
export class EnvNotFoundError extends GeneralError {
  constructor(readonly ref: string) {
    super(`no environment matching '${ref}'`, { hint: "run 'karapace list' to see the environments" });
  }
}

/** An environment name that is malformed or already taken. */
export class NameError extends StoreError {}

/** The lifecycle does not allow this change of state (exit 1, as in the reference). */
export class InvalidTransitionError extends GeneralError {
  constructor(
    readonly from: string,
    readonly to: string,
    readonly allowed: readonly string[],
    subject: string,
    details: ErrorDetails = {},
  ) {
    const options = allowed.length === 0 ? "nothing" : allowed.join(", ");
    super(`cannot move ${subject} from ${from} to ${to}: from ${from} it can only go to ${options}`, details);
  }
}

/** Another process holds the store lock and the caller chose not to wait. */
export class StoreLockedError extends StoreError {}

/** There is no store at the given root (and the caller did not ask to create one). */
export class NoStoreError extends StoreError {}
