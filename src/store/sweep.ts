/**
 * Finds the debris a killed writer leaves: temp files in objects/, layers/
 * and store/, and entries in staging/. Every such name carries its owner's
 * pid and start time (proc.ts ownerTag), so an entry whose owner is still
 * running is left alone; one without an owner tag (e.g. the reference's
 * `.tmpXXXXXX` files, or `restore-<env_id>` staging dirs) is debris, because
 * the caller holds the store lock and every writer holds it while writing.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ioError, isNotFound, removeTree, TEMP_PREFIX, treeSize } from "./fsx.ts";
import type { StoreLayout } from "./layout.ts";
import { isAlive, ownerOfName } from "./proc.ts";

export interface StaleItem {
  path: string;
  bytes: number;
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw ioError(error, `listing ${dir}`);
  }
}

function isStale(name: string): boolean {
  const owner = ownerOfName(name);
  return owner === undefined || !isAlive(owner);
}

/** Stale temp files and staging entries (nothing is removed). */
export function findStaleTemps(layout: StoreLayout): StaleItem[] {
  const found: StaleItem[] = [];
  for (const dir of [layout.objectsDir, layout.layersDir, layout.storeDir]) {
    for (const name of names(dir)) {
      if (name.startsWith(TEMP_PREFIX) && isStale(name)) found.push({ path: join(dir, name), bytes: treeSize(join(dir, name)) });
    }
  }
  for (const name of names(layout.stagingDir)) {
    if (isStale(name)) found.push({ path: join(layout.stagingDir, name), bytes: treeSize(join(layout.stagingDir, name)) });
  }
  return found;
}

/** True if `dir` holds a temp file whose owner is gone (one readdir, no stat). */
export function hasStaleTemps(dir: string): boolean {
  return names(dir).some((name) => name.startsWith(TEMP_PREFIX) && isStale(name));
}

/** Removes what findStaleTemps() finds; returns what was removed. */
export function sweepStaleTemps(layout: StoreLayout): StaleItem[] {
  const stale = findStaleTemps(layout);
  for (const item of stale) removeTree(item.path);
  return stale;
}
