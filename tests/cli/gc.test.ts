/** `karapace gc`: dry run, the real run, what it freed, a missing store, and SIGINT stopping it safely. */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { blake3Hex } from "../../wasm/blake3.ts";
import { BIN } from "./helpers.ts";
import { cleanupTemp, k, kJson, listEnvs, project, tempDir } from "../engine/helpers.ts";

afterAll(cleanupTemp);

interface Report {
  dry_run: boolean;
  cancelled: boolean;
  orphaned_layers: string[];
  orphaned_objects: string[];
  removed_layers: number;
  removed_objects: number;
  freed_bytes: number;
}

describe("karapace gc", () => {
  test("--dry-run lists what a destroyed environment left and removes nothing; gc then removes exactly that", () => {
    const store = tempDir("store");
    const gone = kJson<{ env_id: string }>(store, ["build"], { cwd: project({ packages: ["gone"] }) });
    const kept = kJson<{ env_id: string }>(store, ["build"], { cwd: project({ packages: ["kept"] }) });
    const gcMeta = listEnvs(store).find((e) => e.env_id === gone.env_id);
    if (gcMeta === undefined) throw new Error("the built environment is not listed");
    k(store, ["destroy", gone.env_id]);
    const objects = (): string[] => readdirSync(join(store, "store", "objects")).sort();
    const before = objects();

    const dry = kJson<Report>(store, ["gc", "--dry-run"]);
    expect(dry.dry_run).toBe(true);
    expect(dry.orphaned_layers).toEqual([gcMeta.base_layer]);
    expect(dry.orphaned_objects).toContain(gcMeta.manifest_hash);
    expect(dry.orphaned_objects.length).toBe(2);
    expect(dry.freed_bytes).toBeGreaterThan(0);
    expect(objects()).toEqual(before);
    const human = k(store, ["gc", "--dry-run"]).stdout;
    expect(human).toContain("gc: would remove 0 environments, 0 orphan env dirs, 1 layers, 2 objects, 0 temp files");
    expect(human).toContain(`  layer       ${gcMeta.base_layer}\n`);

    const real = kJson<Report>(store, ["gc"]);
    expect(real).toMatchObject({ dry_run: false, cancelled: false, removed_layers: 1, removed_objects: 2, freed_bytes: dry.freed_bytes });
    expect(objects()).toEqual(before.filter((h) => !dry.orphaned_objects.includes(h)));
    expect(listEnvs(store).map((e) => e.env_id)).toEqual([kept.env_id]);
    expect(k(store, ["verify-store"]).code).toBe(0);
    expect(k(store, ["gc"]).stdout).toBe("gc: removed 0 environments, 0 orphan env dirs, 0 layers, 0 objects, 0 temp files (0 B)\n");
  });

  test("no store: nothing to do", () => {
    expect(kJson<Report>(tempDir("nostore"), ["gc"])).toMatchObject({ removed_objects: 0, cancelled: false });
  });

  test("SIGINT stops it between two deletions: it reports what it removed, exits 1, the store verifies, the next gc finishes", async () => {
    const store = tempDir("store");
    kJson(store, ["build"], { cwd: project({ packages: ["live"] }) });
    // Garbage objects written straight under their hash (set-up, so no fsync).
    const garbage = 20_000;
    for (let i = 0; i < garbage; i++) {
      const bytes = new TextEncoder().encode(`garbage ${i}`);
      writeFileSync(join(store, "store", "objects", blake3Hex(bytes)), bytes, { mode: 0o444 });
    }
    const count = (): number => readdirSync(join(store, "store", "objects")).length;
    const total = count();
    const proc = Bun.spawn([process.execPath, BIN, "--store", store, "gc", "--json"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    // Interrupt once deletion is under way.
    const deadline = Date.now() + 20_000;
    while (count() > total - 50 && Date.now() < deadline) await Bun.sleep(2);
    proc.kill("SIGINT");
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect(code).toBe(1);
    const report = JSON.parse(out) as Report;
    expect(report.cancelled).toBe(true);
    expect(report.removed_objects).toBeGreaterThan(0);
    expect(report.removed_objects).toBeLessThan(garbage);
    expect(count()).toBe(total - report.removed_objects);
    expect(err).toContain("SIGINT: stopping at the next safe point");
    expect(err).toContain("error: gc was stopped by a signal before it finished");
    expect(k(store, ["verify-store"]).code).toBe(0);
    expect(kJson<Report>(store, ["gc"]).removed_objects).toBe(garbage - report.removed_objects);
    expect(count()).toBe(total - garbage);
  }, 60_000);
});
