/**
 * The `runtime` benchmark, run as the unprivileged test user (tests/support/rootless.ts)
 * with the compiled binary, as users run karapace:
 *
 * - exec-true: `karapace exec ENV -- true` on a busybox environment, warm, median wall,
 *   against the raw floor measured in the same run: unshare (user with the subuid map,
 *   mount, pid) + kernel overlay + /proc + chroot /bin/true, by hand.
 * - build-debian-git: `karapace build` of Debian bookworm + git (image cache warm, a
 *   fresh environment each run) against design.md section 7's shell recipe: the same
 *   overlay, apt-get update and apt-get install of git, by hand.
 *
 * The timing loops run in a child of this file (`--worker ...`) started as the test
 * user, so setpriv's own start-up is not timed.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { debianRootfsTarXz } from "../tests/support/fixtures.ts";
import { giveToTestUser, karapaceAsTestUser, compiledKarapace, removeRootlessDir, rootlessWorkDir, runAsTestUser } from "../tests/support/rootless.ts";
import { busyboxRootfs } from "../tests/support/fixtures.ts";
import { type Benchmark, type BenchContext, type BenchRecord, compare, median } from "./lib.ts";

const FLOOR_SCRIPT = `mount -t overlay overlay -o "userxattr,lowerdir=$2,upperdir=$3,workdir=$4" "$1" && mount -t proc proc "$1/proc" && exec chroot "$1" /bin/true`;

const RECIPE_SCRIPT = `set -e
mount -t overlay overlay -o "userxattr,lowerdir=$2,upperdir=$3,workdir=$4" "$1"
mount -t proc proc "$1/proc"; mount --rbind /dev "$1/dev"
rm -f "$1/etc/resolv.conf"; cp /etc/resolv.conf "$1/etc/resolv.conf"
chroot "$1" apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive chroot "$1" apt-get install -y -q --no-install-recommends git >/dev/null
chroot "$1" dpkg-query -W -f '\${Version}\\n' git`;

function timed(argv: readonly string[], env: Record<string, string>, cwd: string): number {
  const start = performance.now();
  const r = Bun.spawnSync([...argv], { env, cwd, stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - start;
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ").slice(0, 200)} failed (${r.exitCode}): ${r.stderr.toString().slice(-2000)}`);
  return ms;
}

function freshDirs(base: string): { upper: string; work: string; merged: string } {
  Bun.spawnSync(["unshare", "--user", "--map-root-user", "--map-auto", "rm", "-rf", base]);
  const dirs = { upper: join(base, "upper"), work: join(base, "work"), merged: join(base, "merged") };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  return dirs;
}

/** The child side, as the test user: prints one JSON line of timings. */
async function worker(args: string[]): Promise<void> {
  const [kind, karapace, home, runsText] = args as [string, string, string, string];
  const runs = Number(runsText);
  const env: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", HOME: home, USER: process.env.USER ?? "", LANG: "C", NO_COLOR: "1" };
  const ns = ["unshare", "--user", "--map-root-user", "--map-auto", "--mount", "--pid", "--fork", "sh", "-c"];
  const ours: number[] = [];
  const peer: number[] = [];
  if (kind === "exec") {
    const [rootfs] = args.slice(4) as [string];
    const floor = freshDirs(join(home, "floor"));
    const floorArgv = [...ns, FLOOR_SCRIPT, "sh", floor.merged, rootfs, floor.upper, floor.work];
    timed([karapace, "exec", "bb", "--", "true"], env, home);
    timed(floorArgv, env, home);
    for (let i = 0; i < runs; i++) {
      ours.push(timed([karapace, "exec", "bb", "--", "true"], env, home));
      peer.push(timed(floorArgv, env, home));
    }
  } else {
    const [project, rootfs] = args.slice(4) as [string, string];
    for (let i = 0; i < runs; i++) {
      const list = JSON.parse(Bun.spawnSync([karapace, "list", "--json"], { env, cwd: project }).stdout.toString()) as Array<{ env_id: string }>;
      for (const e of list) timed([karapace, "destroy", e.env_id], env, project);
      ours.push(timed([karapace, "build"], env, project));
      const dirs = freshDirs(join(home, "recipe"));
      peer.push(timed([...ns, RECIPE_SCRIPT, "sh", dirs.merged, rootfs, dirs.upper, dirs.work], env, home));
    }
  }
  process.stdout.write(`${JSON.stringify({ ours: median(ours), peer: median(peer) })}\n`);
}

