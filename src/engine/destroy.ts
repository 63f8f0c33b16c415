/**
 * destroy: the environment's directory and metadata row go; its objects and
 * layers become garbage for gc.
 *
 * The WAL entry's steps finish the operation instead of undoing it (remove
 * the row, remove the directory): once destroy has begun, a crash is
 * completed by the next recovery, so the environment ends up fully gone. The
 * directory is first renamed into staging/, so env/ never shows half a tree.
 */
import { existsSync, renameSync } from "node:fs";
import { GeneralError } from "../errors.ts";
import { selectBackend } from "../runtime/backend.ts";
import type { NormalizedManifest } from "../schema/types.ts";
import { removeTree } from "../store/fsx.ts";
import type { EnvMetadata } from "../store/metadata.ts";
import type { OpContext } from "./context.ts";
import { readManifest } from "./manifest-object.ts";
import { findEnvForRemoval, type NamedEnv, subject } from "./refs.ts";

export interface DestroyResult extends NamedEnv {
  /** destroyed: gone; released: other references remain, only one was dropped. */
  status: "destroyed" | "released";
  ref_count: number;
}

/** Lets the backend release runtime state; a damaged manifest or an unavailable backend only costs a warning. */
async function releaseRuntime(ctx: OpContext, meta: EnvMetadata): Promise<void> {
  let manifest: NormalizedManifest;
  try {
    manifest = readManifest(ctx.store, meta);
  } catch (error) {
    ctx.logger.warn(`destroying ${subject(meta)} without asking its runtime backend: its manifest cannot be read (${(error as Error).message})`);
    return;
  }
  try {
    const backend = await selectBackend(manifest.runtime_backend);
    await backend.destroy({ envId: meta.env_id, envDir: ctx.store.layout.envPath(meta.env_id), storeRoot: ctx.root, manifest, offline: false });
  } catch (error) {
    ctx.logger.warn(`the ${manifest.runtime_backend} backend could not release ${subject(meta)}: ${(error as Error).message}`);
  }
}

export async function destroyEnvironment(ctx: OpContext, ref: string): Promise<DestroyResult> {
  const { store } = ctx;
  return ctx.withWriteLock(async () => {
    const found = findEnvForRemoval(store, ref);
    let envId: string;
    let result: Omit<DestroyResult, "status" | "ref_count">;
    if ("corrupt" in found) {
      envId = found.corrupt;
      ctx.logger.warn(`environment ${envId} has corrupt metadata; removing it without reading it`);
      result = { env_id: envId, short_id: envId.slice(0, 12), name: null };
    } else {
      const meta = found.meta;
      envId = meta.env_id;
      result = { env_id: envId, short_id: meta.short_id, name: meta.name };
      if (meta.state === "Running") {
        throw new GeneralError(`cannot destroy ${subject(meta)}: it is running`, {
          hint: `stop it first ('karapace stop ${meta.name ?? meta.short_id}'), then destroy it`,
        });
      }
      if (meta.ref_count > 1) {
        const after = store.metadata.decrementRef(envId);
        return { ...result, status: "released", ref_count: after.ref_count };
      }
      await releaseRuntime(ctx, meta);
    }
    const dir = store.layout.envPath(envId);
    const aside = store.layout.stagingPath("destroy");
    const op = store.wal.begin("Destroy", envId, [{ RemoveMetadata: { env_id: envId } }, { RemoveDir: dir }, { RemoveDir: aside }]);
    ctx.logger.debug?.(`destroy: moving ${envId.slice(0, 12)} aside`);
    if (existsSync(dir)) renameSync(dir, aside);
    store.wal.commit(op, () => store.metadata.remove(envId));
    try {
      removeTree(aside);
    } catch (error) {
      ctx.logger.warn(`could not remove ${aside} (${(error as Error).message}); the next gc will`);
    }
    await removeLaunchers(ctx, envId);
    return { ...result, status: "destroyed", ref_count: 0 };
  });
}

/** The desktop launchers a build exported for gui.apps (none for most environments). */
async function removeLaunchers(ctx: OpContext, envId: string): Promise<void> {
  try {
    const { removeDesktopApps } = await import("../runtime/host/desktop-export.ts");
    removeDesktopApps(envId);
  } catch (error) {
    ctx.logger.warn(`could not remove the desktop launchers of ${envId.slice(0, 12)}: ${(error as Error).message}`);
  }
}
