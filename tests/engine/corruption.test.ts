/**
 * One flipped byte in an object, in a layer file and in a metadata row:
 * `karapace verify-store` names exactly those three items and exits 3, and
 * reading the damaged object fails instead of returning data (through the
 * store API and through `karapace inspect`).
 */
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CorruptionError, openStore } from "../../src/store/index.ts";
import { flipByte } from "../store/helpers.ts";
import { cleanupTemp, errorLines, k, kJson, listEnvs, project, tempDir } from "./helpers.ts";

afterAll(cleanupTemp);

interface Report {
  ok: boolean;
  failed: { kind: string; id: string; reason: string }[];
  missing: unknown[];
}

test("verify-store names exactly the damaged object, layer file and metadata row, exits 3; the damaged object is never read", async () => {
  const store = tempDir("store");
  const ids = ["a", "b", "c", "d"].map((p) => kJson<{ env_id: string }>(store, ["build", "--name", `env-${p}`], { cwd: project({ packages: [p] }) }).env_id);
  const [a, b, c] = ids as [string, string, string];
  const meta = new Map(listEnvs(store).map((e) => [e.env_id, e]));
  expect(kJson<Report>(store, ["verify-store"]).ok).toBe(true);

  const objectHash = meta.get(a)?.manifest_hash ?? "";
  const layerHash = meta.get(b)?.base_layer ?? "";
  flipByte(join(store, "store", "objects", objectHash));
  flipByte(join(store, "store", "layers", layerHash), 10);
  const db = new Database(join(store, "store", "karapace.db"));
  const created = (db.query("SELECT created_at FROM environments WHERE env_id = ?").get(c) as { created_at: string }).created_at;
  const flipped = String.fromCharCode((created.charCodeAt(3) as number) ^ 1);
  db.query("UPDATE environments SET created_at = ? WHERE env_id = ?").run(created.slice(0, 3) + flipped + created.slice(4), c);
  db.close();

  const r = k(store, ["verify-store", "--json"]);
  expect(r.code).toBe(3);
  const report = JSON.parse(r.stdout) as Report;
  expect(report.ok).toBe(false);
  expect(report.failed.map((f) => [f.kind, f.id]).sort()).toEqual(
    [
      ["layer", layerHash],
      ["metadata", c],
      ["object", objectHash],
    ].sort(),
  );
  expect(report.failed.find((f) => f.kind === "metadata")?.reason).toContain("checksum mismatch");
  expect(report.failed.find((f) => f.kind === "object")?.reason).toMatch(/^content hashes to [0-9a-f]{64}$/);
  expect(report.missing).toEqual([]);
  expect(errorLines(r)).toEqual({
    error: "error: the store has 3 damaged item(s)",
    hint: "hint: destroy the environments that use them and build them again, then run 'karapace gc'",
  });
  const human = k(store, ["verify-store"]);
  expect(human.code).toBe(3);
  for (const line of [`FAIL object ${objectHash}: `, `FAIL layer ${layerHash}: `, `FAIL metadata ${c}: `]) expect(human.stdout).toContain(line);

  // The damaged object is refused on every read path.
  const s = openStore(store);
  try {
    expect(() => s.objects.get(objectHash)).toThrow(CorruptionError);
    const chunks: Uint8Array[] = [];
    let streamError: unknown;
    try {
      for await (const chunk of s.objects.stream(objectHash)) chunks.push(chunk);
    } catch (error) {
      streamError = error;
    }
    expect(streamError).toBeInstanceOf(CorruptionError);
    expect(chunks).toEqual([]);
    const dest = join(tempDir("out"), "copy");
    await expect(s.objects.copyOut(objectHash, dest)).rejects.toThrow(/corrupt object/);
    expect(existsSync(dest)).toBe(false);
    expect(() => s.layers.get(layerHash)).toThrow(CorruptionError);
    expect(() => s.metadata.get(c)).toThrow(CorruptionError);
  } finally {
    s.close();
  }
  const inspect = k(store, ["inspect", "env-a"]);
  expect(inspect.code).toBe(3);
  expect(errorLines(inspect).error).toContain(`corrupt object ${objectHash}`);
  // gc deletes nothing on the strength of a layer it cannot read.
  const gc = kJson<{ removed_objects: number; removed_layers: number; warnings: string[] }>(store, ["gc"]);
  expect(gc).toMatchObject({ removed_objects: 0, removed_layers: 0 });
  expect(gc.warnings.join(" ")).toContain(layerHash);
});
