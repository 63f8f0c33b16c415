/** `karapace list`: the table, --json in the reference's format, empty and missing stores, corrupt rows left out. */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { cleanupTemp, k, kJson, listEnvs, project, tempDir } from "../engine/helpers.ts";

afterAll(cleanupTemp);

describe("karapace list", () => {
  test("no store yet, and an empty store: nothing listed, exit 0", () => {
    const none = tempDir("nostore");
    expect(k(none, ["list"])).toEqual({ code: 0, stdout: "no environments found\n", stderr: "" });
    expect(kJson<unknown[]>(none, ["list"])).toEqual([]);
    const store = tempDir("store");
    const dir = project({ packages: [] });
    const { env_id } = kJson<{ env_id: string }>(store, ["build"], { cwd: dir });
    k(store, ["destroy", env_id]);
    expect(k(store, ["list"]).stdout).toBe("no environments found\n");
  });

  test("columns SHORT_ID, NAME, STATE, ENV_ID sorted by env_id; --json is the metadata array", () => {
    const store = tempDir("store");
    const ids = ["a", "b", "c"].map((p, i) => kJson<{ env_id: string; short_id: string }>(store, ["build", ...(i === 1 ? ["--name", "middle"] : [])], { cwd: project({ packages: [p] }) }));
    kJson(store, ["freeze", ids[2]?.short_id ?? ""]);
    const table = k(store, ["list"]).stdout.trimEnd().split("\n");
    expect(table[0]).toMatch(/^SHORT_ID\s+NAME\s+STATE\s+ENV_ID$/);
    const rows = table.slice(1).map((l) => l.split(/\s+/));
    const sorted = [...ids].sort((x, y) => (x.env_id < y.env_id ? -1 : 1));
    expect(rows.map((r) => r[r.length - 1])).toEqual(sorted.map((x) => x.env_id));
    const byId = new Map(rows.map((r) => [r[r.length - 1], r]));
    expect(byId.get(ids[1]?.env_id)).toEqual([ids[1]?.short_id ?? "", "middle", "built", ids[1]?.env_id ?? ""]);
    expect(byId.get(ids[2]?.env_id)?.[1]).toBe("frozen");

    const json = listEnvs(store);
    expect(json.map((e) => e.env_id)).toEqual(sorted.map((x) => x.env_id));
    expect(Object.keys(json[0] ?? {}).sort()).toEqual(
      ["base_layer", "checksum", "created_at", "dependency_layers", "env_id", "manifest_hash", "name", "policy_layer", "ref_count", "short_id", "state", "updated_at"].sort(),
    );
    expect(json.find((e) => e.env_id === ids[2]?.env_id)?.state).toBe("Frozen");
  });

  test("a row that fails its checksum is left out, with a warning naming it", () => {
    const store = tempDir("store");
    const good = kJson<{ env_id: string }>(store, ["build"], { cwd: project({ packages: ["x"] }) });
    const bad = kJson<{ env_id: string }>(store, ["build"], { cwd: project({ packages: ["y"] }) });
    const db = new Database(join(store, "store", "karapace.db"));
    db.query("UPDATE environments SET ref_count = 7 WHERE env_id = ?").run(bad.env_id);
    db.close();
    const r = k(store, ["list", "--json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { env_id: string }[]).map((e) => e.env_id)).toEqual([good.env_id]);
    expect(r.stderr).toContain(`environment ${bad.env_id} is not listed: its metadata is corrupt`);
  });
});