async function inWorker(args: string[], cwd: string): Promise<{ ours: number; peer: number }> {
  const r = await runAsTestUser([process.execPath, import.meta.path, "--worker", ...args], { cwd, timeoutMs: 1_800_000 });
  if (r.code !== 0) throw new Error(`runtime bench worker failed (${r.code}): ${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { ours: number; peer: number };
}

export const runtimeBenchmark: Benchmark = {
  name: "runtime",
  summary: "rootless `karapace exec ENV -- true` (compiled) vs the raw unshare+overlay+chroot floor; Debian+git build vs the shell recipe",
  targets: { "exec-true": { field: "value", op: "<=", limit: 40 }, "build-debian-git": { field: "ratio", op: "<=", limit: 1.3 } },
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const karapace = compiledKarapace();
    const home = rootlessWorkDir("bench-runtime");
    try {
      const rootfs = join(home, "busybox");
      await busyboxRootfs(rootfs);
      const bb = join(home, "bb");
      mkdirSync(bb);
      await Bun.write(join(bb, "karapace.toml"), `manifest_version = 1\n[base]\nimage = "${rootfs}"\n[runtime]\nbackend = "namespace"\n`);
      giveToTestUser(rootfs);
      giveToTestUser(bb);
      const env = { HOME: home };
      const built = await karapaceAsTestUser(["build", "--name", "bb"], { cwd: bb, env });
      if (built.code !== 0) throw new Error(`busybox build failed: ${built.stderr}`);
      const runs = ctx.runs ?? 30;
      ctx.log(`runtime: karapace exec bb -- true vs the raw floor, ${runs} runs each`);
      const exec = await inWorker(["exec", karapace, home, String(runs), rootfs], home);
      const records = [compare("exec-true", "ms", exec.ours, "unshare+overlay+chroot", exec.peer)];

      const archive = await debianRootfsTarXz();
      const dev = join(home, "dev");
      mkdirSync(dev);
      await Bun.write(join(dev, "karapace.toml"), `manifest_version = 1\n[base]\nimage = "file://${archive}"\n[system]\npackages = ["git"]\n[runtime]\nbackend = "namespace"\n`);
      giveToTestUser(dev);
      ctx.log("runtime: warming the Debian image cache (first build)");
      const first = await karapaceAsTestUser(["build", "--json"], { cwd: dev, env, timeoutMs: 1_800_000 });
      if (first.code !== 0) throw new Error(`Debian build failed: ${first.stderr.slice(-3000)}`);
      const envId = (JSON.parse(first.stdout) as { env_id: string }).env_id;
      const lower = (JSON.parse(readFileSync(join(home, ".local/share/karapace/env", envId, "runtime.json"), "utf8")) as { lower: string }).lower;
      const buildRuns = Math.min(ctx.runs ?? 3, 5);
      ctx.log(`runtime: Debian+git build vs the shell recipe, ${buildRuns} runs each`);
      const build = await inWorker(["build", karapace, home, String(buildRuns), dev, lower], home);
      records.push(compare("build-debian-git", "ms", build.ours, "shell recipe (design.md 7)", build.peer));
      return records;
    } finally {
      rmSync(join(home, "floor"), { recursive: true, force: true });
      removeRootlessDir(home);
    }
  },
};

if (import.meta.main && process.argv[2] === "--worker") await worker(process.argv.slice(3));
