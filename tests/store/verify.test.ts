import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { pseudoRandom } from "../../bench/lib.ts";
import { type Store, verifyStore, type VerifyProgress } from "../../src/store/index.ts";
import { buildGcFixture, type GcFixture } from "./fixture.ts";
import { flipByte, newStore, removeRoot, tempRoot } from "./helpers.ts";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) removeRoot(r);
});

async function setup(): Promise<{ store: Store; f: GcFixture; big: string[] }> {
  const root = tempRoot("verify");
  roots.push(root);
  const store = newStore(root);
  const f = await buildGcFixture(store);
  // Enough bytes that the default path uses the worker pool too.
  const big: string[] = [];
  for (let i = 0; i < 6; i++) big.push((await store.objects.put(pseudoRandom(6 << 20, 100 + i))).hash);
  return { store, f, big };
}

for (const workers of [undefined, 0, 2]) {
  test(`a clean store verifies (workers: ${workers ?? "default"})`, async () => {
    const { store, f, big } = await setup();
    const progress: VerifyProgress[] = [];
    const report = await verifyStore(store, { workers, onProgress: (p) => progress.push(p) });
    const objects = store.objects.list().length;
    expect(report).toMatchObject({
      objects: { checked: objects, passed: objects },
      layers: { checked: f.live.layers.length + f.dead.layers.length, passed: f.live.layers.length + f.dead.layers.length },
      metadata: { checked: 5, passed: 5 },
      failed: [],
      missing: [],
      ok: true,
    });
    expect(objects).toBe(f.live.objects.length + f.dead.objects.length + big.length);
    const phases = [...new Set(progress.map((p) => p.phase))];
    expect(phases).toEqual(["objects", "layers", "metadata"]);
    const lastObjects = progress.filter((p) => p.phase === "objects").at(-1);
    expect(lastObjects).toMatchObject({ done: objects, total: objects });
    store.close();
  });
}

test("one flipped byte in an object, a big object, a layer file and a metadata row: exactly those are named", async () => {
  const { store, f, big } = await setup();
  const small = f.live.objects[0] as string;
  const large = big[3] as string;
  const layer = f.live.layers[1] as string;
  const env = f.live.envs[0] as string;
  flipByte(store.objects.path(small));
  flipByte(store.objects.path(large), 5 << 20);
  flipByte(store.layers.path(layer), 20);
  const db = new Database(store.layout.dbFile);
  db.query("UPDATE environments SET manifest_hash = (CASE WHEN substr(manifest_hash, 1, 1) = '0' THEN '1' ELSE '0' END) || substr(manifest_hash, 2) WHERE env_id = ?").run(env);
  db.close();

  for (const workers of [0, 2]) {
    const report = await verifyStore(store, { workers });
    expect(report.ok).toBe(false);
    const named = report.failed.map(({ kind, id }) => `${kind} ${id}`).sort();
    expect(named).toEqual([`object ${small}`, `object ${large}`, `layer ${layer}`, `metadata ${env}`].sort());
    expect(report.failed.find((b) => b.id === env)?.reason).toContain("checksum mismatch");
    expect(report.objects.passed).toBe(report.objects.checked - 2);
    expect(report.layers.passed).toBe(report.layers.checked - 1);
    expect(report.metadata.passed).toBe(4);
  }
  store.close();
});

test("references to things the store does not have are reported as missing", async () => {
  const { store, f } = await setup();
  const env = store.metadata.get(f.live.envs[0] as string);
  store.objects.remove(env.manifest_hash);
  store.layers.remove(env.base_layer);
  const report = await verifyStore(store);
  expect(report.failed).toEqual([]);
  expect(report.ok).toBe(false);
  expect(report.missing).toContainEqual({ kind: "object", id: env.manifest_hash, referenced_by: `environment ${env.env_id}` });
  expect(report.missing).toContainEqual({ kind: "layer", id: env.base_layer, referenced_by: `environment ${env.env_id}` });
  store.close();
});
