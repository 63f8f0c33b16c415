/**
 * Layer manifests: small JSON files in store/layers/, in the reference's
 * format (crates/karapace-store/src/layers.rs, LayerManifest).
 *
 * Two different hashes are involved, exactly as in the reference:
 * - the file NAME is blake3 of the file's bytes, i.e. of the pretty JSON of
 *   the whole manifest (LayerStore::put / compute_hash); metadata's
 *   `base_layer`, `dependency_layers`, `policy_layer` and a snapshot's
 *   `parent` hold these file names;
 * - the `hash` FIELD inside is the layer's identity: the tar_hash for Base,
 *   Dependency and Policy layers, and blake3("snapshot:{env_id}:{base_layer}:{tar_hash}")
 *   for a Snapshot (Engine::commit), so two snapshots of equal content on
 *   different bases never collide.
 */
import { existsSync, readFileSync } from "node:fs";
import { blake3Hex } from "../../wasm/blake3.ts";
import { CorruptionError, NotFoundError } from "./errors.ts";
import { ioError, isNotFound, listHashNames, removeIfPresent, writeFileDurable } from "./fsx.ts";
import { isHash } from "./hash.ts";
import type { StoreLayout } from "./layout.ts";
import { serdePretty } from "./serde-json.ts";

export const LAYER_KINDS = ["Base", "Dependency", "Policy", "Snapshot"] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];

export interface LayerManifest {
  hash: string;
  kind: LayerKind;
  parent: string | null;
  object_refs: string[];
  read_only: boolean;
  /** blake3 of the layer's tar object; "" in the reference's legacy (v1) layers. */
  tar_hash: string;
}

/** The file's bytes, as serde_json::to_string_pretty writes the struct (fields in declaration order). */
export function serializeLayer(layer: LayerManifest): string {
  return serdePretty({
    hash: layer.hash,
    kind: layer.kind,
    parent: layer.parent,
    object_refs: layer.object_refs,
    read_only: layer.read_only,
    tar_hash: layer.tar_hash,
  });
}

/** The file name put() will use (the reference's LayerStore::compute_hash). */
export function layerFileHash(layer: LayerManifest): string {
  return blake3Hex(serializeLayer(layer));
}

/** The `hash` field of a snapshot layer (Engine::commit in the reference). */
export function snapshotLayerHash(envId: string, baseLayer: string, tarHash: string): string {
  return blake3Hex(`snapshot:${envId}:${baseLayer}:${tarHash}`);
}

/** A Base layer for a tar object, as the reference's build creates it. */
export function baseLayer(tarHash: string): LayerManifest {
  return { hash: tarHash, kind: "Base", parent: null, object_refs: [tarHash], read_only: true, tar_hash: tarHash };
}

/** A Snapshot layer of `envId` whose parent is the base layer file `baseLayerFile`. */
export function snapshotLayer(envId: string, baseLayerFile: string, tarHash: string): LayerManifest {
  return {
    hash: snapshotLayerHash(envId, baseLayerFile, tarHash),
    kind: "Snapshot",
    parent: baseLayerFile,
    object_refs: [tarHash],
    read_only: true,
    tar_hash: tarHash,
  };
}

/**
 * Checks the parsed JSON has the manifest's shape; the reason names the first
 * problem. Like serde, unknown fields are ignored and a missing tar_hash is "".
 */
export function parseLayer(value: unknown): LayerManifest | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const v = value as Record<string, unknown>;
  if (typeof v.hash !== "string") return "'hash' is not a string";
  if (typeof v.kind !== "string" || !(LAYER_KINDS as readonly string[]).includes(v.kind)) {
    return `'kind' is not one of ${LAYER_KINDS.join(", ")}`;
  }
  if (v.parent !== null && typeof v.parent !== "string") return "'parent' is neither null nor a string";
  if (!Array.isArray(v.object_refs) || !v.object_refs.every((r): r is string => typeof r === "string")) {
    return "'object_refs' is not an array of strings";
  }
  if (typeof v.read_only !== "boolean") return "'read_only' is not a boolean";
  if (v.tar_hash !== undefined && typeof v.tar_hash !== "string") return "'tar_hash' is not a string";
  return {
    hash: v.hash,
    kind: v.kind as LayerKind,
    parent: v.parent as string | null,
    object_refs: v.object_refs,
    read_only: v.read_only,
    tar_hash: typeof v.tar_hash === "string" ? v.tar_hash : "",
  };
}

export class LayerStore {
  constructor(private readonly layout: StoreLayout) {}

  get dir(): string {
    return this.layout.layersDir;
  }

  path(fileHash: string): string {
    return this.layout.layerPath(fileHash);
  }

  /** Writes the manifest (idempotent) and returns its file hash. */
  put(layer: LayerManifest): string {
    const shape = parseLayer(layer);
    if (typeof shape === "string") throw new TypeError(`invalid layer manifest: ${shape}`);
    const text = serializeLayer(layer);
    const fileHash = blake3Hex(text);
    if (!this.has(fileHash)) writeFileDurable(this.path(fileHash), new TextEncoder().encode(text), 0o444);
    return fileHash;
  }

  /** Reads and verifies a manifest: its bytes must hash to its name and parse to a manifest. */
  get(fileHash: string): LayerManifest {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path(fileHash));
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError("layer", fileHash);
      throw ioError(error, `reading layer ${fileHash}`);
    }
    const actual = blake3Hex(bytes);
    if (actual !== fileHash) throw new CorruptionError("layer", fileHash, `its content hashes to ${actual}`);
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString("utf8"));
    } catch {
      throw new CorruptionError("layer", fileHash, "it is not valid JSON");
    }
    const layer = parseLayer(json);
    if (typeof layer === "string") throw new CorruptionError("layer", fileHash, layer);
    return layer;
  }

  has(fileHash: string): boolean {
    return existsSync(this.path(fileHash));
  }

  remove(fileHash: string): boolean {
    return removeIfPresent(this.path(fileHash), `layer ${fileHash}`);
  }

  /** Every layer file hash, sorted; temp files are skipped. */
  list(): string[] {
    return listHashNames(this.dir, isHash);
  }
}
