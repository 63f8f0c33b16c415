/** `karapace freeze`: allowed from built and running, refused elsewhere with the current and allowed states. */
import { afterAll, describe, expect, test } from "bun:test";
import { openStore } from "../../src/store/index.ts";
import { cleanupTemp, errorLines, k, kJson, listEnvs, project, tempDir } from "../engine/helpers.ts";

afterAll(cleanupTemp);

function setState(store: string, envId: string, state: "Running" | "Built" | "Defined"): void {
  const s = openStore(store);
  s.metadata.put({ ...s.metadata.get(envId), state });
  s.close();
}

describe("karapace freeze", () => {
  test("built -> frozen, running -> frozen; frozen, archived and defined are refused", () => {
    const store = tempDir("store");
    const env = kJson<{ env_id: string; short_id: string }>(store, ["build", "--name", "ice"], { cwd: project({ packages: ["a"] }) });
    const r = k(store, ["freeze", "ice"]);
    expect(r).toEqual({ code: 0, stdout: `frozen environment 'ice' (${env.short_id})\n`, stderr: "" });
    expect(listEnvs(store)[0]?.state).toBe("Frozen");

    const again = k(store, ["freeze", "ice"]);
    expect(again.code).toBe(1);
    expect(errorLines(again)).toEqual({
      error: "error: cannot move environment ice from frozen to frozen: from frozen it can only go to built, archived",
      hint: "hint: it is already frozen; 'karapace inspect ice' shows its state",
    });

    setState(store, env.env_id, "Running");
    expect(kJson(store, ["freeze", env.short_id])).toMatchObject({ state: "Frozen", status: "frozen" });

    kJson(store, ["archive", "ice"]);
    const archived = k(store, ["freeze", "ice"]);
    expect(errorLines(archived).error).toBe("error: cannot move environment ice from archived to frozen: from archived it can only go to built");

    setState(store, env.env_id, "Defined");
    const defined = k(store, ["freeze", "ice"]);
    expect(errorLines(defined)).toEqual({
      error: "error: cannot move environment ice from defined to frozen: from defined it can only go to built",
      hint: "hint: build it first ('karapace build')",
    });
    expect(listEnvs(store)[0]?.state).toBe("Defined");
  });

  test("an unknown environment exits 1", () => {
    const store = tempDir("store");
    kJson(store, ["build"], { cwd: project() });
    expect(errorLines(k(store, ["freeze", "ghost"])).error).toBe("error: no environment matching 'ghost'");
  });
});
