/**
 * Source of the typia validators. `bun run generate:validators` compiles this
 * file ahead of time into ../generated/validators.ts (committed), so no typia
 * transform or plugin runs when karapace starts. Edit this file or
 * ../types.ts, then regenerate; tests/schema/validators.test.ts fails if the
 * committed output is stale.
 */
import typia from "typia";
import type { LockDocument, ManifestDocument } from "../types.ts";

/** Checks types and rejects unknown keys at every level (mounts stays open). */
export const validateManifestDocument = typia.createValidateEquals<ManifestDocument>();

/** Checks types and rejects unknown keys in karapace.lock. */
export const validateLockDocument = typia.createValidateEquals<LockDocument>();
