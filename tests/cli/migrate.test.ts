/** `karapace migrate`: reports the version, imports a store the reference wrote, is idempotent; other commands point at it. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { envId } from "../store/helpers.ts";
import { ReferenceStoreBuilder } from "../store/reference-store.ts";
import { cleanupTemp, errorLines, k, kJson, listEnvs, project, tempDir } from "../engine/helpers.ts";

afterAll(cleanupTemp);

interface Report {
  status: string;
  found_version: number | null;
  format_version: number;
  environments: { imported: string[]; checksums_added: string[]; rejected: unknown[] };
  wal: { imported: string[] };
}

describe("karapace migrate", () => {
  test("no store, and a current store: nothing to do", () => {
    const none = tempDir("nostore");
    expect(k(none, ["migrate"])).toEqual({ code: 0, stdout: `no store at ${none}; nothing to migrate\n`, stderr: "" });
    const store = tempDir("store");
    kJson(store, ["build"], { cwd: project() });
    expect(k(store, ["migrate"]).stdout).toBe("store format version: 2\nnothing to migrate\n");
    expect(kJson<Report>(store, ["migrate"])).toMatchObject({ status: "current", found_version: 2, format_version: 2 });
  });

  test("a v1 reference store is imported once: its environments are listed, inspected, and destroyable", () => {
    const root = tempDir("refstore");
    const r = new ReferenceStoreBuilder(root);
    r.version(1);
    const id = envId("cli-migrate");
    const tar = r.object("tar of the reference env");
    const env = {
      env_id: id,
      short_id: id.slice(0, 12),
      name: "from-rust",
      state: "Built",
      manifest_hash: r.object('{"manifest_version":1,"base_image":"rolling","system_packages":[],"gui_apps":[],"hardware_gpu":false,"hardware_audio":false,"mounts":[],"runtime_backend":"mock","network_isolation":false,"cpu_shares":null,"memory_limit_mb":null}'),
      base_layer: r.layer("Base", tar, null),
      dependency_layers: [],
      policy_layer: null,
      created_at: "2026-02-15T12:00:00+00:00",
      updated_at: "2026-02-15T12:00:00+00:00",
      ref_count: 1,
    };
    r.metadata(env);
    mkdirSync(join(root, "env", id, "upper"), { recursive: true });
    writeFileSync(join(root, "env", id, "upper", "f"), "data");

    const before = k(root, ["list"]);
    expect(before.code).toBe(3);
    expect(errorLines(before).error).toContain("store format version 1 is not supported");
    expect(errorLines(before).hint).toContain("run 'karapace migrate'");

    const report = kJson<Report>(root, ["migrate"]);
    expect(report).toMatchObject({ status: "migrated", found_version: 1, format_version: 2 });
    expect(report.environments.imported).toEqual([id]);
    expect(listEnvs(root).map((e) => [e.env_id, e.name, e.state])).toEqual([[id, "from-rust", "Built"]]);
    expect(kJson<{ manifest: { base_image: string } }>(root, ["inspect", "from-rust"]).manifest.base_image).toBe("rolling");
    expect(k(root, ["verify-store"]).code).toBe(0);
    expect(kJson<Report>(root, ["migrate"])).toMatchObject({ status: "current", found_version: 2 });
    expect(kJson(root, ["destroy", "from-rust"])).toMatchObject({ status: "destroyed" });
  });

  test("a store from a newer karapace is refused with exit 3", () => {
    const root = tempDir("newer");
    new ReferenceStoreBuilder(root).version(9);
    const r = k(root, ["migrate"]);
    expect(r.code).toBe(3);
    expect(errorLines(r).error).toContain("store format version 9 was written by a newer karapace");
  });
});
