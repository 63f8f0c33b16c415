/** The benchmarks `bun run bench` knows; docs/benchmarks.md describes each and its target. */
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { debianRootfs } from "../tests/support/fixtures.ts";
import { requireTool } from "../tests/support/prereq.ts";
import { schema } from "./schema.ts";
import {
  type Benchmark,
  type BenchContext,
  type BenchRecord,
  chunksOf,
  compare,
  GiB,
  MiB,
  median,
  pseudoRandom,
  repoRoot,
  round,
  runChild,
  timeBoth,
} from "./lib.ts";

const bun = process.execPath;
const worker = (name: string): string => join(repoRoot, "bench", "workers", name);

function parseJson(text: string, what: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null) throw new Error(`${what}: expected a JSON object, got ${text.trim()}`);
  return value as Record<string, unknown>;
}

const HASH_BYTES = GiB;
const CHUNK_BYTES = 16 * MiB;
const mbPerSecond = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

const blake3: Benchmark = {
  name: "blake3",
  summary: "BLAKE3 throughput on 1 GiB: our WASM vs hash-wasm in memory, and hashFile vs b3sum --num-threads 1 on a file",
  targets: { blake3: { field: "ratio", op: ">=", limit: 2.0 } },
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const runs = ctx.runs ?? 3;
    const inMemory = async (impl: string): Promise<{ mbps: number; digest: string }> => {
      ctx.log(`blake3: ${impl}, ${runs} x 1 GiB in memory`);
      const { stdout } = await runChild([bun, worker("blake3-memory.ts"), impl, String(HASH_BYTES), String(CHUNK_BYTES), String(runs)]);
      const result = parseJson(stdout, "blake3-memory worker");
      const ms = result.ms;
      if (!Array.isArray(ms) || !ms.every((m): m is number => typeof m === "number") || typeof result.digest !== "string") {
        throw new Error(`blake3-memory worker: unexpected output ${stdout.trim()}`);
      }
      return { mbps: mbPerSecond(HASH_BYTES, median(ms)), digest: result.digest };
    };
    const ours = await inMemory("ours");
    const peer = await inMemory("hash-wasm");
    if (ours.digest !== peer.digest) throw new Error(`blake3 digests differ: ours ${ours.digest}, hash-wasm ${peer.digest}`);

    const b3sum = requireTool("b3sum");
    const file = join(ctx.workDir, "blake3-input");
    ctx.log(`blake3: writing the same 1 GiB to ${file}`);
    const fd = openSync(file, "w");
    try {
      for (const chunk of chunksOf(pseudoRandom(CHUNK_BYTES), HASH_BYTES)) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
    ctx.log(`blake3: hashFile vs b3sum --num-threads 1, warm cache, ${runs} runs each`);
    const timed = await timeBoth({
      ours: [bun, worker("hash-file.ts"), file],
      peer: [b3sum, "--num-threads", "1", "--no-names", file],
      runs,
    });
    for (const side of [timed.ours, timed.peer]) {
      if (side.last.stdout.trim() !== ours.digest) throw new Error(`file digest ${side.last.stdout.trim()} != in-memory digest ${ours.digest}`);
    }
    return [
      compare("blake3", "MB/s", ours.mbps, "hash-wasm createBLAKE3", peer.mbps),
      compare("blake3-file", "MB/s", mbPerSecond(HASH_BYTES, timed.ours.medianMs), "b3sum --num-threads 1", mbPerSecond(HASH_BYTES, timed.peer.medianMs)),
    ];
  },
};

const TAR = "tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . | b3sum";
const TAR_TO_FILE =
  "rm -f $OUT && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . | tee $OUT | b3sum && sync $OUT";

