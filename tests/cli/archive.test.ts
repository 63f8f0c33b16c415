/** `karapace archive`: allowed from built and frozen, refused from running; gc keeps archived environments. */
import { afterAll, describe, expect, test } from "bun:test";
import { openStore } from "../../src/store/index.ts";
import { cleanupTemp, errorLines, k, kJson, listEnvs, project, tempDir } from "../engine/helpers.ts";

afterAll(cleanupTemp);

describe("karapace archive", () => {
  test("built -> archived and frozen -> archived; running is refused with a hint to stop it", () => {
    const store = tempDir("store");
    const a = kJson<{ env_id: string; short_id: string }>(store, ["build", "--name", "old"], { cwd: project({ packages: ["a"] }) });
    const b = kJson<{ env_id: string; short_id: string }>(store, ["build"], { cwd: project({ packages: ["b"] }) });
    expect(k(store, ["archive", "old"])).toEqual({ code: 0, stdout: `archived environment 'old' (${a.short_id})\n`, stderr: "" });
    kJson(store, ["freeze", b.short_id]);
    expect(kJson(store, ["archive", b.short_id])).toMatchObject({ env_id: b.env_id, state: "Archived", status: "archived" });

    const again = k(store, ["archive", "old"]);
    expect(errorLines(again).error).toBe("error: cannot move environment old from archived to archived: from archived it can only go to built");

    const s = openStore(store);
    s.metadata.put({ ...s.metadata.get(a.env_id), state: "Running" });
    s.close();
    const running = k(store, ["archive", "old"]);
    expect(running.code).toBe(1);
    expect(errorLines(running)).toEqual({
      error: "error: cannot move environment old from running to archived: from running it can only go to built, frozen",
      hint: "hint: stop it first ('karapace stop old')",
    });
  });

  test("gc keeps an archived environment even with no references", () => {
    const store = tempDir("store");
    const a = kJson<{ env_id: string }>(store, ["build"], { cwd: project({ packages: ["keep"] }) });
    kJson(store, ["archive", a.env_id]);
    const s = openStore(store);
    s.metadata.put({ ...s.metadata.get(a.env_id), ref_count: 0 });
    s.close();
    expect(kJson<{ removed_envs: number; removed_objects: number }>(store, ["gc"])).toMatchObject({ removed_envs: 0, removed_objects: 0 });
    expect(listEnvs(store).map((e) => [e.env_id, e.state])).toEqual([[a.env_id, "Archived"]]);
  });
});
