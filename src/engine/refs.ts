/**
 * How users name an environment: its env_id, its short_id, a unique prefix of
 * either, or its name (the store's MetadataStore.resolve does the matching).
 */
import { GeneralError } from "../errors.ts";
import { CorruptionError, EnvNotFoundError, NameError } from "../store/errors.ts";
import { isHash } from "../store/hash.ts";
import { displayState } from "../store/lifecycle.ts";
import { type EnvMetadata, validateEnvName } from "../store/metadata.ts";
import type { EnvIdentity } from "../schema/types.ts";
import type { Store } from "../store/store.ts";

/** How results name the environment they are about (the first fields of every JSON result). */
export interface NamedEnv extends EnvIdentity {
  name: string | null;
}

export function namedEnv(meta: EnvMetadata): NamedEnv {
  return { env_id: meta.env_id, short_id: meta.short_id, name: meta.name };
}

/** "web (3f2a9c1b0d4e, built)" or "3f2a9c1b0d4e (built)": how messages name an environment. */
export function label(meta: EnvMetadata): string {
  return meta.name === null ? `${meta.short_id} (${displayState(meta.state)})` : `${meta.name} (${meta.short_id}, ${displayState(meta.state)})`;
}

/** "environment web" or "environment 3f2a9c1b0d4e": the subject of a sentence. */
export function subject(meta: EnvMetadata): string {
  return `environment ${meta.name ?? meta.short_id}`;
}

/** The environment `ref` names; EnvNotFoundError (exit 1) or an ambiguity error otherwise. */
export function findEnv(store: Store, ref: string): EnvMetadata {
  const result = store.metadata.resolve(ref);
  if (result.kind === "found") return result.meta;
  if (result.kind === "ambiguous") {
    const shown = result.matches.slice(0, 5).map(label).join(", ");
    const more = result.matches.length > 5 ? `, and ${result.matches.length - 5} more` : "";
    throw new GeneralError(`'${ref}' matches ${result.matches.length} environments: ${shown}${more}`, {
      hint: "give more characters of the env_id, or use the environment's name",
    });
  }
  throw new EnvNotFoundError(ref);
}

/**
 * Like findEnv, but a full env_id whose row fails its checksum is returned as
 * `corrupt` instead of failing, so destroy can remove a damaged environment.
 */
export function findEnvForRemoval(store: Store, ref: string): { meta: EnvMetadata } | { corrupt: string } {
  if (isHash(ref)) {
    try {
      store.metadata.find(ref);
    } catch (error) {
      if (error instanceof CorruptionError) return { corrupt: ref };
      throw error;
    }
  }
  return { meta: findEnv(store, ref) };
}

/** The store's name rule (1-64 of [A-Za-z0-9_-]), refused with a hint. */
export function checkName(name: string): void {
  try {
    validateEnvName(name);
  } catch (error) {
    if (!(error instanceof NameError)) throw error;
    throw new NameError(error.message, { hint: "use 1-64 letters, digits, '_' or '-', e.g. my-env_2" });
  }
}
