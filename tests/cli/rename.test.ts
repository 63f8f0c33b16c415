/** `karapace rename`: name rules, uniqueness, and a second writer waiting for the store lock says who holds it. */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanupTemp, errorLines, k, kJson, listEnvs, project, repoRoot, tempDir } from "../engine/helpers.ts";
import { BIN } from "./helpers.ts";
import { waitForLine } from "../store/helpers.ts";

afterAll(cleanupTemp);

describe("karapace rename", () => {
  const store = tempDir("store");
  const a = kJson<{ env_id: string; short_id: string }>(store, ["build", "--name", "one"], { cwd: project({ packages: ["a"] }) });
  const b = kJson<{ env_id: string; short_id: string }>(store, ["build", "--name", "two"], { cwd: project({ packages: ["b"] }) });

  test("renames; the new name addresses it; the same name again changes nothing", () => {
    const r = k(store, ["rename", "one", "uno"]);
    expect(r).toEqual({ code: 0, stdout: `renamed ${a.short_id} 'one' -> 'uno'\n`, stderr: "" });
    expect(kJson<{ env_id: string }>(store, ["inspect", "uno"]).env_id).toBe(a.env_id);
    expect(k(store, ["inspect", "one"]).code).toBe(1);
    expect(kJson(store, ["rename", "uno", "uno"])).toMatchObject({ changed: false, name: "uno" });
    const max = "x".repeat(64);
    expect(kJson(store, ["rename", a.short_id, max])).toMatchObject({ name: max, previous_name: "uno", changed: true });
    kJson(store, ["rename", a.env_id, "one"]);
  });

  test("malformed names and taken names are refused (exit 3) and change nothing", () => {
    for (const [name, why] of [
      ["", "it must be 1-64 characters"],
      ["x".repeat(65), "it must be 1-64 characters"],
      ["with space", "only letters, digits, '_' and '-' are allowed"],
      ["dot.name", "only letters, digits, '_' and '-' are allowed"],
      ["ünï", "only letters, digits, '_' and '-' are allowed"],
    ] as const) {
      const r = k(store, ["rename", "one", name]);
      expect({ name, code: r.code, error: errorLines(r).error }).toEqual({ name, code: 3, error: `error: invalid environment name '${name}': ${why}` });
    }
    const taken = k(store, ["rename", "one", "two"]);
    expect(taken.code).toBe(3);
    expect(errorLines(taken)).toEqual({ error: `error: name 'two' is already used by environment ${b.short_id}`, hint: "hint: pick another name, or rename that environment first" });
    expect(listEnvs(store).map((e) => e.name).sort()).toEqual(["one", "two"]);
  });

  test("a second writer waits for the lock, says who holds it (pid, command), then finishes", async () => {
    const holder = Bun.spawn([process.execPath, join(repoRoot, "tests/store/children/hold-lock.ts"), store, "karapace build (test holder)"], { stdout: "pipe", stderr: "pipe" });
    try {
      await waitForLine(holder.stdout, (l) => l.startsWith("locked "));
      const renamer = Bun.spawn([process.execPath, BIN, "--store", store, "rename", "two", "deux"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
      const line = await waitForLine(renamer.stderr, (l) => l.includes("waiting for the store lock"));
      expect(line).toMatch(new RegExp(`^waiting for the store lock, held by pid ${holder.pid} \\(karapace build \\(test holder\\), since \\d{4}-`));
      await Bun.sleep(200);
      expect(renamer.exitCode).toBeNull();
      holder.kill("SIGTERM");
      expect(await renamer.exited).toBe(0);
      expect(await new Response(renamer.stdout).text()).toBe(`renamed ${b.short_id} 'two' -> 'deux'\n`);
    } finally {
      holder.kill("SIGKILL");
    }
    expect(listEnvs(store).map((e) => e.name).sort()).toEqual(["deux", "one"]);
  });
});
