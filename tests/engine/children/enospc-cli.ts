/**
 * bun enospc-cli.ts <tmpfs> <projects>: run inside a private mount namespace
 * with a small tmpfs at <tmpfs>. Puts a store there, then for each amount of
 * free space leaves only that much (a filler file takes the rest) and runs
 * `karapace build` of a new environment whose mock install writes 4 MiB, then
 * `karapace verify-store` while the disk is still full and again once the
 * filler is gone. Reports, as JSON,
 * what each command did and what was left behind.
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statfsSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

const [tmpfsArg, projectsArg] = process.argv.slice(2);
if (tmpfsArg === undefined || projectsArg === undefined) throw new Error("usage: enospc-cli.ts <tmpfs> <projects>");
const tmpfs: string = tmpfsArg;
const projects: string = projectsArg;
const root = join(tmpfs, "k");
const bin = join(import.meta.dir, "..", "..", "..", "bin", "karapace.ts");

function karapace(args: string[], cwd: string, env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const p = Bun.spawnSync([process.execPath, bin, "--store", root, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

function projectDir(i: number): string {
  const dir = join(projects, `p${i}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "karapace.toml"), `manifest_version = 1\n[base]\nimage = "debian/bookworm"\n[system]\npackages = ["pkg${i}"]\n[runtime]\nbackend = "mock"\n`);
  return dir;
}

/** Fills the filesystem until only about `free` bytes are left. */
function fillLeaving(free: number): void {
  const fs = statfsSync(tmpfs);
  let toWrite = Math.floor(fs.bavail * fs.bsize - free);
  const fd = openSync(join(tmpfs, "filler"), "w");
  const block = new Uint8Array(64 * 1024).fill(7);
  try {
    while (toWrite > 0) {
      const n = writeSync(fd, block, 0, Math.min(block.length, toWrite));
      if (n === 0) break;
      toWrite -= n;
    }
  } catch {
    // full already
  } finally {
    closeSync(fd);
  }
}

function leftovers(): { temps: string[]; staging: string[]; envDirs: string[] } {
  const temps = ["store", "store/objects", "store/layers"].flatMap((d) => readdirSync(join(root, d)).filter((n) => n.startsWith(".tmp")).map((n) => `${d}/${n}`));
  return { temps, staging: readdirSync(join(root, "store", "staging")), envDirs: readdirSync(join(root, "env")).sort() };
}

const first = karapace(["build", "--json"], projectDir(0));
if (first.code !== 0) throw new Error(`the first build failed: ${first.stderr}`);

const MiB = 1 << 20;
const FREE = [0, 16 << 10, 256 << 10, 1 * MiB, 2 * MiB, 3 * MiB, Math.round(4.2 * MiB), 5 * MiB, 6 * MiB, 7 * MiB, 8 * MiB, 8.5 * MiB, 9 * MiB, 10 * MiB, 14 * MiB];
const trials = FREE.map((free, i) => {
  fillLeaving(free);
  const before = leftovers().envDirs;
  const build = karapace(["build", "--json"], projectDir(i + 1), { KARAPACE_MOCK_PAYLOAD_BYTES: String(4 * MiB) });
  const afterBuild = leftovers();
  const verifyFull = karapace(["verify-store", "--json"], projects);
  rmSync(join(tmpfs, "filler"), { force: true });
  const verify = karapace(["verify-store", "--json"], projects);
  const list = karapace(["list", "--json"], projects);
  return { free, build, before, afterBuild, verifyFull, verify, list };
});
process.stdout.write(`${JSON.stringify(trials)}\n`);
