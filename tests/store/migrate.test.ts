import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StoreError } from "../../src/errors.ts";
import { type EnvMetadata, migrateStore, openStore, verifyStore } from "../../src/store/index.ts";
import { collectingLogger, envId, removeRoot, tempRoot } from "./helpers.ts";
import { type ReferenceEnv, ReferenceStoreBuilder as R } from "./reference-store.ts";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) removeRoot(r);
});

interface Fixture {
  root: string;
  envs: { web: ReferenceEnv; running: ReferenceEnv; legacy: ReferenceEnv; tampered: ReferenceEnv; half: string };
  checksums: { web: string; running: string };
  ops: { build: string; enter: string };
  orphanLayer: string;
  originals: string;
}

/** A store as the reference leaves it after a crash: a half-done build and an interrupted `enter`. */
function referenceStore(version = 2): Fixture {
  const root = tempRoot("migrate");
  roots.push(root);
  const r = new R(root);
  r.version(version);
  const env = (label: string, state: string, extra: Partial<ReferenceEnv> = {}): ReferenceEnv => {
    const id = envId(`migrate-${label}`);
    const tar = r.object(`tar of ${label}`);
    return {
      env_id: id,
      short_id: id.slice(0, 12),
      name: null,
      state,
      manifest_hash: r.object(`{"manifest":"${label}"}`),
      base_layer: r.layer("Base", tar, null),
      dependency_layers: [],
      policy_layer: null,
      created_at: "2026-02-15T12:00:00.123456789+00:00",
      updated_at: "2026-02-16T08:30:00+00:00",
      ref_count: 1,
      ...extra,
    };
  };
  const web = env("web", "Built", { name: "web-dev" });
  web.dependency_layers = [r.layer("Dependency", r.object("dep tar"), web.base_layer)];
  web.policy_layer = r.layer("Policy", r.object("policy tar"), null);
  const running = env("running", "Running", { ref_count: 2 });
  const legacy = env("legacy", "Frozen");
  const tampered = env("tampered", "Built");
  const checksums = { web: r.metadata(web), running: r.metadata(running) };
  r.legacyMetadata(legacy);
  r.tamperedMetadata(tampered);
  // A snapshot of web's base, as commit() writes it.
  r.layer("Snapshot", r.object("snapshot tar"), web.base_layer, envId("snapshot composite"));
  mkdirSync(join(root, "env", web.env_id, "upper"), { recursive: true });
  writeFileSync(join(root, "env", web.env_id, "upper", "file"), "web data");

  // An interrupted build of `half`: env dir and a layer file written, metadata never.
  const half = envId("migrate-half");
  mkdirSync(join(root, "env", half, "upper", "usr"), { recursive: true });
  const orphanLayer = r.layer("Base", r.object("half tar"), null);
  const build = `20260216083000111-${half.slice(0, 8)}`;
  const enter = `20260216083500222-${running.env_id.slice(0, 8)}`;
  r.wal(build, "Build", half, "2026-02-16T08:30:00.111+00:00", [R.removeDir(join(root, "env", half)), R.removeFile(join(root, "store/layers", orphanLayer))]);
  r.wal(enter, "Enter", running.env_id, "2026-02-16T08:35:00.222+00:00", [R.resetState(running.env_id, "Built")]);
  writeFileSync(join(root, "store/wal", "20260216090000000-deadbeef.json"), "THIS IS NOT JSON{{{");
  writeFileSync(join(root, "store/wal", ".tmpQx81Zz"), "reference temp file");
  const originals = join(root, "..", `${root.split("/").at(-1)}-originals`);
  roots.push(originals);
  r.snapshotJson(originals);
  return { root, envs: { web, running, legacy, tampered, half }, checksums, ops: { build, enter }, orphanLayer, originals };
}

function fieldsOf(e: ReferenceEnv): Omit<EnvMetadata, "checksum"> {
  return { name: null, policy_layer: null, ...e, state: e.state as EnvMetadata["state"] };
}

