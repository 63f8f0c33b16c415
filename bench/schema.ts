/**
 * `bun run bench schema`: parse + validate + normalize + lock + identity of a
 * karapace.toml with 1,000 packages, in a child process (bench/schema-worker.ts).
 * Reported: the median over warm runs (the target, < 5 ms), the first run in a
 * fresh process (JIT cold, WASM instantiated on first hash), and the import
 * time of the schema modules.
 */
import { join } from "node:path";
import { type Benchmark, type BenchContext, type BenchRecord, repoRoot, round, runChild } from "./lib.ts";

const PACKAGES = 1000;

interface WorkerResult {
  import_ms: number;
  first_ms: number;
  median_ms: number;
  p95_ms: number;
  packages: number;
}

function parseResult(stdout: string): WorkerResult {
  const value: unknown = JSON.parse(stdout);
  const fields = ["import_ms", "first_ms", "median_ms", "p95_ms", "packages"] as const;
  if (typeof value !== "object" || value === null || !fields.every((f) => typeof (value as Record<string, unknown>)[f] === "number")) {
    throw new Error(`schema worker: unexpected output ${stdout.trim()}`);
  }
  return value as WorkerResult;
}

export const schema: Benchmark = {
  name: "schema",
  summary: `parse + validate + normalize + lock + identity of a manifest with ${PACKAGES} packages (warm median, first run, import)`,
  targets: { "schema-1000": { field: "value", op: "<=", limit: 5 } },
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const iterations = (ctx.runs ?? 3) * 100;
    ctx.log(`schema: ${PACKAGES} packages, ${iterations} warm iterations after one cold run`);
    const { stdout } = await runChild([process.execPath, join(repoRoot, "bench", "schema-worker.ts"), String(PACKAGES), String(iterations)]);
    const result = parseResult(stdout);
    if (result.packages !== PACKAGES) throw new Error(`schema worker locked ${result.packages} packages, expected ${PACKAGES}`);
    ctx.log(`schema: p95 ${round(result.p95_ms)} ms`);
    return [
      { name: "schema-1000", value: round(result.median_ms), unit: "ms" },
      { name: "schema-1000-first", value: round(result.first_ms), unit: "ms" },
      { name: "schema-import", value: round(result.import_ms), unit: "ms" },
    ];
  },
};
