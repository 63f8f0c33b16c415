import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { blake3Hex } from "../../wasm/index.ts";
import { join } from "node:path";
import { collectGarbage, type GcReport, openStore, type Store, verifyStore } from "../../src/store/index.ts";
import { treeSize } from "../../src/store/fsx.ts";
import { child, envId, newStore, removeRoot, sampleMeta, tempRoot } from "./helpers.ts";
import { buildGcFixture, type GcFixture } from "./fixture.ts";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) removeRoot(r);
});

async function setup(): Promise<{ root: string; store: Store; f: GcFixture }> {
  const root = tempRoot("gc");
  roots.push(root);
  const store = newStore(root);
  return { root, store, f: await buildGcFixture(store) };
}

async function gc(store: Store, dryRun: boolean): Promise<GcReport> {
  return store.withWriteLock((handle) => collectGarbage(store, handle, { dryRun }));
}

function snapshotOf(store: Store): { envs: string[]; layers: string[]; objects: string[] } {
  return { envs: store.metadata.list().map((m) => m.env_id), layers: store.layers.list(), objects: store.objects.list() };
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

describe("gc", () => {
  test("dry run lists exactly the garbage and removes nothing", async () => {
    const { store, f } = await setup();
    const before = snapshotOf(store);
    const deadBytes =
      f.dead.envDirs.reduce((n, id) => n + treeSize(join(store.layout.envDir, id)), 0) +
      f.dead.layers.reduce((n, h) => n + treeSize(store.layers.path(h)), 0) +
      f.dead.objects.reduce((n, h) => n + treeSize(store.objects.path(h)), 0) +
      f.dead.temps.reduce((n, p) => n + treeSize(p), 0);
    // withWriteLock recovers first; the fixture's dead temps survive that (no crash was seen).
    const report = await gc(store, true);
    expect(report.dry_run).toBe(true);
    expect(sorted(report.orphaned_envs)).toEqual(sorted(f.dead.envs));
    expect(sorted(report.orphaned_env_dirs)).toEqual(sorted(f.dead.envDirs.filter((d) => !f.dead.envs.includes(d))));
    expect(sorted(report.orphaned_layers)).toEqual(sorted(f.dead.layers));
    expect(sorted(report.orphaned_objects)).toEqual(sorted(f.dead.objects));
    expect(sorted(report.stale_temps)).toEqual(sorted(f.dead.temps));
    expect(report.freed_bytes).toBe(deadBytes);
    expect(report.removed_envs + report.removed_layers + report.removed_objects + report.removed_temps + report.removed_env_dirs).toBe(0);
    expect(snapshotOf(store)).toEqual(before);
    for (const p of [...f.dead.temps, ...f.dead.envDirs.map((d) => join(store.layout.envDir, d))]) expect(existsSync(p)).toBe(true);
    store.close();
  });

  test("a real run removes the garbage, keeps Running/Archived and everything reachable, and the store verifies", async () => {
    const { store, f } = await setup();
    const dry = await gc(store, true);
    const report = await gc(store, false);
    expect(report.cancelled).toBe(false);
    expect({
      envs: report.removed_envs,
      dirs: report.removed_env_dirs,
      layers: report.removed_layers,
      objects: report.removed_objects,
      temps: report.removed_temps,
    }).toEqual({
      envs: f.dead.envs.length,
      dirs: f.dead.envDirs.length - f.dead.envs.length,
      layers: f.dead.layers.length,
      objects: f.dead.objects.length,
      temps: f.dead.temps.length,
    });
    expect(report.freed_bytes).toBe(dry.freed_bytes);
    const after = snapshotOf(store);
    expect(sorted(after.envs)).toEqual(sorted(f.live.envs));
    expect(sorted(after.layers)).toEqual(sorted(f.live.layers));
    expect(sorted(after.objects)).toEqual(sorted(f.live.objects));
    for (const id of f.live.envDirs) expect(existsSync(store.layout.envPath(id))).toBe(true);
    for (const id of f.dead.envDirs) expect(existsSync(join(store.layout.envDir, id))).toBe(false);
    for (const p of f.dead.temps) expect(existsSync(p)).toBe(false);
    for (const p of f.live.temps) expect(existsSync(p)).toBe(true);
    const states = store.metadata.list().map((m) => `${m.state}:${m.ref_count}`);
    expect(sorted(states)).toEqual(["Archived:0", "Built:1", "Running:0"]);
    const verify = await verifyStore(store);
    expect({ failed: verify.failed, missing: verify.missing, ok: verify.ok }).toEqual({ failed: [], missing: [], ok: true });
    expect(store.wal.count()).toBe(0);
    // Nothing left to collect.
    const again = await gc(store, true);
    expect([...again.orphaned_envs, ...again.orphaned_layers, ...again.orphaned_objects, ...again.orphaned_env_dirs, ...again.stale_temps]).toEqual([]);
    store.close();
  });

  test("a corrupt metadata row keeps what it references; a corrupt layer stops layer and object collection", async () => {
    const { store, f } = await setup();
    const { Database } = await import("bun:sqlite");
    const victim = f.dead.envs[0] as string;
    const db = new Database(store.layout.dbFile);
    db.query("UPDATE environments SET updated_at = '2030-01-01T00:00:00Z' WHERE env_id = ?").run(victim);
    db.close();
    const report = await gc(store, true);
    expect(report.orphaned_envs).not.toContain(victim);
    expect(report.orphaned_env_dirs).not.toContain(victim);
    const victimBase = (store.metadata.checkAll().find((c) => c.env_id === victim)?.row.base_layer) as string;
    expect(report.orphaned_layers).not.toContain(victimBase);
    expect(report.warnings.some((w) => w.includes(victim) && w.includes("corrupt"))).toBe(true);

    const { flipByte } = await import("./helpers.ts");
    flipByte(store.layers.path(f.live.layers[0] as string));
    const blocked = await gc(store, false);
    expect(blocked.orphaned_layers).toEqual([]);
    expect(blocked.orphaned_objects).toEqual([]);
    expect(blocked.warnings.some((w) => w.includes(f.live.layers[0] as string))).toBe(true);
    for (const h of f.dead.objects) expect(store.objects.has(h)).toBe(true);
    store.close();
  });

  const GARBAGE = 4000;
  test("SIGINT mid-run stops GC between deletions; what it did is consistent and a second run finishes", async () => {
    const root = tempRoot("gc-sigint");
    roots.push(root);
    const store = newStore(root);
    const keep = await store.objects.put(new TextEncoder().encode("kept manifest"));
    const base = store.layers.put({ hash: keep.hash, kind: "Base", parent: null, object_refs: [keep.hash], read_only: true, tar_hash: keep.hash });
    const live = store.metadata.put(sampleMeta({ manifest_hash: keep.hash, base_layer: base }));
    // Enough garbage that deleting it takes far longer than GC's 10 ms between yields.
    for (let i = 0; i < GARBAGE; i++) {
      const bytes = new TextEncoder().encode(`garbage ${i}`);
      writeFileSync(join(store.objects.dir, blake3Hex(bytes)), bytes);
    }
    store.close();

    const proc = child("gc-interrupt.ts", [root, "50"]);
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    const report = JSON.parse(out) as GcReport;
    expect(report.cancelled).toBe(true);
    expect(report.orphaned_objects.length).toBe(GARBAGE);
    expect(report.removed_objects).toBeGreaterThanOrEqual(50);
    expect(report.removed_objects).toBeLessThan(GARBAGE);

    const reopened = openStore(root);
    expect(reopened.objects.list().length).toBe(1 + GARBAGE - report.removed_objects);
    expect((await verifyStore(reopened)).ok).toBe(true);
    const rest = await gc(reopened, false);
    expect(rest.removed_objects).toBe(GARBAGE - report.removed_objects);
    expect(reopened.objects.list()).toEqual([keep.hash]);
    expect(reopened.metadata.get(live.env_id).env_id).toBe(live.env_id);
    reopened.close();
  });

  test("gc refuses to run without the lock held", async () => {
    const { store } = await setup();
    const handle = store.lock.tryAcquire("test");
    if (handle === undefined) throw new Error("lock busy");
    handle.release();
    await expect(collectGarbage(store, handle)).rejects.toThrow(/needs the store lock/);
    expect(store.metadata.has(envId("never"))).toBe(false);
    store.close();
  });
});
