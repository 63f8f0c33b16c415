/**
 * Garbage collection, with the reference's rules (gc.rs) and a few more.
 *
 * Live:
 * - every environment except those with ref_count 0 that are neither Running
 *   nor Archived (those are dead: their row and env dir go);
 * - the base, dependency and policy layers of live environments;
 * - Snapshot layers whose parent is a live layer (commit() creates them);
 * - the objects referenced (object_refs, tar_hash) by live layers and the
 *   manifest objects (manifest_hash) of live environments.
 * Everything else goes, and also env/<dir> without a metadata row and the
 * temp files and staging entries of dead writers.
 *
 * GC never deletes on the strength of data it could not verify: a metadata
 * row that fails its checksum keeps everything it names (and itself), and a
 * corrupt layer file -- whose references are unknown -- stops all layer and
 * object collection until verify-store's findings are dealt with.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { StoreError } from "../errors.ts";
import { CorruptionError } from "./errors.ts";
import { ioError, isNotFound, removeTree, treeSize } from "./fsx.ts";
import type { LayerManifest } from "./layers.ts";
import type { LockHandle } from "./lock.ts";
import type { EnvMetadata } from "./metadata.ts";
import type { Store } from "./store.ts";
import { reachableLayers } from "./reach.ts";
import { isAlive, ownerOfName } from "./proc.ts";
import { findStaleTemps } from "./sweep.ts";
import type { RollbackStep } from "./wal.ts";

export interface GcOptions {
  dryRun?: boolean;
  /**
   * Checked between deletions; an aborted GC stops cleanly and reports what
   * it did. GC yields to the event loop every few milliseconds, so a SIGINT
   * handler that aborts the signal gets to run.
   */
  signal?: AbortSignal;
  /** Called after each deletion with the number done and the number planned. */
  onProgress?: (done: number, total: number) => void;
}

export interface GcReport {
  dry_run: boolean;
  /** True if the signal stopped it before everything was removed. */
  cancelled: boolean;
  orphaned_envs: string[];
  orphaned_env_dirs: string[];
  orphaned_layers: string[];
  orphaned_objects: string[];
  stale_temps: string[];
  removed_envs: number;
  removed_env_dirs: number;
  removed_layers: number;
  removed_objects: number;
  removed_temps: number;
  /** Bytes removed; for a dry run, the bytes a real run would remove. */
  freed_bytes: number;
  /** Why something that looked collectable was kept. */
  warnings: string[];
}

interface Plan {
  envs: EnvMetadata[];
  envDirs: string[];
  layers: string[];
  objects: string[];
  temps: Array<{ path: string; bytes: number }>;
  warnings: string[];
}

/** How long GC may run without letting the event loop (and signal handlers) in. */
const YIELD_MS = 10;

const PROTECTED_STATES = new Set(["Running", "Archived"]);

function isDead(meta: EnvMetadata): boolean {
  return meta.ref_count === 0 && !PROTECTED_STATES.has(meta.state);
}

function plan(store: Store): Plan {
  const warnings: string[] = [];
  const liveLayers = new Set<string>();
  const liveObjects = new Set<string>();
  const knownEnvIds = new Set<string>();
  const deadEnvs: EnvMetadata[] = [];

  for (const checked of store.metadata.checkAll()) {
    knownEnvIds.add(checked.env_id);
    if ("meta" in checked && isDead(checked.meta)) {
      deadEnvs.push(checked.meta);
      continue;
    }
    const { row } = checked;
    liveLayers.add(row.base_layer);
    if (row.policy_layer !== null) liveLayers.add(row.policy_layer);
    if (row.manifest_hash !== "") liveObjects.add(row.manifest_hash);
    let deps: unknown = [];
    try {
      deps = JSON.parse(row.dependency_layers);
    } catch {
      // corrupt row: whatever its other columns name is kept
    }
    if (Array.isArray(deps)) for (const d of deps) if (typeof d === "string") liveLayers.add(d);
    if ("problem" in checked) warnings.push(`kept environment ${checked.env_id} and what it references: its metadata is corrupt (${checked.problem})`);
  }

  const manifests = new Map<string, LayerManifest>();
  const corruptLayers: string[] = [];
  for (const hash of store.layers.list()) {
    try {
      manifests.set(hash, store.layers.get(hash));
    } catch (error) {
      if (!(error instanceof CorruptionError)) throw error;
      corruptLayers.push(hash);
    }
  }
  for (const hash of reachableLayers(liveLayers, manifests)) liveLayers.add(hash);
  for (const [hash, layer] of manifests) {
    if (!liveLayers.has(hash)) continue;
    for (const ref of layer.object_refs) liveObjects.add(ref);
    if (layer.tar_hash !== "") liveObjects.add(layer.tar_hash);
  }

  let layers: string[] = [];
  let objects: string[] = [];
  if (corruptLayers.length > 0) {
    warnings.push(
      `collected no layers or objects: layer file(s) ${corruptLayers.join(", ")} are corrupt, so what they reference is unknown; run 'karapace verify-store'`,
    );
  } else {
    layers = [...manifests.keys()].filter((h) => !liveLayers.has(h));
    objects = store.objects.list().filter((h) => !liveObjects.has(h));
  }

  let envDirNames: string[];
  try {
    envDirNames = readdirSync(store.layout.envDir);
  } catch (error) {
    if (!isNotFound(error)) throw ioError(error, `listing ${store.layout.envDir}`);
    envDirNames = [];
  }
  const envDirs = envDirNames.filter((name) => !knownEnvIds.has(name)).sort();

  return { envs: deadEnvs, envDirs, layers, objects, temps: [...findStaleTemps(store.layout), ...staleImageStaging(store.layout.imagesDir)], warnings };
}

