/** `karapace verify-store`: the report, exit codes, missing items, and a progress bar only on a terminal. */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { BIN, requireTool } from "./helpers.ts";
import { cleanupTemp, errorLines, k, kJson, listEnvs, project, tempDir } from "../engine/helpers.ts";

afterAll(cleanupTemp);

interface Report {
  ok: boolean;
  checked: number;
  passed: number;
  objects: { checked: number; passed: number; bytes: number };
  layers: { checked: number; passed: number };
  metadata: { checked: number; passed: number };
  failed: { kind: string; id: string; reason: string }[];
  missing: { kind: string; id: string; referenced_by: string }[];
}

describe("karapace verify-store", () => {
  test("a healthy store: exit 0, everything counted, nothing on stderr when it is not a terminal", () => {
    const store = tempDir("store");
    for (const p of ["a", "b"]) kJson(store, ["build"], { cwd: project({ packages: [p] }) });
    const r = k(store, ["verify-store"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^objects: {2}4\/4 ok \(\d+(\.\d)? (B|KiB)\)\nlayers: {3}2\/2 ok\nmetadata: 2\/2 ok\n$/);
    const json = kJson<Report>(store, ["verify-store", "--workers", "2"]);
    expect(json).toMatchObject({ ok: true, checked: 8, passed: 8, failed: [], missing: [] });
  });

  test("what an environment references but the store lacks is named, exit 3", () => {
    const store = tempDir("store");
    const a = kJson<{ env_id: string }>(store, ["build"], { cwd: project({ packages: ["a"] }) });
    const meta = listEnvs(store)[0];
    rmSync(join(store, "store", "layers", meta?.base_layer ?? ""));
    const r = k(store, ["verify-store", "--json"]);
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.ok).toBe(false);
    expect(report.failed).toEqual([]);
    expect(report.missing).toEqual([{ kind: "layer", id: meta?.base_layer ?? "", referenced_by: `environment ${a.env_id}` }]);
    expect(errorLines(r).error).toBe("error: the store has 1 missing item(s)");
    expect(k(store, ["verify-store"]).stdout).toContain(`MISSING layer ${meta?.base_layer} (referenced by environment ${a.env_id})`);
  });

  test("no store is a store error (exit 3); a bad --workers is a usage error (exit 2)", () => {
    expect(k(tempDir("nostore"), ["verify-store"]).code).toBe(3);
    expect(k(tempDir("store"), ["verify-store", "--workers", "many"]).code).toBe(2);
  });

  test("on a terminal, a progress bar is drawn on stderr and cleared", () => {
    const store = tempDir("store");
    kJson(store, ["build"], { cwd: project({ packages: ["a"] }) });
    const script = requireTool("script");
    const cmd = `${process.execPath} ${BIN} --store ${store} verify-store 2>&1 >/dev/null`;
    const r = Bun.spawnSync([script, "-qec", cmd, "/dev/null"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    const tty = r.stdout.toString();
    expect(r.exitCode).toBe(0);
    expect(tty).toContain("verifying objects  [");
    expect(tty).toContain("verifying metadata [########################] 1/1");
    expect(tty.endsWith("\r\x1b[K")).toBe(true);
  });
});
