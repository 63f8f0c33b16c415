/**
 * freeze, archive and rename: single-row changes, each one sqlite
 * transaction under the store lock (no WAL entry needed: there is nothing
 * outside the row to undo).
 */
import { InvalidTransitionError } from "../store/errors.ts";
import { allowedTransitions, canTransition, displayState, type EnvState } from "../store/lifecycle.ts";
import type { EnvMetadata } from "../store/metadata.ts";
import type { OpContext } from "./context.ts";
import { checkName, findEnv, subject } from "./refs.ts";

/** The next step for a refused change, by where the environment is now. */
function transitionHint(meta: EnvMetadata, to: EnvState): string {
  const who = meta.name ?? meta.short_id;
  if (meta.state === to) return `it is already ${displayState(to)}; 'karapace inspect ${who}' shows its state`;
  switch (meta.state) {
    case "Running":
      return `stop it first ('karapace stop ${who}')`;
    case "Archived":
      return "an archived environment only goes back to built: run 'karapace build' with its manifest";
    case "Defined":
      return "build it first ('karapace build')";
    default:
      return `'karapace inspect ${who}' shows its state`;
  }
}

async function moveTo(ctx: OpContext, ref: string, to: EnvState): Promise<EnvMetadata> {
  return ctx.withWriteLock(() => {
    const meta = findEnv(ctx.store, ref);
    if (!canTransition(meta.state, to)) {
      throw new InvalidTransitionError(displayState(meta.state), displayState(to), allowedTransitions(meta.state).map(displayState), subject(meta), {
        hint: transitionHint(meta, to),
      });
    }
    return ctx.store.metadata.setState(meta.env_id, to);
  });
}

export function freezeEnvironment(ctx: OpContext, ref: string): Promise<EnvMetadata> {
  return moveTo(ctx, ref, "Frozen");
}

export function archiveEnvironment(ctx: OpContext, ref: string): Promise<EnvMetadata> {
  return moveTo(ctx, ref, "Archived");
}

export interface RenameResult {
  env_id: string;
  short_id: string;
  name: string;
  previous_name: string | null;
  /** False when it already had that name. */
  changed: boolean;
}

export async function renameEnvironment(ctx: OpContext, ref: string, name: string): Promise<RenameResult> {
  checkName(name);
  return ctx.withWriteLock(() => {
    const meta = findEnv(ctx.store, ref);
    const base = { env_id: meta.env_id, short_id: meta.short_id, name, previous_name: meta.name };
    if (meta.name === name) return { ...base, changed: false };
    ctx.store.metadata.rename(meta.env_id, name);
    return { ...base, changed: true };
  });
}
