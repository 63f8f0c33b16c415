/**
 * `snapshots`: `karapace commit` of an upper dir of 10,000 files / 500 MB
 * (plus whiteouts and an opaque directory, as overlayfs leaves them), run
 * through the Engine in a child process, against
 * `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . | b3sum`
 * on the same dir. Targets: wall time <= 1.5x the peer, peak RSS <= 96 MiB.
 *
 * Our side does more than the peer: it writes the archive and fsyncs it, moves
 * it into the object store (under the hash the packer computed while writing
 * it), then writes the layer and the WAL entries. The state is the same in
 * every timed run, so each timed commit finds its object already stored and
 * removes the archive it just wrote ("unchanged"), as a user's repeated commit
 * would. Also reported, for information: packTree alone in overlay mode, and
 * commit against a peer that writes and syncs its archive too.
 *
 * Run as a worker: `bun bench/snapshots.ts --commit <store> <env>` and
 * `bun bench/snapshots.ts --pack <dir> <out>`.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { requireTool } from "../tests/support/prereq.ts";
import { type Benchmark, type BenchContext, type BenchRecord, chunksOf, compare, MiB, pseudoRandom, round, timeBoth } from "./lib.ts";

const FILES = 10_000;
const TOTAL_BYTES = 500 * 1000 * 1000;
const LARGE_FILES = 10;
const SMALL_BYTES = 4096;
const TAR = "tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . | b3sum";
const TAR_TO_FILE = "rm -f $OUT && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . | tee $OUT | b3sum && sync $OUT";

/** The upper dir: 9,990 files of 4 KiB in 100 directories, 10 large files, whiteouts, an opaque dir. */
async function makeUpper(upper: string): Promise<void> {
  const block = pseudoRandom(SMALL_BYTES, 0x5eed);
  const stamp = new DataView(block.buffer, block.byteOffset, 4);
  const small = FILES - LARGE_FILES;
  for (let d = 0; d < 100; d++) mkdirSync(join(upper, "usr/share", `d${d}`), { recursive: true });
  for (let i = 0; i < small; i++) {
    stamp.setUint32(0, i, true);
    writeFileSync(join(upper, "usr/share", `d${i % 100}`, `f${i}`), block);
  }
  const largeBytes = Math.floor((TOTAL_BYTES - small * SMALL_BYTES) / LARGE_FILES);
  mkdirSync(join(upper, "opt/big"), { recursive: true });
  const chunk = pseudoRandom(4 * MiB, 0xb16);
  for (let i = 0; i < LARGE_FILES; i++) {
    const fd = openSync(join(upper, "opt/big", `blob${i}`), "w");
    try {
      let left = largeBytes;
      for (const c of chunksOf(chunk, largeBytes)) {
        new DataView(c.buffer, c.byteOffset, 8).setUint32(4, i, true);
        const piece = c.subarray(0, Math.min(c.length, left));
        writeSync(fd, piece);
        left -= piece.length;
      }
    } finally {
      closeSync(fd);
    }
  }
  const { mknodWhiteout, lsetxattr } = await import("../src/snapshots/libc.ts");
  mkdirSync(join(upper, "etc"), { recursive: true });
  for (const name of ["motd", "issue", "hostname"]) mknodWhiteout(join(upper, "etc", name));
  mkdirSync(join(upper, "var/cache"), { recursive: true });
  writeFileSync(join(upper, "var/cache/new"), "n");
  lsetxattr(join(upper, "var/cache"), "user.overlay.opaque", Buffer.from("y"));
}

function karapace(store: string, args: string[], cwd: string): string {
  const r = Bun.spawnSync([process.execPath, join(import.meta.dir, "../bin/karapace.ts"), "--store", store, ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`karapace ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

export const snapshotsBenchmark: Benchmark = {
  name: "snapshots",
  summary: `karapace commit of a 10,000-file / 500 MB upper dir vs '${TAR}', and our peak RSS`,
  targets: {
    "snapshot-commit": { field: "ratio", op: "<=", limit: 1.5 },
    "snapshot-commit-rss": { field: "value", op: "<=", limit: 96 },
  },
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    requireTool("tar");
    requireTool("b3sum");
    const runs = ctx.runs ?? 3;
    const store = join(ctx.workDir, "store");
    const project = join(ctx.workDir, "project");
    mkdirSync(project);
    writeFileSync(join(project, "karapace.toml"), 'manifest_version = 1\n[base]\nimage = "bench/upper"\n[runtime]\nbackend = "mock"\n');
    const envId = (JSON.parse(karapace(store, ["build", "--json"], project)) as { env_id: string }).env_id;
    const upper = join(store, "env", envId, "upper");
    ctx.log(`snapshots: writing ${FILES} files / ${TOTAL_BYTES / 1e6} MB into ${upper}`);
    await makeUpper(upper);
    const self = import.meta.path;
    ctx.log(`snapshots: commit vs '${TAR}', ${runs} runs each after a warm-up`);
    const timed = await timeBoth({
      ours: [process.execPath, self, "--commit", store, envId],
      peer: ["bash", "-o", "pipefail", "-c", TAR],
      cwd: upper,
      runs,
    });
    ctx.log(`snapshots: ours ${timed.ours.last.stdout.trim()}`);
    const pack = await timeBoth({
      ours: [process.execPath, self, "--pack", upper, join(ctx.workDir, "pack.tar")],
      peer: ["bash", "-o", "pipefail", "-c", TAR],
      cwd: upper,
      runs,
    });
    // For information, like for like: the peer also writes the archive and makes it durable.
    const toFile = await timeBoth({
      ours: [process.execPath, self, "--commit", store, envId],
      peer: ["bash", "-o", "pipefail", "-c", TAR_TO_FILE.replaceAll("$OUT", join(ctx.workDir, "peer.tar"))],
      cwd: upper,
      runs,
    });
    return [
      compare("snapshot-commit", "ms", timed.ours.medianMs, "tar | b3sum", timed.peer.medianMs),
      { name: "snapshot-commit-rss", value: round(timed.ours.peakRssBytes / MiB, 1), unit: "MiB" },
      compare("snapshot-pack", "ms", pack.ours.medianMs, "tar | b3sum", pack.peer.medianMs),
      { name: "snapshot-pack-rss", value: round(pack.ours.peakRssBytes / MiB, 1), unit: "MiB" },
      compare("snapshot-commit-to-file", "ms", toFile.ours.medianMs, "tar | tee file | b3sum; sync file", toFile.peer.medianMs),
    ];
  },
};

if (import.meta.main) {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === "--commit" && a !== undefined && b !== undefined) {
    const { Engine } = await import("../src/engine/index.ts");
    const engine = new Engine({ root: a });
    const r = await engine.commit(b);
    engine.close();
    console.log(JSON.stringify({ snapshot: r.snapshot_hash, tar: r.tar_hash, bytes: r.size, entries: r.entries, whiteouts: r.whiteouts, status: r.status }));
  } else if (mode === "--pack" && a !== undefined && b !== undefined) {
    const { packTree } = await import("../wasm/pack.ts");
    const r = await packTree(a, `${b}.${process.pid}`, { overlayUpper: true });
    console.log(JSON.stringify({ tar: r.tarHash, bytes: r.bytes, entries: r.entries }));
  } else {
    throw new Error("usage: bun bench/snapshots.ts --commit <store> <env> | --pack <dir> <out>");
  }
}
