/**
 * The `store` benchmark: verify-store throughput over a store of about 2 GB
 * in about 10,000 objects, against multithreaded b3sum over the same files
 * and against a single-threaded hash-wasm loop.
 *
 * Size and count come from KARAPACE_BENCH_STORE_BYTES and
 * KARAPACE_BENCH_STORE_OBJECTS (defaults 2 GiB and 10,000). The objects are
 * generated into the benchmark's scratch directory: pseudo-random bytes,
 * hashed with our BLAKE3 and written under their hash without fsync (it is
 * set-up, not the thing measured). All three sides then read the same files
 * from a warm page cache.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { requireTool } from "../tests/support/prereq.ts";
import { blake3Hex } from "../wasm/index.ts";
import { openStore } from "../src/store/index.ts";
import { type Benchmark, type BenchContext, type BenchRecord, compare, GiB, MiB, pseudoRandom, repoRoot, runChild, timeBoth } from "./lib.ts";

const bun = process.execPath;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}

/** Writes `count` objects totalling about `total` bytes (sizes spread 0.5x..1.5x the mean); returns the bytes written. */
function generate(objectsDir: string, total: number, count: number, log: (m: string) => void): number {
  const mean = Math.max(1, Math.floor(total / count));
  const block = pseudoRandom(Math.ceil(mean * 1.5) + 8, 0xc0ffee);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  let written = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    // Deterministic sizes; the stamp makes every object distinct.
    const size = Math.max(8, Math.floor(mean * (0.5 + ((i * 2654435761) % 1000) / 1000)));
    view.setUint32(0, i, true);
    const data = block.subarray(0, size);
    const fd = openSync(join(objectsDir, blake3Hex(data)), "wx", 0o444);
    try {
      let off = 0;
      while (off < size) off += writeSync(fd, data, off, size - off);
    } finally {
      closeSync(fd);
    }
    written += size;
    if (i % 2000 === 1999) log(`store: generated ${i + 1}/${count} objects, ${(written / 1e9).toFixed(2)} GB`);
  }
  log(`store: generated ${count} objects, ${(written / 1e9).toFixed(2)} GB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return written;
}

function parse(stdout: string, what: string): Record<string, unknown> {
  const value: unknown = JSON.parse(stdout);
  if (typeof value !== "object" || value === null) throw new Error(`${what}: unexpected output ${stdout.trim()}`);
  return value as Record<string, unknown>;
}

export const storeBenchmark: Benchmark = {
  name: "store",
  summary: "verify-store MB/s on ~2 GB in ~10,000 objects (KARAPACE_BENCH_STORE_BYTES/_OBJECTS) vs b3sum (multithreaded) and a 1-thread hash-wasm loop",
  targets: {
    "store-verify": { field: "ratio", op: ">=", limit: 0.5 },
    "store-verify-hashwasm": { field: "ratio", op: ">=", limit: 3.0 },
  },
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const b3sum = requireTool("b3sum");
    requireTool("xargs");
    const total = positiveInt("KARAPACE_BENCH_STORE_BYTES", 2 * GiB);
    const count = positiveInt("KARAPACE_BENCH_STORE_OBJECTS", 10_000);
    const runs = ctx.runs ?? 3;
    const root = join(ctx.workDir, "store");
    const store = openStore(root, { create: true });
    const objectsDir = store.objects.dir;
    store.close();
    ctx.log(`store: generating ${count} objects, ${(total / MiB).toFixed(0)} MiB (set KARAPACE_BENCH_STORE_BYTES / _OBJECTS to change)`);
    const bytes = generate(objectsDir, total, count, ctx.log);
    const cores = availableParallelism();
    const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);

    ctx.log(`store: verify-store (${cores} hash workers) vs b3sum over the same files, ${runs} runs each after a warm-up`);
    const vsB3sum = await timeBoth({
      ours: [bun, join(repoRoot, "bench", "store-verify.ts"), root],
      // b3sum's own multithreading (default: one thread per core), file names from find.
      peer: ["bash", "-o", "pipefail", "-c", `find . -type f -name '[0-9a-f]*' -print0 | xargs -0 ${b3sum} > /dev/null`],
      cwd: objectsDir,
      runs,
    });
    const ours = parse(vsB3sum.ours.last.stdout, "store-verify");
    if (ours.ok !== true || ours.objects !== count || ours.bytes !== bytes) throw new Error(`verify-store did not check the store cleanly: ${vsB3sum.ours.last.stdout.trim()}`);

    ctx.log(`store: single-threaded hash-wasm loop, ${runs} runs`);
    const hw: number[] = [];
    for (let i = 0; i < runs; i++) {
      const run = await runChild([bun, join(repoRoot, "bench", "store-hashwasm.ts"), objectsDir]);
      const out = parse(run.stdout, "store-hashwasm");
      if (out.bad !== 0 || out.objects !== count) throw new Error(`hash-wasm loop disagrees: ${run.stdout.trim()}`);
      hw.push(run.wallMs);
    }
    hw.sort((a, b) => a - b);
    const hwMedian = hw[Math.floor(hw.length / 2)] as number;
    const label = `${(bytes / 1e9).toFixed(2)} GB / ${count} objects`;
    ctx.log(`store: ${label}: ours ${vsB3sum.ours.medianMs.toFixed(0)} ms, b3sum ${vsB3sum.peer.medianMs.toFixed(0)} ms, hash-wasm ${hwMedian.toFixed(0)} ms`);
    return [
      compare("store-verify", "MB/s", mbps(vsB3sum.ours.medianMs), `b3sum, ${cores} threads (${label})`, mbps(vsB3sum.peer.medianMs)),
      compare("store-verify-hashwasm", "MB/s", mbps(vsB3sum.ours.medianMs), `hash-wasm, 1 thread (${label})`, mbps(hwMedian)),
    ];
  },
};
