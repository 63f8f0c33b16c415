/** `karapace rebuild`: builds anew, replaces the environment karapace.lock names, keeps the old one until the new one is complete. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../src/store/index.ts";
import { cleanupTemp, errorLines, k, kJson, listEnvs, manifestText, project, tempDir } from "../engine/helpers.ts";

afterAll(cleanupTemp);

interface Built {
  env_id: string;
  short_id: string;
  name: string | null;
  status: string;
  replaced: string | null;
}

describe("karapace rebuild", () => {
  test("the same manifest: same env_id, a fresh directory, name and creation time kept", () => {
    const store = tempDir("store");
    const dir = project({ packages: ["git"] });
    const first = kJson<Built>(store, ["build", "--name", "dev"], { cwd: dir });
    const createdAt = listEnvs(store)[0]?.created_at;
    const drift = join(store, "env", first.env_id, "upper", "drift.txt");
    writeFileSync(drift, "changed inside the environment");
    const again = kJson<Built>(store, ["rebuild"], { cwd: dir });
    expect(again).toMatchObject({ env_id: first.env_id, name: "dev", status: "rebuilt", replaced: null });
    expect(existsSync(drift)).toBe(false);
    expect(readFileSync(join(store, "env", first.env_id, "upper", ".pkg-git"), "utf8")).toBe("git@0.0.0-mock");
    const envs = listEnvs(store);
    expect(envs.length).toBe(1);
    expect(envs[0]?.created_at).toBe(createdAt);
    expect(k(store, ["verify-store"]).code).toBe(0);
  });

  test("a changed manifest: the new environment replaces the old one and takes its name", () => {
    const store = tempDir("store");
    const dir = project({ packages: ["git"] });
    const old = kJson<Built>(store, ["build", "--name", "dev"], { cwd: dir });
    writeFileSync(join(dir, "karapace.toml"), manifestText({ packages: ["git", "vim"] }));
    const r = kJson<Built>(store, ["rebuild"], { cwd: dir });
    expect(r.env_id).not.toBe(old.env_id);
    expect(r).toMatchObject({ name: "dev", status: "rebuilt", replaced: old.env_id });
    expect(listEnvs(store).map((e) => [e.env_id, e.name])).toEqual([[r.env_id, "dev"]]);
    expect(existsSync(join(store, "env", old.env_id))).toBe(false);
    expect(readFileSync(join(dir, "karapace.lock"), "utf8")).toContain(`env_id = "${r.env_id}"`);
    // The old environment's layer and objects are garbage now.
    const dry = kJson<{ orphaned_layers: string[]; orphaned_objects: string[] }>(store, ["gc", "--dry-run"]);
    expect(dry.orphaned_layers.length).toBe(1);
    expect(dry.orphaned_objects.length).toBe(2);
    expect(k(store, ["verify-store"]).code).toBe(0);
  });

  test("a running environment is not replaced, and a failed rebuild keeps the old one", () => {
    const store = tempDir("store");
    const dir = project({ packages: ["git"] });
    const old = kJson<Built>(store, ["build", "--name", "dev"], { cwd: dir });
    kJson(store, ["build", "--name", "taken"], { cwd: project({ packages: ["other"] }) });
    writeFileSync(join(dir, "karapace.toml"), manifestText({ packages: ["git", "vim"] }));

    const s = openStore(store);
    s.metadata.setState(old.env_id, "Running");
    s.close();
    const running = k(store, ["rebuild"], { cwd: dir });
    expect(running.code).toBe(1);
    expect(errorLines(running).error).toBe("error: cannot rebuild environment dev: it is running");
    expect(errorLines(running).hint).toContain("stop it first");

    const s2 = openStore(store);
    s2.metadata.setState(old.env_id, "Built");
    s2.close();
    const clash = k(store, ["rebuild", "--name", "taken"], { cwd: dir });
    expect(clash.code).toBe(3);
    expect(listEnvs(store).map((e) => e.name).sort()).toEqual(["dev", "taken"]);
    expect(existsSync(join(store, "env", old.env_id, "upper", ".pkg-git"))).toBe(true);
    expect(k(store, ["verify-store"]).code).toBe(0);
  });

  test("without a lock it builds a new environment", () => {
    const store = tempDir("store");
    const r = kJson<Built>(store, ["rebuild"], { cwd: project({ packages: [] }) });
    expect(r).toMatchObject({ status: "rebuilt", replaced: null });
    expect(listEnvs(store).map((e) => e.env_id)).toEqual([r.env_id]);
  });
});
