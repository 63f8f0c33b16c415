/**
 * Real root filesystems for tests and benchmarks, made by the project itself and
 * cached outside the repository (they are never committed).
 *
 *   KARAPACE_FIXTURE_CACHE   cache directory (default: ${XDG_CACHE_HOME:-~/.cache}/karapace-fixtures);
 *                            point it at a shared path to build the Debian fixture once as root
 *                            and use it from an unprivileged test user.
 */
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { debianMirror } from "./apt-sources.ts";
import { isRoot, missingPrerequisite, requireTool } from "./prereq.ts";

export function fixtureCacheDir(): string {
  const configured = process.env.KARAPACE_FIXTURE_CACHE;
  if (configured !== undefined && configured !== "") return configured;
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cacheHome, "karapace-fixtures");
}

/**
 * A minimal rootfs in `dir` (created; must be absent or empty): a copy of the host's
 * static busybox, a relative symlink per applet at the path busybox lists for it,
 * /etc/passwd and /etc/group, and empty proc, dev, sys, tmp, root. No root needed.
 */
export async function busyboxRootfs(dir: string): Promise<string> {
  const busybox = requireTool("busybox");
  if (!isStaticElf(busybox)) {
    throw missingPrerequisite(`a statically linked busybox (${busybox} is dynamically linked)`, "busybox-static");
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`busyboxRootfs: ${dir} is not empty`);

  for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "sys", "root", "home"]) {
    mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  }
  mkdirSync(join(dir, "proc"), { mode: 0o555 });
  mkdirSync(join(dir, "tmp"));
  chmodSync(join(dir, "tmp"), 0o1777); // mkdir's mode is filtered by the umask
  copyFileSync(busybox, join(dir, "bin/busybox"));

  const list = Bun.spawnSync([busybox, "--list-full"], { stderr: "pipe" });
  if (!list.success) throw new Error(`busybox --list-full failed: ${list.stderr.toString().trim()}`);
  for (const applet of list.stdout.toString().split("\n")) {
    if (applet === "" || applet === "bin/busybox") continue;
    const link = join(dir, applet);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(applet), "bin/busybox"), link);
  }

  writeFileSync(
    join(dir, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  writeFileSync(join(dir, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  return dir;
}

/** True when the ELF file at `path` has no PT_INTERP program header (no dynamic loader). */
export function isStaticElf(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) {
      throw new Error(`${path}: not a 64-bit little-endian ELF file`);
    }
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}

const DEBIAN_SUITE = "bookworm";

/**
 * `debootstrap --variant=minbase bookworm` (about 25 s, 200 MB, 6.7k files), built once
 * into the fixture cache with the mirror from this machine's apt configuration.
 * Building needs root; a cached copy does not.
 */
export function debianRootfs(): Promise<string> {
  return once(join(fixtureCacheDir(), `debian-${DEBIAN_SUITE}-minbase`), makeDebianRootfs);
}

async function makeDebianRootfs(target: string): Promise<void> {
  const debootstrap = requireTool("debootstrap");
  if (!isRoot()) {
    throw missingPrerequisite(
      `root, to run debootstrap for the Debian fixture (none cached at ${target}; build it once as root, sharing the cache via KARAPACE_FIXTURE_CACHE)`,
    );
  }
  const mirror = debianMirror(DEBIAN_SUITE);
  await buildAtomically(target, async (partial) => {
    await run([debootstrap, "--variant=minbase", DEBIAN_SUITE, partial, mirror], "debootstrap");
  });
}

/**
 * `rootfs.tar.xz` of debianRootfs(), laid out like an LXC image server's rootfs
 * (`./`-relative entries, numeric owners, /dev left empty as in published images).
 */
export function debianRootfsTarXz(): Promise<string> {
  return once(join(fixtureCacheDir(), `debian-${DEBIAN_SUITE}-minbase.rootfs.tar.xz`), makeDebianRootfsTarXz);
}

async function makeDebianRootfsTarXz(target: string): Promise<void> {
  const rootfs = await debianRootfs();
  const tar = requireTool("tar");
  requireTool("xz");
  await buildAtomically(target, async (partial) => {
    await run(
      [tar, "--numeric-owner", "--sort=name", "--exclude=./dev/*", "--use-compress-program=xz -T0 -1",
        "-C", rootfs, "-cf", partial, "."],
      "tar | xz",
    );
  });
}

const pending = new Map<string, Promise<string>>();

/** The cached fixture at `target`, made by `make(target)` if absent; concurrent callers share one build. */
function once(target: string, make: (target: string) => Promise<void>): Promise<string> {
  if (existsSync(target)) return Promise.resolve(target);
  let build = pending.get(target);
  if (build === undefined) {
    build = make(target)
      .then(() => target)
      .finally(() => pending.delete(target));
    pending.set(target, build);
  }
  return build;
}

/**
 * Runs `build(partial)` on a temporary sibling path and renames it to `target` only
 * when it succeeds, so an interrupted or failed build never leaves a half fixture.
 * Partial builds left by dead processes are removed first.
 */
export async function buildAtomically(target: string, build: (partial: string) => Promise<void>): Promise<void> {
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const prefix = `.${basename(target)}.partial-`;
  for (const entry of readdirSync(parent)) {
    const pid = Number(entry.slice(prefix.length));
    if (entry.startsWith(prefix) && !isAlive(pid)) await removeTree(join(parent, entry));
  }
  const partial = join(parent, `${prefix}${process.pid}`);
  await removeTree(partial);
  try {
    await build(partial);
    if (!existsSync(partial)) throw new Error(`fixture build produced nothing at ${partial}`);
    try {
      renameSync(partial, target);
    } catch (error) {
      // Another process finished the same fixture first: keep theirs.
      if (!existsSync(target)) throw error;
    }
  } finally {
    await removeTree(partial);
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes a file or tree without crossing into mounts: an interrupted debootstrap can
 * leave proc or sys mounted inside its target, and those must be unmounted, not emptied.
 */
async function removeTree(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4]?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((m): m is string => m !== undefined && (m === path || m.startsWith(`${path}/`)))
    .sort()
    .reverse();
  for (const mount of mounts) await run(["umount", "--lazy", mount], "umount");
  rmSync(path, { recursive: true, force: true });
}

async function run(argv: string[], what: string): Promise<void> {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    const tail = `${out}${err}`.trim().split("\n").slice(-15).join("\n");
    throw new Error(`${what} failed (exit ${code}): ${argv.join(" ")}\n${tail}`);
  }
}
