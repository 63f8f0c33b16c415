/**
 * The single-file binary: `bun run compile [OUTFILE]` (default dist/karapace).
 * Tests and benchmarks build it with the same flags through compileCommand().
 *
 * --bytecode stores JavaScriptCore bytecode next to the bundle, so start-up
 * skips parsing ~200 modules (measured: `--version` 21 -> 11 ms, `exec -- true`
 * 90 -> 55 ms under load); bytecode needs --format=esm for top-level await.
 * --splitting keeps each dynamically imported part in a chunk of its own, so a
 * command loads only the chunks it reaches instead of the whole bundle
 * (`--version` 15 -> 9 ms on a 2-vCPU VM).
 * The hash worker is a second entrypoint: workers load it by path at run time.
 */
import { join } from "node:path";

const REPO = join(import.meta.dir, "..");

export function compileCommand(outfile: string): string[] {
  return [
    process.execPath,
    "build",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    "--splitting",
    join(REPO, "bin/karapace.ts"),
    join(REPO, "wasm/hash-worker.ts"),
    "--outfile",
    outfile,
  ];
}

if (import.meta.main) {
  const outfile = process.argv[2] ?? join(REPO, "dist/karapace");
  const result = Bun.spawnSync(compileCommand(outfile), { cwd: REPO, stdout: "inherit", stderr: "inherit" });
  process.exit(result.exitCode ?? 1);
}
