/**
 * Builds a store the way the Rust reference writes one: JSON files whose
 * bytes follow serde_json::to_string_pretty, names and checksums computed
 * with b3sum. Nothing here uses the code under test.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { b3sum } from "./helpers.ts";

function b3(root: string, text: string): string {
  const scratch = join(root, ".scratch-for-b3sum");
  writeFileSync(scratch, text);
  return b3sum(scratch);
}

export interface ReferenceEnv {
  env_id: string;
  short_id: string;
  name?: string | null;
  state: string;
  manifest_hash: string;
  base_layer: string;
  dependency_layers: string[];
  policy_layer?: string | null;
  created_at: string;
  updated_at: string;
  ref_count: number;
}

const q = (s: string): string => JSON.stringify(s);
const arr = (xs: string[], indent: string): string => (xs.length === 0 ? "[]" : `[\n${xs.map((x) => `${indent}  ${q(x)}`).join(",\n")}\n${indent}]`);
const opt = (v: string | null | undefined): string => (v === null || v === undefined ? "null" : q(v));

/** serde pretty of EnvMetadata (v2: name and policy_layer always present) without the checksum field. */
function metadataJson(e: ReferenceEnv, checksum?: string): string {
  const lines = [
    `  "env_id": ${q(e.env_id)}`,
    `  "short_id": ${q(e.short_id)}`,
    `  "name": ${opt(e.name)}`,
    `  "state": ${q(e.state)}`,
    `  "manifest_hash": ${q(e.manifest_hash)}`,
    `  "base_layer": ${q(e.base_layer)}`,
    `  "dependency_layers": ${arr(e.dependency_layers, "  ")}`,
    `  "policy_layer": ${opt(e.policy_layer)}`,
    `  "created_at": ${q(e.created_at)}`,
    `  "updated_at": ${q(e.updated_at)}`,
    `  "ref_count": ${e.ref_count}`,
  ];
  if (checksum !== undefined) lines.push(`  "checksum": ${q(checksum)}`);
  return `{\n${lines.join(",\n")}\n}`;
}

export class ReferenceStoreBuilder {
  constructor(readonly root: string) {
    for (const d of ["store/objects", "store/layers", "store/metadata", "store/staging", "store/wal", "env"]) mkdirSync(join(root, d), { recursive: true });
  }

  version(n: number): void {
    writeFileSync(join(this.root, "store/version"), `{\n  "format_version": ${n}\n}`);
  }

  object(text: string): string {
    const hash = b3(this.root, text);
    writeFileSync(join(this.root, "store/objects", hash), text);
    return hash;
  }

  /** A layer file exactly as LayerStore::put writes it; returns its file name. */
  layer(kind: string, tarHash: string, parent: string | null, hashField = tarHash): string {
    const text = `{\n  "hash": ${q(hashField)},\n  "kind": ${q(kind)},\n  "parent": ${opt(parent)},\n  "object_refs": ${arr([tarHash], "  ")},\n  "read_only": true,\n  "tar_hash": ${q(tarHash)}\n}`;
    const name = b3(this.root, text);
    writeFileSync(join(this.root, "store/layers", name), text);
    return name;
  }

  /** MetadataStore::put: checksum over the pretty JSON without it, then the JSON with it. Returns the checksum. */
  metadata(e: ReferenceEnv): string {
    const checksum = b3(this.root, metadataJson(e));
    writeFileSync(join(this.root, "store/metadata", e.env_id), metadataJson(e, checksum));
    return checksum;
  }

  /** A v1 file: no name, policy_layer or checksum (the reference's migration test fixture). */
  legacyMetadata(e: ReferenceEnv): void {
    const text = `{\n  "env_id": ${q(e.env_id)},\n  "short_id": ${q(e.short_id)},\n  "state": ${q(e.state)},\n  "manifest_hash": ${q(e.manifest_hash)},\n  "base_layer": ${q(e.base_layer)},\n  "dependency_layers": [],\n  "created_at": ${q(e.created_at)},\n  "updated_at": ${q(e.updated_at)},\n  "ref_count": ${e.ref_count}\n}`;
    writeFileSync(join(this.root, "store/metadata", e.env_id), text);
  }

  /** A metadata file whose content was changed after its checksum was computed. */
  tamperedMetadata(e: ReferenceEnv): void {
    const checksum = b3(this.root, metadataJson(e));
    writeFileSync(join(this.root, "store/metadata", e.env_id), metadataJson({ ...e, ref_count: e.ref_count + 1 }, checksum));
  }

  /** store/wal/<op_id>.json as WriteAheadLog::write_entry writes it. Steps are pre-rendered serde JSON objects. */
  wal(opId: string, kind: string, envId: string, timestamp: string, steps: string[]): void {
    const body = steps.length === 0 ? "[]" : `[\n${steps.map((s) => `    ${s.replace(/\n/g, "\n    ")}`).join(",\n")}\n  ]`;
    const text = `{\n  "op_id": ${q(opId)},\n  "kind": ${q(kind)},\n  "env_id": ${q(envId)},\n  "timestamp": ${q(timestamp)},\n  "rollback_steps": ${body}\n}`;
    writeFileSync(join(this.root, "store/wal", `${opId}.json`), text);
  }

  static removeDir(path: string): string {
    return `{\n  "RemoveDir": ${q(path)}\n}`;
  }

  static removeFile(path: string): string {
    return `{\n  "RemoveFile": ${q(path)}\n}`;
  }

  static resetState(envId: string, target: string): string {
    return `{\n  "ResetState": {\n    "env_id": ${q(envId)},\n    "target_state": ${q(target)}\n  }\n}`;
  }

  /** Copies of every metadata and WAL file, to put back later (simulating an interrupted import). */
  snapshotJson(into: string): void {
    for (const sub of ["metadata", "wal"]) {
      mkdirSync(join(into, sub), { recursive: true });
      for (const name of readdirSync(join(this.root, "store", sub))) copyFileSync(join(this.root, "store", sub, name), join(into, sub, name));
    }
  }
}
