/**
 * The `engine` benchmark: `karapace list --json` on a store holding 1,000
 * environments, wall time from spawn to exit (the CLI's start-up included,
 * as a user or script sees it), against `bun -e 0`.
 *
 * The store is made through the Engine and the store API: one environment is
 * built for real (mock backend), then 999 more metadata rows pointing at its
 * manifest object and layer are written in one transaction, so every row has
 * a real checksum that `list` verifies. KARAPACE_BENCH_ENVS changes the count.
 */
import { existsSync } from "node:fs";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../src/engine/index.ts";
import { blake3Hex } from "../wasm/blake3.ts";
import { type Benchmark, type BenchContext, type BenchRecord, compare, repoRoot, timeBoth } from "./lib.ts";

const bun = process.execPath;

function envCount(): number {
  const raw = process.env.KARAPACE_BENCH_ENVS;
  if (raw === undefined || raw === "") return 1000;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`KARAPACE_BENCH_ENVS must be a positive integer, got '${raw}'`);
  return n;
}

/** A store with `count` environments; returns its root. */
export async function storeWithEnvironments(workDir: string, count: number): Promise<string> {
  const root = join(workDir, "store");
  const project = join(workDir, "project");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "karapace.toml"), 'manifest_version = 1\n[base]\nimage = "debian/bookworm"\n[system]\npackages = ["git"]\n[runtime]\nbackend = "mock"\n');
  const engine = new Engine({ root });
  try {
    const first = await engine.build(join(project, "karapace.toml"), { name: "env-0" });
    const store = engine.store();
    const template = first.metadata;
    store.db.transaction(() => {
      for (let i = 1; i < count; i++) {
        const id = blake3Hex(`bench environment ${i}`);
        store.metadata.put({ ...template, env_id: id, short_id: id.slice(0, 12), name: `env-${i}`, state: i % 7 === 0 ? "Frozen" : "Built" });
      }
    })();
  } finally {
    engine.close();
  }
  return root;
}

export const engineBenchmark: Benchmark = {
  name: "engine",
  summary: "`karapace list --json` wall time with 1,000 environments in the store (KARAPACE_BENCH_ENVS) vs `bun -e 0`",
  targets: { "list-json-1000": { field: "value", op: "<=", limit: 50 }, "list-json-1000-compiled": { field: "value", op: "<=", limit: 50 } },
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const runs = ctx.runs ?? 20;
    const count = envCount();
    ctx.log(`engine: creating a store with ${count} environments`);
    const root = await storeWithEnvironments(ctx.workDir, count);
    ctx.log(`engine: karapace list --json vs bun -e 0, ${runs} runs each`);
    const result = await timeBoth({ ours: [bun, join(repoRoot, "bin", "karapace.ts"), "--store", root, "list", "--json"], peer: [bun, "-e", "0"], cwd: repoRoot, runs });
    const listed = JSON.parse(result.ours.last.stdout) as unknown[];
    if (listed.length !== count) throw new Error(`list --json printed ${listed.length} environments, expected ${count}`);
    const name = count === 1000 ? "list-json-1000" : `list-json-${count}`;
    const records = [compare(name, "ms", result.ours.medianMs, "bun -e 0", result.peer.medianMs)];
    // The compiled binary is how users run it: no transpiling, one bundled module graph.
    const compiled = join(repoRoot, "dist", "karapace");
    if (existsSync(compiled)) {
      ctx.log(`engine: ${compiled} list --json, ${runs} runs`);
      const bin = await timeBoth({ ours: [compiled, "--store", root, "list", "--json"], peer: [bun, "-e", "0"], cwd: repoRoot, runs });
      records.push(compare(`${name}-compiled`, "ms", bin.ours.medianMs, "bun -e 0", bin.peer.medianMs));
    }
    return records;
  },
};