const pack: Benchmark = {
  name: "pack",
  summary: `packTree(Debian minbase rootfs) wall time vs '${TAR}', and our peak RSS`,
  targets: {
    pack: { field: "ratio", op: "<=", limit: 1.5 },
    "pack-rss": { field: "value", op: "<=", limit: 96 },
  },
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    requireTool("tar");
    requireTool("b3sum");
    const rootfs = await debianRootfs();
    const runs = ctx.runs ?? 3;
    ctx.log(`pack: ${rootfs}, ${runs} runs each after a warm-up`);
    const timed = await timeBoth({
      ours: [bun, worker("pack.ts"), rootfs, join(ctx.workDir, "rootfs.tar")],
      peer: ["bash", "-o", "pipefail", "-c", TAR],
      cwd: rootfs,
      runs,
    });
    ctx.log(`pack: ours ${timed.ours.last.stdout.trim()}`);
    // For information: the peer writes no archive. This one does what packTree
    // does, writing the tar to a file and making it durable, so the two compare like for like.
    ctx.log(`pack: also vs '${TAR_TO_FILE}', ${runs} runs each`);
    const toFile = await timeBoth({
      ours: [bun, worker("pack.ts"), rootfs, join(ctx.workDir, "rootfs-b.tar")],
      peer: ["bash", "-o", "pipefail", "-c", TAR_TO_FILE.replaceAll("$OUT", join(ctx.workDir, "peer.tar"))],
      cwd: rootfs,
      runs,
    });
    return [
      compare("pack", "ms", timed.ours.medianMs, "tar | b3sum", timed.peer.medianMs),
      { name: "pack-rss", value: round(timed.ours.peakRssBytes / MiB, 1), unit: "MiB" },
      compare("pack-to-file", "ms", toFile.ours.medianMs, "tar | tee file | b3sum; sync file", toFile.peer.medianMs),
    ];
  },
};

const FIND = "find . -type f -print0 | xargs -0 b3sum > /dev/null";

const digest: Benchmark = {
  name: "digest",
  summary: `digestTree(Debian minbase rootfs) wall time vs '${FIND}'`,
  targets: { digest: { field: "ratio", op: "<=", limit: 1.0 } },
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    requireTool("b3sum");
    const rootfs = await debianRootfs();
    const runs = ctx.runs ?? 3;
    ctx.log(`digest: ${rootfs}, ${runs} runs each after a warm-up`);
    const timed = await timeBoth({ ours: [bun, worker("digest.ts"), rootfs], peer: ["bash", "-o", "pipefail", "-c", FIND], cwd: rootfs, runs });
    ctx.log(`digest: ours ${timed.ours.last.stdout.trim()}`);
    return [compare("digest", "ms", timed.ours.medianMs, "find | xargs b3sum", timed.peer.medianMs)];
  },
};

const startup: Benchmark = {
  name: "startup",
  summary: "`karapace --version` wall time (bun bin/karapace.ts, and dist/karapace if built) vs `bun -e 0`",
  targets: {
    startup: { field: "value", op: "<=", limit: 30 },
    "startup-compiled": { field: "value", op: "<=", limit: 30 },
  },
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const runs = ctx.runs ?? 20;
    const entry = join(repoRoot, "bin", "karapace.ts");
    if (!existsSync(entry)) throw new Error(`startup: ${entry} does not exist`);
    const peer = [bun, "-e", "0"];
    ctx.log(`startup: bun bin/karapace.ts --version vs bun -e 0, ${runs} runs each`);
    const script = await timeBoth({ ours: [bun, entry, "--version"], peer, cwd: repoRoot, runs });
    const records = [compare("startup", "ms", script.ours.medianMs, "bun -e 0", script.peer.medianMs)];
    const compiled = join(repoRoot, "dist", "karapace");
    if (existsSync(compiled)) {
      ctx.log(`startup: dist/karapace --version vs bun -e 0, ${runs} runs each`);
      const binary = await timeBoth({ ours: [compiled, "--version"], peer, cwd: repoRoot, runs });
      records.push(compare("startup-compiled", "ms", binary.ours.medianMs, "bun -e 0", binary.peer.medianMs));
    }
    return records;
  },
};

export const BENCHMARKS: readonly Benchmark[] = [blake3, pack, digest, startup, schema];
