/**
 * verify-store: re-hash every object (on all cores), every layer file and
 * every metadata checksum, and check that what environments reference exists.
 * Read-only, so it takes no lock. Each bad item is named by kind and id.
 */
import { availableParallelism } from "node:os";
import { HashPool, HashWorkerError, hashFileSync, toHex } from "../../wasm/index.ts";
import { CorruptionError, NotFoundError } from "./errors.ts";
import { isNotFound, treeSize } from "./fsx.ts";
import { isHash } from "./hash.ts";
import type { ItemKind } from "./errors.ts";
import type { LayerManifest } from "./layers.ts";
import { reachableLayers } from "./reach.ts";
import type { Store } from "./store.ts";

export interface BadItem {
  kind: ItemKind;
  id: string;
  reason: string;
}

/** Something live data references that the store does not have. */
export interface MissingItem {
  kind: "object" | "layer";
  id: string;
  referenced_by: string;
}

export interface VerifyProgress {
  phase: "objects" | "layers" | "metadata";
  done: number;
  total: number;
  /** Object bytes hashed so far (objects phase). */
  bytes: number;
}

export interface VerifyOptions {
  /** Hash workers; default one per core (none for a store under 32 MiB). 0 hashes on this thread. */
  workers?: number;
  onProgress?: (progress: VerifyProgress) => void;
}

export interface VerifyReport {
  objects: { checked: number; passed: number; bytes: number };
  layers: { checked: number; passed: number };
  metadata: { checked: number; passed: number };
  failed: BadItem[];
  missing: MissingItem[];
  ok: boolean;
}

/** Below this many bytes, starting workers costs more than it saves. */
const PARALLEL_THRESHOLD = 32 << 20;
/** A batch is sent to a worker when it reaches either bound. */
const BATCH_FILES = 64;
const BATCH_BYTES = 32 << 20;

interface ObjectFile {
  hash: string;
  path: string;
  size: number;
}

function hashOne(file: ObjectFile): string | undefined {
  try {
    return toHex(hashFileSync(file.path).digest);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function verifyObjects(store: Store, options: VerifyOptions, report: VerifyReport): Promise<void> {
  const files: ObjectFile[] = store.objects.list().map((hash) => {
    const path = store.objects.path(hash);
    return { hash, path, size: treeSize(path) };
  });
  const total = files.length;
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  let done = 0;
  const check = (file: ObjectFile, digest: string | undefined): void => {
    done++;
    report.objects.bytes += file.size;
    if (digest === undefined) return; // removed since listing (gc): not an error
    report.objects.checked++;
    if (digest === file.hash) report.objects.passed++;
    else report.failed.push({ kind: "object", id: file.hash, reason: `content hashes to ${digest}` });
  };
  const progress = (): void => options.onProgress?.({ phase: "objects", done, total, bytes: report.objects.bytes });

  // An explicit worker count is obeyed; the default skips the pool for small stores.
  const workers = options.workers ?? (totalBytes < PARALLEL_THRESHOLD ? 0 : availableParallelism());
  if (workers === 0) {
    for (const file of files) {
      check(file, hashOne(file));
      if (done % 256 === 0) progress();
    }
    progress();
    return;
  }

  const batches: ObjectFile[][] = [];
  let batch: ObjectFile[] = [];
  let batchBytes = 0;
  for (const file of files) {
    batch.push(file);
    batchBytes += file.size;
    if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
  }
  if (batch.length > 0) batches.push(batch);

  const pool = new HashPool(workers);
  const encoder = new TextEncoder();
  try {
    // Two batches in flight per worker: each finished batch frees a slot for
    // the next, so big and small files even out across the workers.
    const inFlight = new Set<Promise<void>>();
    const submit = (files: ObjectFile[]): void => {
      const job = pool
        .files(files.map((f) => encoder.encode(f.path)))
        .then(({ digests }) => {
          files.forEach((f, i) => check(f, toHex(digests.subarray(i * 32, (i + 1) * 32))));
        })
        .catch((error: unknown) => {
          // One unreadable file fails its whole batch; redo it here file by file to see which.
          if (!(error instanceof HashWorkerError)) throw error;
          for (const f of files) check(f, hashOne(f));
        })
        .finally(() => {
          inFlight.delete(job);
          progress();
        });
      inFlight.add(job);
    };
    for (const b of batches) {
      while (inFlight.size >= workers * 2) await Promise.race(inFlight);
      submit(b);
    }
    await Promise.all(inFlight);
  } finally {
    pool.close();
  }
}

export async function verifyStore(store: Store, options: VerifyOptions = {}): Promise<VerifyReport> {
  const report: VerifyReport = {
    objects: { checked: 0, passed: 0, bytes: 0 },
    layers: { checked: 0, passed: 0 },
    metadata: { checked: 0, passed: 0 },
    failed: [],
    missing: [],
    ok: false,
  };
  await verifyObjects(store, options, report);

  const layerHashes = store.layers.list();
  const goodLayers = new Map<string, LayerManifest>();
  layerHashes.forEach((hash, i) => {
    try {
      const layer = store.layers.get(hash);
      report.layers.checked++;
      report.layers.passed++;
      goodLayers.set(hash, layer);
    } catch (error) {
      if (error instanceof CorruptionError) {
        report.layers.checked++;
        report.failed.push({ kind: "layer", id: hash, reason: error.reason });
      } else if (!(error instanceof NotFoundError)) throw error;
    }
    if (i % 256 === 255) options.onProgress?.({ phase: "layers", done: i + 1, total: layerHashes.length, bytes: report.objects.bytes });
  });
  options.onProgress?.({ phase: "layers", done: layerHashes.length, total: layerHashes.length, bytes: report.objects.bytes });

  // What environments reference must exist: their manifests and layers, and
  // the objects of every layer reachable from them. Garbage (unreachable
  // layers) may point at anything; gc removes it.
  const rows = store.metadata.checkAll();
  const expect = (kind: "object" | "layer", id: string, by: string): void => {
    if (!isHash(id)) return; // "" in a Defined environment, or a legacy placeholder
    if (kind === "object" ? store.objects.has(id) : goodLayers.has(id) || store.layers.has(id)) return;
    report.missing.push({ kind, id, referenced_by: by });
  };
  const named: string[] = [];
  for (const checked of rows) {
    report.metadata.checked++;
    if ("problem" in checked) {
      report.failed.push({ kind: "metadata", id: checked.env_id, reason: checked.problem });
      continue;
    }
    report.metadata.passed++;
    const m = checked.meta;
    const by = `environment ${m.env_id}`;
    const layers = [m.base_layer, ...m.dependency_layers, ...(m.policy_layer === null ? [] : [m.policy_layer])];
    expect("object", m.manifest_hash, by);
    for (const l of layers) expect("layer", l, by);
    named.push(...layers);
  }
  options.onProgress?.({ phase: "metadata", done: rows.length, total: rows.length, bytes: report.objects.bytes });
  for (const hash of reachableLayers(named, goodLayers)) {
    const layer = goodLayers.get(hash);
    if (layer === undefined) continue;
    for (const ref of layer.object_refs) expect("object", ref, `layer ${hash}`);
    if (layer.tar_hash !== "" && !layer.object_refs.includes(layer.tar_hash)) expect("object", layer.tar_hash, `layer ${hash}`);
  }
  report.ok = report.failed.length === 0 && report.missing.length === 0;
  return report;
}