/**
 * Collects garbage. Takes the lock handle as proof the caller holds the
 * store lock (as the reference's Engine::gc does): nothing may be added
 * between deciding what is dead and deleting it.
 */
export async function collectGarbage(store: Store, handle: LockHandle, options: GcOptions = {}): Promise<GcReport> {
  if (!handle.active) throw new StoreError("gc needs the store lock held");
  const dryRun = options.dryRun === true;
  const p = plan(store);
  const report: GcReport = {
    dry_run: dryRun,
    cancelled: false,
    orphaned_envs: p.envs.map((m) => m.env_id),
    orphaned_env_dirs: p.envDirs,
    orphaned_layers: p.layers,
    orphaned_objects: p.objects,
    stale_temps: p.temps.map((t) => t.path),
    removed_envs: 0,
    removed_env_dirs: 0,
    removed_layers: 0,
    removed_objects: 0,
    removed_temps: 0,
    freed_bytes: 0,
    warnings: p.warnings,
  };
  const envDirOf = (id: string): string => join(store.layout.envDir, id);
  const sizeOfObject = (h: string): number => treeSize(store.objects.path(h));
  const sizeOfLayer = (h: string): number => treeSize(store.layers.path(h));

  if (dryRun) {
    report.freed_bytes =
      sum(p.envs.map((m) => treeSize(envDirOf(m.env_id)))) +
      sum(p.envDirs.map((d) => treeSize(envDirOf(d)))) +
      sum(p.layers.map(sizeOfLayer)) +
      sum(p.objects.map(sizeOfObject)) +
      sum(p.temps.map((t) => t.bytes));
    return report;
  }

  // Removing a dead environment takes two steps (row, directory), and so
  // does an orphan directory (it may be half removed). The entry records them
  // all up front so that a crash part-way is finished by recovery instead of
  // leaving a row without its directory or a directory without its row.
  const finish: RollbackStep[] = [
    ...p.envs.flatMap((m): RollbackStep[] => [{ RemoveMetadata: { env_id: m.env_id } }, { RemoveDir: envDirOf(m.env_id) }]),
    ...p.envDirs.map((name): RollbackStep => ({ RemoveDir: envDirOf(name) })),
  ];
  const opId = store.wal.begin("Gc", "gc", finish);
  const total = p.envs.length + p.envDirs.length + p.layers.length + p.objects.length + p.temps.length;
  let done = 0;
  let lastYield = performance.now();
  /** Between deletions: report progress, let signal handlers run, and say whether to stop. */
  const stop = async (): Promise<boolean> => {
    if (done > 0) options.onProgress?.(done, total);
    if (performance.now() - lastYield > YIELD_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
    if (options.signal?.aborted !== true) return false;
    report.cancelled = true;
    return true;
  };
  // Order: environments (row, then dir; the WAL entry finishes both after a
  // crash), then layers, then objects, so nothing still listed ever points at
  // something already gone.
  run: {
    for (const meta of p.envs) {
      if (await stop()) break run;
      const dir = envDirOf(meta.env_id);
      const bytes = treeSize(dir);
      store.metadata.remove(meta.env_id);
      removeTree(dir);
      report.removed_envs++;
      report.freed_bytes += bytes;
      done++;
    }
    for (const name of p.envDirs) {
      if (await stop()) break run;
      const dir = envDirOf(name);
      const bytes = treeSize(dir);
      removeTree(dir);
      report.removed_env_dirs++;
      report.freed_bytes += bytes;
      done++;
    }
    for (const hash of p.layers) {
      if (await stop()) break run;
      const bytes = sizeOfLayer(hash);
      if (store.layers.remove(hash)) report.freed_bytes += bytes;
      report.removed_layers++;
      done++;
    }
    for (const hash of p.objects) {
      if (await stop()) break run;
      const bytes = sizeOfObject(hash);
      if (store.objects.remove(hash)) report.freed_bytes += bytes;
      report.removed_objects++;
      done++;
    }
    for (const temp of p.temps) {
      if (await stop()) break run;
      removeTree(temp.path);
      report.removed_temps++;
      report.freed_bytes += temp.bytes;
      done++;
    }
  }
  if (done > 0) options.onProgress?.(done, total);
  store.wal.commit(opId);
  return report;
}

/**
 * Unpack directories (`images/.staging-*`) of image preparations whose
 * process is gone. Cached images themselves are kept, used or not, as the
 * reference does: they are the expensive part of a build to get again.
 */
function staleImageStaging(imagesDir: string): Array<{ path: string; bytes: number }> {
  let names: string[];
  try {
    names = readdirSync(imagesDir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw ioError(error, `listing ${imagesDir}`);
  }
  return names
    .filter((name) => name.startsWith(".staging-"))
    .filter((name) => {
      const owner = ownerOfName(name);
      return owner === undefined || !isAlive(owner);
    })
    .sort()
    .map((name) => ({ path: join(imagesDir, name), bytes: treeSize(join(imagesDir, name)) }));
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
