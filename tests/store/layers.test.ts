import { afterAll, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { blake3Hex } from "../../wasm/index.ts";
import {
  baseLayer,
  CorruptionError,
  layerFileHash,
  type LayerManifest,
  NotFoundError,
  snapshotLayer,
  snapshotLayerHash,
  type Store,
} from "../../src/store/index.ts";
import { b3sum, envId, flipByte, newStore, removeRoot, tempRoot } from "./helpers.ts";

const root = tempRoot("layers");
const store: Store = newStore(root);
afterAll(() => {
  store.close();
  removeRoot(root);
});

const tar = blake3Hex("some tar");

test("a base layer is written in serde_json's pretty format and named by the blake3 of those bytes", () => {
  const layer = baseLayer(tar);
  const name = store.layers.put(layer);
  const path = store.layers.path(name);
  // What serde_json::to_string_pretty(&LayerManifest) prints, field order as declared in layers.rs.
  expect(readFileSync(path, "utf8")).toBe(
    `{\n  "hash": "${tar}",\n  "kind": "Base",\n  "parent": null,\n  "object_refs": [\n    "${tar}"\n  ],\n  "read_only": true,\n  "tar_hash": "${tar}"\n}`,
  );
  expect(name).toBe(b3sum(path));
  expect(name).toBe(layerFileHash(layer));
  expect(name).not.toBe(layer.hash);
  expect(store.layers.get(name)).toEqual(layer);
  expect(store.layers.put(layer)).toBe(name);
  expect(statSync(path).mode & 0o777).toBe(0o444);
});

test("empty object_refs and a parent serialize like serde", () => {
  const layer: LayerManifest = { hash: tar, kind: "Policy", parent: "p", object_refs: [], read_only: false, tar_hash: "" };
  const name = store.layers.put(layer);
  expect(readFileSync(store.layers.path(name), "utf8")).toBe(
    `{\n  "hash": "${tar}",\n  "kind": "Policy",\n  "parent": "p",\n  "object_refs": [],\n  "read_only": false,\n  "tar_hash": ""\n}`,
  );
  expect(store.layers.get(name)).toEqual(layer);
});

test("snapshot composite hash is blake3(\"snapshot:{env_id}:{base_layer}:{tar_hash}\")", () => {
  const env = envId();
  const base = store.layers.put(baseLayer(tar));
  const snapTar = blake3Hex("snapshot tar");
  const input = join(root, "snapshot-input");
  writeFileSync(input, `snapshot:${env}:${base}:${snapTar}`);
  expect(snapshotLayerHash(env, base, snapTar)).toBe(b3sum(input));
  const snap = snapshotLayer(env, base, snapTar);
  expect(snap).toEqual({ hash: b3sum(input), kind: "Snapshot", parent: base, object_refs: [snapTar], read_only: true, tar_hash: snapTar });
  const name = store.layers.put(snap);
  expect(store.layers.get(name)).toEqual(snap);
  expect(store.layers.list()).toContain(name);
});

test("a reference layer without tar_hash (v1) reads with tar_hash \"\"", () => {
  const text = `{\n  "hash": "h1",\n  "kind": "Base",\n  "parent": null,\n  "object_refs": [],\n  "read_only": true\n}`;
  const name = blake3Hex(text);
  writeFileSync(join(store.layers.dir, name), text);
  expect(store.layers.get(name)).toEqual({ hash: "h1", kind: "Base", parent: null, object_refs: [], read_only: true, tar_hash: "" });
});

test("one flipped byte in a layer file: get throws CorruptionError naming the layer", () => {
  const name = store.layers.put(baseLayer(blake3Hex("to corrupt")));
  flipByte(store.layers.path(name));
  let error: unknown;
  try {
    store.layers.get(name);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CorruptionError);
  expect((error as CorruptionError).item).toBe("layer");
  expect((error as CorruptionError).id).toBe(name);
  expect((error as CorruptionError).message).toContain(`corrupt layer ${name}`);
});

test("a file whose name matches its bytes but is not a manifest is corrupt too", () => {
  for (const text of ["{}", "[1,2]", `{"hash":"h","kind":"Weird","parent":null,"object_refs":[],"read_only":true}`, "not json"]) {
    const name = blake3Hex(text);
    writeFileSync(join(store.layers.dir, name), text);
    expect(() => store.layers.get(name)).toThrow(CorruptionError);
  }
});

test("remove and not found", () => {
  const name = store.layers.put(baseLayer(blake3Hex("removable")));
  expect(store.layers.remove(name)).toBe(true);
  expect(store.layers.has(name)).toBe(false);
  expect(() => store.layers.get(name)).toThrow(NotFoundError);
  expect(store.layers.remove(name)).toBe(false);
});
