/**
 * The `images` benchmark: preparing the Debian minbase rootfs.tar.xz from the
 * local image server (download, sha256, xz, safe extraction, tree digest),
 * as a child process, against `curl -s URL | xz -d | tar -x` followed by
 * `b3sum` over every file. Both sides start from an empty directory each run
 * (removed untimed). Target: ratio <= 1.3.
 *
 * Also, informational: the decompression engines on the same tar, as .xz
 * (system xz with -T0, as we run it, vs xz's default single thread), .gz and
 * .zst (Bun's DecompressionStream vs the gzip/zstd tools), for docs/images.md.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { debianRootfsTarXz } from "../tests/support/fixtures.ts";
import { requireTool } from "../tests/support/prereq.ts";
import { startImageServer } from "../tests/support/image-server.ts";
import { type Benchmark, type BenchContext, type BenchRecord, compare, median, repoRoot, runChild } from "./lib.ts";

const bun = process.execPath;

async function alternate(runs: number, ours: () => Promise<number>, peer: () => Promise<number>): Promise<{ ours: number; peer: number }> {
  await ours();
  await peer();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await ours());
    b.push(await peer());
  }
  return { ours: median(a), peer: median(b) };
}

async function timed(argv: readonly string[], before?: () => void): Promise<number> {
  before?.();
  return (await runChild(argv, repoRoot)).wallMs;
}

async function sh(script: string): Promise<void> {
  await runChild(["sh", "-c", script]);
}

export const imagesBenchmark: Benchmark = {
  name: "images",
  summary: "prepare the Debian rootfs.tar.xz from a local image server (download+xz+extract+digest) vs curl | xz -d | tar -x + b3sum",
  targets: { "image-prepare-debian": { field: "ratio", op: "<=", limit: 1.3 } },
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const runs = ctx.runs ?? 3;
    for (const tool of ["curl", "xz", "tar", "b3sum", "find", "xargs", "gzip", "zstd"]) requireTool(tool);
    const archive = await debianRootfsTarXz();
    const server = await startImageServer({ images: [{ distro: "debian", release: "bookworm", builds: [{ build: "20260220_04:20", archive }] }] });
    const records: BenchRecord[] = [];
    try {
      const url = server.archiveUrl("debian", "bookworm", "20260220_04:20");
      const store = join(ctx.workDir, "store");
      const out = join(ctx.workDir, "peer");
      ctx.log(`images: prepare vs curl|xz|tar + b3sum, ${runs} runs each`);
      const t = await alternate(
        runs,
        () => timed([bun, join(repoRoot, "bench/workers/image-prepare.ts"), store, url], () => rmSync(store, { recursive: true, force: true })),
        () =>
          timed(["sh", "-c", `mkdir -p '${out}' && curl -s '${url}' | xz -d | tar -x -C '${out}' && cd '${out}' && find . -type f -print0 | xargs -0 b3sum > /dev/null`], () =>
            rmSync(out, { recursive: true, force: true }),
          ),
      );
      records.push(compare("image-prepare-debian", "ms", t.ours, "curl|xz -d|tar -x + b3sum", t.peer));

      ctx.log("images: decompression engines");
      const tar = join(ctx.workDir, "rootfs.tar");
      await sh(`xz -dc '${archive}' > '${tar}' && gzip -1 -c '${tar}' > '${tar}.gz' && zstd -q -3 -c '${tar}' > '${tar}.zst'`);
      const worker = join(repoRoot, "bench/workers/decompress.ts");
      const xz = await alternate(runs, () => timed([bun, worker, archive]), () => timed(["sh", "-c", `xz -dc '${archive}' > /dev/null`]));
      records.push(compare("decompress-xz", "ms", xz.ours, "xz -dc (1 thread)", xz.peer));
      const gz = await alternate(runs, () => timed([bun, worker, `${tar}.gz`]), () => timed([bun, worker, `${tar}.gz`, "tool"]));
      records.push(compare("decompress-gzip", "ms", gz.ours, "gzip -dc via pipe", gz.peer));
      const zst = await alternate(runs, () => timed([bun, worker, `${tar}.zst`]), () => timed([bun, worker, `${tar}.zst`, "tool"]));
      records.push(compare("decompress-zstd", "ms", zst.ours, "zstd -dc via pipe", zst.peer));
    } finally {
      await server.stop();
    }
    return records;
  },
};
