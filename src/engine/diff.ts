/**
 * diff: what an environment's upper dir changes relative to its base image's
 * root filesystem (src/snapshots/drift.ts has the rules). Read-only: no lock.
 *
 * The lower dir is found the way the runtimes leave it: `env/<id>/lower`
 * (the reference's symlink to the rootfs), else the `lower` the namespace
 * backend records in `env/<id>/runtime.json`. An environment with neither
 * (the mock backend has no image) is compared against nothing: every path
 * in its upper dir is reported as added.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { GeneralError } from "../errors.ts";
import type { DriftReport } from "../snapshots/drift.ts";
import type { EnvMetadata } from "../store/metadata.ts";
import type { Store } from "../store/store.ts";
import type { OpContext } from "./context.ts";
import { findEnv, namedEnv, subject } from "./refs.ts";

export interface DiffResult extends DriftReport {
  short_id: string;
  name: string | null;
  /** The lower dir compared against; null when the environment has none on record. */
  base_dir: string | null;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The overlay lower dir of an environment, if the runtime left a record of it. */
export function lowerDirOf(store: Store, envId: string): string | undefined {
  const envDir = store.layout.envPath(envId);
  const link = join(envDir, "lower");
  if (isDir(link)) return link;
  try {
    const record = JSON.parse(readFileSync(join(envDir, "runtime.json"), "utf8")) as { lower?: unknown };
    if (typeof record.lower === "string" && isDir(record.lower)) return record.lower;
  } catch {
    // no record: compared against nothing
  }
  return undefined;
}

export function upperDirOrThrow(store: Store, meta: EnvMetadata, doing: string): string {
  const upper = store.layout.upperDir(meta.env_id);
  if (!existsSync(upper)) {
    throw new GeneralError(`cannot ${doing} ${subject(meta)}: it has no upper directory (${upper})`, {
      hint: "build it again ('karapace build' with its manifest), or check the store with 'karapace verify-store'",
    });
  }
  return upper;
}

export async function diffEnvironment(ctx: OpContext, ref: string): Promise<DiffResult> {
  const meta = findEnv(ctx.store, ref);
  const upper = upperDirOrThrow(ctx.store, meta, "diff");
  const lower = lowerDirOf(ctx.store, meta.env_id);
  if (lower === undefined) ctx.logger.info?.(`${subject(meta)} has no base image directory on record; every path is reported as added`);
  const { diffUpperAsOwner } = await import("../snapshots/owner.ts");
  const drift = await diffUpperAsOwner(upper, lower, (line) => ctx.logger.warn(line));
  return { ...namedEnv(meta), base_dir: lower ?? null, ...drift };
}
