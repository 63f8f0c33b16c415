/** `karapace destroy`: directory and row gone, objects left for gc, running refused, a damaged row still removable. */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../src/store/index.ts";
import { cleanupTemp, errorLines, k, kJson, listEnvs, project, tempDir } from "../engine/helpers.ts";

afterAll(cleanupTemp);

describe("karapace destroy", () => {
  test("removes the directory and the metadata; its objects and layer stay until gc", () => {
    const store = tempDir("store");
    const a = kJson<{ env_id: string; short_id: string }>(store, ["build", "--name", "gone"], { cwd: project({ packages: ["a"] }) });
    const keep = kJson<{ env_id: string }>(store, ["build"], { cwd: project({ packages: ["b"] }) });
    const objectsBefore = readdirSync(join(store, "store", "objects")).length;
    expect(k(store, ["destroy", "gone"])).toEqual({ code: 0, stdout: `destroyed environment 'gone' (${a.short_id})\n`, stderr: "" });
    expect(listEnvs(store).map((e) => e.env_id)).toEqual([keep.env_id]);
    expect(existsSync(join(store, "env", a.env_id))).toBe(false);
    expect(readdirSync(join(store, "env"))).toEqual([keep.env_id]);
    expect(readdirSync(join(store, "store", "staging"))).toEqual([]);
    expect(readdirSync(join(store, "store", "objects")).length).toBe(objectsBefore);
    expect(k(store, ["verify-store"]).code).toBe(0);
    const again = k(store, ["destroy", "gone"]);
    expect(again.code).toBe(1);
    expect(errorLines(again).error).toBe("error: no environment matching 'gone'");
  });

  test("a running environment is refused, with the next step", () => {
    const store = tempDir("store");
    const a = kJson<{ env_id: string }>(store, ["build", "--name", "busy"], { cwd: project({ packages: ["a"] }) });
    const s = openStore(store);
    s.metadata.setState(a.env_id, "Running");
    s.close();
    const r = k(store, ["destroy", "busy"]);
    expect(r.code).toBe(1);
    expect(errorLines(r)).toEqual({ error: "error: cannot destroy environment busy: it is running", hint: "hint: stop it first ('karapace stop busy'), then destroy it" });
    expect(existsSync(join(store, "env", a.env_id, "upper"))).toBe(true);
    expect(listEnvs(store).length).toBe(1);
  });

  test("an environment with more than one reference only loses one", () => {
    const store = tempDir("store");
    const a = kJson<{ env_id: string }>(store, ["build"], { cwd: project({ packages: ["a"] }) });
    const s = openStore(store);
    s.metadata.incrementRef(a.env_id);
    s.close();
    expect(kJson(store, ["destroy", a.env_id])).toMatchObject({ status: "released", ref_count: 1 });
    expect(existsSync(join(store, "env", a.env_id))).toBe(true);
    expect(kJson(store, ["destroy", a.env_id])).toMatchObject({ status: "destroyed", ref_count: 0 });
    expect(existsSync(join(store, "env", a.env_id))).toBe(false);
  });

  test("an environment whose metadata is corrupt is destroyed by its full env_id", () => {
    const store = tempDir("store");
    const a = kJson<{ env_id: string }>(store, ["build"], { cwd: project({ packages: ["a"] }) });
    const db = new Database(join(store, "store", "karapace.db"));
    db.query("UPDATE environments SET state = 'Frozen' WHERE env_id = ?").run(a.env_id);
    db.close();
    expect(k(store, ["destroy", a.env_id.slice(0, 12)]).code).toBe(3);
    const r = k(store, ["destroy", a.env_id]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`environment ${a.env_id} has corrupt metadata; removing it without reading it`);
    expect(existsSync(join(store, "env", a.env_id))).toBe(false);
    expect(k(store, ["verify-store"]).code).toBe(0);
  });

  test("there is no store: exit 3 with a hint", () => {
    const r = k(tempDir("nostore"), ["destroy", "x"]);
    expect(r.code).toBe(3);
    expect(errorLines(r).error).toContain("there is no karapace store at");
  });
});