describe("migrate imports a reference store", () => {
  test("metadata without loss (checksums kept), WAL entries imported then rolled back, bad files rejected", async () => {
    const f = referenceStore();
    const logger = collectingLogger();
    const report = await migrateStore(f.root, { logger });
    expect(report.status).toBe("migrated");
    expect(report.found_version).toBe(2);
    expect(report.environments.imported.sort()).toEqual([f.envs.web.env_id, f.envs.running.env_id, f.envs.legacy.env_id].sort());
    expect(report.environments.checksums_added).toEqual([f.envs.legacy.env_id]);
    expect(report.environments.rejected.map((x) => x.file)).toEqual([join(f.root, "store/metadata", f.envs.tampered.env_id)]);
    expect(report.environments.rejected[0]?.reason).toContain("checksum mismatch");
    expect(report.wal.imported.sort()).toEqual([f.ops.build, f.ops.enter].sort());
    expect(report.wal.rejected.map((x) => x.reason)).toEqual(["not valid JSON"]);
    expect(logger.warnings.length).toBe(2);
    // Recovery undid the dead operations, newest first.
    expect(report.recovery?.wal.rolled_back.map((x) => x.op_id)).toEqual([f.ops.enter, f.ops.build]);

    const store = openStore(f.root);
    const web = store.metadata.get(f.envs.web.env_id);
    expect(web).toEqual({ ...fieldsOf(f.envs.web), checksum: f.checksums.web });
    // ResetState ran: Running -> Built, with a new updated_at and a fresh checksum.
    const { updated_at: _u, ...running } = fieldsOf(f.envs.running);
    expect(store.metadata.get(f.envs.running.env_id)).toMatchObject({ ...running, state: "Built" });
    expect(store.metadata.get(f.envs.legacy.env_id)).toMatchObject(fieldsOf(f.envs.legacy));
    expect(store.metadata.has(f.envs.tampered.env_id)).toBe(false);
    expect(store.metadata.resolve("web-dev")).toMatchObject({ kind: "found", meta: { env_id: f.envs.web.env_id } });
    expect(existsSync(join(f.root, "env", f.envs.half))).toBe(false);
    expect(store.layers.has(f.orphanLayer)).toBe(false);
    expect(readFileSync(join(f.root, "env", f.envs.web.env_id, "upper", "file"), "utf8")).toBe("web data");
    expect(store.wal.count()).toBe(0);

    // The JSON files were moved aside, not deleted; the reference's temp file was left alone.
    const backup = join(f.root, "store/imported-json");
    expect(report.backup_dir).toBe(backup);
    expect(readdirSync(join(backup, "metadata")).sort()).toEqual([f.envs.web.env_id, f.envs.running.env_id, f.envs.legacy.env_id].sort());
    expect(readdirSync(join(backup, "wal")).sort()).toEqual([`${f.ops.build}.json`, `${f.ops.enter}.json`].sort());
    expect(readdirSync(join(backup, "rejected", "metadata"))).toEqual([f.envs.tampered.env_id]);
    expect(readFileSync(join(backup, "metadata", f.envs.web.env_id))).toEqual(readFileSync(join(f.originals, "metadata", f.envs.web.env_id)));
    expect(readdirSync(join(f.root, "store/metadata"))).toEqual([]);
    expect(readdirSync(join(f.root, "store/wal"))).toEqual([".tmpQx81Zz"]);

    // Objects and layers were already in the shared format: the store verifies.
    const verify = await verifyStore(store);
    expect({ failed: verify.failed, missing: verify.missing }).toEqual({ failed: [], missing: [] });
    store.close();
  });

  test("running it again changes nothing", async () => {
    const f = referenceStore();
    await migrateStore(f.root);
    const before = openStore(f.root);
    const rows = before.metadata.list();
    before.close();
    const again = await migrateStore(f.root);
    expect(again.status).toBe("current");
    expect(again.environments.imported).toEqual([]);
    expect(again.wal.imported).toEqual([]);
    const after = openStore(f.root);
    expect(after.metadata.list()).toEqual(rows);
    after.close();
  });

  test("an import interrupted before the files were moved finishes without duplicates or resurrections", async () => {
    const f = referenceStore();
    await migrateStore(f.root);
    // As if the process had died after the sqlite transaction but before moving the files...
    for (const sub of ["metadata", "wal"]) {
      for (const name of readdirSync(join(f.originals, sub))) copyFileSync(join(f.originals, sub, name), join(f.root, "store", sub, name));
    }
    // ...and meanwhile an imported environment was destroyed.
    const store = openStore(f.root, { allowUnimported: true });
    store.metadata.remove(f.envs.legacy.env_id);
    const rows = store.metadata.list();
    store.close();

    const report = await migrateStore(f.root);
    expect(report.environments.imported).toEqual([]);
    expect(report.wal.imported).toEqual([]);
    expect(report.already_imported).toBe(5);
    // The tampered file and the broken WAL entry are rejected again (they were never imported).
    expect(report.environments.rejected.length + report.wal.rejected.length).toBe(2);
    expect(report.recovery?.wal.rolled_back).toEqual([]);
    const reopened = openStore(f.root);
    expect(reopened.metadata.list()).toEqual(rows);
    expect(reopened.metadata.has(f.envs.legacy.env_id)).toBe(false);
    reopened.close();
  });

  test("a v1 store: metadata imported, version file rewritten to 2, old one kept", async () => {
    const f = referenceStore(1);
    expect(() => openStore(f.root)).toThrow(/store format version 1 is not supported/);
    const report = await migrateStore(f.root);
    expect(report.found_version).toBe(1);
    expect(report.status).toBe("migrated");
    expect(readFileSync(join(f.root, "store/version"), "utf8")).toBe('{\n  "format_version": 2\n}');
    expect(readFileSync(join(f.root, "store/imported-json/version.v1"), "utf8")).toBe('{\n  "format_version": 1\n}');
    const store = openStore(f.root);
    expect(store.metadata.count()).toBe(3);
    store.close();
    expect((await migrateStore(f.root)).status).toBe("current");
  });

  test("our own store reports current; a newer store is refused; no store is reported", async () => {
    const root = tempRoot("migrate-own");
    roots.push(root);
    openStore(root, { create: true }).close();
    expect(await migrateStore(root)).toMatchObject({ status: "current", found_version: 2, format_version: 2 });
    writeFileSync(join(root, "store/version"), '{"format_version": 9}');
    await expect(migrateStore(root)).rejects.toThrow(StoreError);
    await expect(migrateStore(root)).rejects.toThrow(/newer karapace/);
    expect((await migrateStore(join(root, "nothing-here"))).status).toBe("no_store");
  });
});
