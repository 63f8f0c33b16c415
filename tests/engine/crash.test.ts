/**
 * Crash injection through the Engine: a child process builds, rebuilds,
 * destroys, renames, freezes, archives and garbage-collects environments on
 * one store in a loop and is SIGKILLed at a random moment, 200 times over
 * (two stores side by side, 100 kills each). After every kill the next open
 * must recover through the WAL, and then:
 * - the WAL is empty and no rollback failed;
 * - no temp file, staging entry or stray directory is left;
 * - every environment is either complete (row, directory with what the mock
 *   installed, manifest object, base layer and its tar) or absent (neither
 *   row nor directory), and none is stuck Running;
 * - verify-store finds nothing damaged or missing.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openStore, verifyStore } from "../../src/store/index.ts";
import type { NormalizedManifest } from "../../src/schema/types.ts";
import { collectingLogger, waitForLine } from "../store/helpers.ts";
import { cleanupTemp, repoRoot, tempDir } from "./helpers.ts";

const LANES = 2;
const TRIALS_PER_LANE = 100;
const FOCUSED = ["rename", "destroy", "gc"] as const;

interface LaneStats {
  trials: number;
  opsStarted: number;
  rolledBack: number;
  rolledBackKinds: Map<string, number>;
  swept: number;
  inFlight: Map<string, number>;
  lastSteps: Set<string>;
}

function tally(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

function mergeTallies(all: readonly Map<string, number>[]): Map<string, number> {
  const merged = new Map<string, number>();
  for (const counts of all) for (const [k, v] of counts) tally(merged, k, v);
  return merged;
}

async function consistent(root: string, trial: string, stats: LaneStats): Promise<void> {
  const logger = collectingLogger();
  const store = openStore(root, { logger });
  try {
    const recovery = store.openRecovery;
    // Opening recovers only when the crash left a sign of itself (owner record, WAL entry, temp file);
    // a store without one must really have nothing to undo.
    if (recovery === undefined) expect({ trial, signs: store.mayNeedRecovery() }).toEqual({ trial, signs: false });
    expect({ trial, failed: recovery?.wal.failed ?? [], corrupt: recovery?.wal.corrupt_removed ?? [] }).toEqual({ trial, failed: [], corrupt: [] });
    stats.rolledBack += recovery?.wal.rolled_back.length ?? 0;
    for (const r of recovery?.wal.rolled_back ?? []) tally(stats.rolledBackKinds, r.kind);
    stats.swept += recovery?.swept.length ?? 0;
    expect({ trial, wal: store.wal.count() }).toEqual({ trial, wal: 0 });

    const temps = [store.objects.dir, store.layers.dir, store.layout.storeDir].flatMap((d) => readdirSync(d).filter((n) => n.startsWith(".tmp")));
    expect({ trial, temps, staging: readdirSync(store.layout.stagingDir) }).toEqual({ trial, temps: [], staging: [] });

    const envs = store.metadata.list();
    expect({ trial, dirs: readdirSync(store.layout.envDir).sort() }).toEqual({ trial, dirs: envs.map((m) => m.env_id).sort() });
    for (const m of envs) {
      const manifest = JSON.parse(new TextDecoder().decode(store.objects.get(m.manifest_hash))) as NormalizedManifest;
      const layer = store.layers.get(m.base_layer);
      const upper = store.layout.upperDir(m.env_id);
      const files = readdirSync(upper).sort();
      const expected = [".karapace-mock", ".mock-payload", ...manifest.system_packages.map((p) => `.pkg-${p}`)].sort();
      expect({ trial, env: m.env_id, state: m.state === "Running", tar: store.objects.has(layer.tar_hash), files }).toEqual({
        trial,
        env: m.env_id,
        state: false,
        tar: true,
        files: expected,
      });
      expect(readFileSync(join(upper, ".karapace-mock"), "utf8")).toBe(`mock-env:${m.env_id}`);
      for (const sub of ["work", "merged"]) expect(existsSync(join(store.layout.envPath(m.env_id), sub))).toBe(true);
    }
    const verify = await verifyStore(store, { workers: 0 });
    expect({ trial, failed: verify.failed, missing: verify.missing }).toEqual({ trial, failed: [], missing: [] });
    expect({ trial, warnings: logger.warnings }).toEqual({ trial, warnings: [] });
  } finally {
    store.close();
  }
}

async function lane(index: number): Promise<LaneStats> {
  const root = tempDir(`crash-${index}`);
  const projects = tempDir(`crash-projects-${index}`);
  for (let p = 0; p < 4; p++) mkdirSync(join(projects, `p${p}`));
  const stats: LaneStats = { trials: 0, opsStarted: 0, rolledBack: 0, rolledBackKinds: new Map(), swept: 0, inFlight: new Map(), lastSteps: new Set() };
  for (let t = 0; t < TRIALS_PER_LANE; t++) {
    const trial = `${index}.${t}`;
    // Every tenth trial focuses on a quick operation, so kills land inside each kind, not only the long builds.
    const focus = t % 10 === 5 ? FOCUSED[Math.floor(t / 10) % FOCUSED.length] : undefined;
    const args = [root, projects, String(index * 100_003 + t * 7919 + 1), ...(focus === undefined ? [] : [focus])];
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "children", "crash-engine.ts"), ...args], {
      cwd: repoRoot,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, KARAPACE_MOCK_PAYLOAD_BYTES: "65536" },
    });
    const [forReady, forLog] = proc.stdout.tee();
    await waitForLine(forReady, (l) => l === "ready", 20_000);
    await Bun.sleep(Math.random() * 120);
    proc.kill("SIGKILL");
    const [, log, err] = await Promise.all([proc.exited, new Response(forLog).text(), new Response(proc.stderr).text()]);
    expect({ trial, signal: proc.signalCode, err }).toEqual({ trial, signal: "SIGKILL", err: "" });
    const lines = log.split("\n");
    const ops = lines.filter((l) => l.startsWith("op "));
    stats.opsStarted += ops.length;
    const last = ops.at(-1)?.slice(3) ?? "(none)";
    tally(stats.inFlight, last);
    const lastLine = lines.filter((l) => l !== "").at(-1) ?? "";
    if (lastLine.startsWith("step ")) stats.lastSteps.add(lastLine.replace(/[0-9a-f]{12}/g, "<id>"));
    await consistent(root, trial, stats);
    stats.trials++;
  }
  return stats;
}

test(`${LANES * TRIALS_PER_LANE} SIGKILLs at random points in Engine operations: every reopen recovers to complete-or-absent environments and a clean store`, async () => {
  const started = performance.now();
  try {
    const lanes = await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i)));
    const inFlight = mergeTallies(lanes.map((l) => l.inFlight));
    const total = (f: (l: LaneStats) => number): number => lanes.reduce((n, l) => n + f(l), 0);
    const kinds = mergeTallies(lanes.map((l) => l.rolledBackKinds));
    const steps = new Set(lanes.flatMap((l) => [...l.lastSteps]));
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(
      `engine crash injection: ${total((l) => l.trials)} kills in ${seconds.toFixed(1)} s, ${total((l) => l.opsStarted)} operations started, ` +
        `${total((l) => l.rolledBack)} WAL entries recovered (${JSON.stringify(Object.fromEntries(kinds))}), ${total((l) => l.swept)} temp files swept; ` +
        `in flight at the kill: ${JSON.stringify(Object.fromEntries(inFlight))}; last step seen: ${[...steps].join(" | ")}\n`,
    );
    expect(total((l) => l.trials)).toBe(LANES * TRIALS_PER_LANE);
    // The kills landed inside real work of every kind the issue names, and recovery had work to do.
    for (const op of ["build", "rebuild", "destroy", "rename", "gc"]) expect({ op, hit: (inFlight.get(op) ?? 0) > 0 }).toEqual({ op, hit: true });
    expect(total((l) => l.rolledBack)).toBeGreaterThan(10);
    expect(kinds.has("Build") || kinds.has("Rebuild")).toBe(true);
    expect(kinds.has("Destroy")).toBe(true);
    expect(seconds).toBeLessThan(120);
  } finally {
    cleanupTemp();
  }
}, 300_000);
