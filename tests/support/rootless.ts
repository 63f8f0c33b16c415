/**
 * Running test scenarios as an unprivileged user, the way users run karapace.
 *
 * CI runs the suite as root, and root hides exactly the failures rootless users
 * hit (files owned by subordinate uids, refused mounts, missing maps). So when
 * the test process is root, scenarios run as the user `karapace-test` (created
 * by .ci/run with a range in /etc/subuid and /etc/subgid) through
 * `setpriv --reuid --regid --init-groups`, which needs no PAM session and keeps
 * the ability to create user namespaces (newuidmap stays setuid-usable). When
 * the test process is already unprivileged, scenarios run directly as it.
 *
 * The user runs karapace as users do: the compiled binary, built once per
 * source state into a world-readable temp dir.
 */
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { compileCommand } from "../../scripts/compile.ts";
import { join, resolve } from "node:path";
import { missingPrerequisite, requireTool } from "./prereq.ts";

export const TEST_USER = "karapace-test";
const REPO = resolve(import.meta.dir, "../..");

export interface RootlessUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** true: the test process itself is this user (not root); commands run without setpriv. */
  direct: boolean;
}

let cachedUser: RootlessUser | undefined;

function passwdEntry(name: string): { uid: number; gid: number; home: string } | undefined {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f.length >= 7) return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "/" };
  }
  return undefined;
}

function hasSubidRange(file: string, name: string, id: number): boolean {
  if (!existsSync(file)) return false;
  return readFileSync(file, "utf8")
    .split("\n")
    .some((line) => {
      const [owner, , count] = line.split(":");
      return (owner === name || owner === String(id)) && Number(count) > 0;
    });
}

/**
 * The user scenarios run as. Throws (naming what is missing) when the test
 * process is root and `karapace-test` or its subordinate ranges do not exist,
 * or when unshare/newuidmap/setpriv are not installed.
 */
export function requireRootlessUser(): RootlessUser {
  if (cachedUser !== undefined) return cachedUser;
  requireTool("unshare");
  requireTool("newuidmap");
  requireTool("newgidmap");
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    const gid = process.getgid?.() ?? uid;
    const name = process.env.USER ?? String(uid);
    if (!hasSubidRange("/etc/subuid", name, uid)) {
      throw missingPrerequisite(`a subordinate uid range for ${name} in /etc/subuid (usermod --add-subuids 200000-265535 ${name})`);
    }
    cachedUser = { name, uid, gid, home: process.env.HOME ?? tmpdir(), direct: true };
    return cachedUser;
  }
  requireTool("setpriv");
  const entry = passwdEntry(TEST_USER);
  if (entry === undefined) {
    throw missingPrerequisite(`the unprivileged test user '${TEST_USER}' (useradd --create-home ${TEST_USER}; .ci/run creates it)`);
  }
  for (const file of ["/etc/subuid", "/etc/subgid"]) {
    if (!hasSubidRange(file, TEST_USER, entry.uid)) {
      throw missingPrerequisite(`a subordinate id range for '${TEST_USER}' in ${file} (usermod --add-subuids 200000-265535 --add-subgids 200000-265535 ${TEST_USER})`);
    }
  }
  cachedUser = { name: TEST_USER, ...entry, direct: false };
  return cachedUser;
}

/** The argv that runs `argv` as the rootless user (unchanged when we are that user). */
export function asTestUser(argv: readonly string[]): string[] {
  const user = requireRootlessUser();
  if (user.direct) return [...argv];
  return [requireTool("setpriv"), `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", "--", ...argv];
}

let compiled: string | undefined;

/** A world-readable temp directory (root-owned when we are root, so the user cannot change the binary). */
function sharedTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `karapace-${label}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** Names, sizes and mtimes of everything the binary is built from: its cache key. */
function sourceStamp(): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = lstatSync(path);
      if (st.isDirectory()) walk(path);
      else hasher.update(`${path}\0${st.size}\0${st.mtimeMs}\n`);
    }
  };
  for (const dir of ["bin", "src", "wasm", "scripts"]) walk(join(REPO, dir));
  hasher.update(process.version);
  return hasher.digest("hex").slice(0, 16);
}

/**
 * The compiled karapace binary (bun build --compile), world-readable. It is
 * 100+ MB, so one copy is kept per source state under
 * $TMPDIR/karapace-rootless-bin/<stamp>/ and older ones are removed.
 */
export function compiledKarapace(): string {
  if (compiled !== undefined && existsSync(compiled)) return compiled;
  const cache = join(tmpdir(), "karapace-rootless-bin");
  mkdirSync(cache, { recursive: true, mode: 0o755 });
  chmodSync(cache, 0o755);
  const stamp = sourceStamp();
  const out = join(cache, stamp, "karapace");
  if (!existsSync(out)) {
    const partial = sharedTempDir("bin");
    const result = Bun.spawnSync(
      compileCommand(join(partial, "karapace")),
      { cwd: REPO, stdout: "pipe", stderr: "pipe" },
    );
    if (!result.success) {
      rmSync(partial, { recursive: true, force: true });
      throw new Error(`bun build --compile failed:\n${result.stderr.toString()}`);
    }
    chmodSync(join(partial, "karapace"), 0o755);
    try {
      renameSync(partial, join(cache, stamp));
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another test process got there first
    }
    for (const old of readdirSync(cache)) if (old !== stamp) rmSync(join(cache, old), { recursive: true, force: true });
  }
  compiled = out;
  return out;
}

/** Gives `path` (recursively, symlinks not followed) to the rootless user; nothing to do when we are that user. */
export function giveToTestUser(path: string): void {
  const user = requireRootlessUser();
  if (user.direct) return;
  const walk = (p: string): void => {
    lchownSync(p, user.uid, user.gid);
    if (lstatSync(p).isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(path);
}

const workDirs: string[] = [];

/**
 * A fresh directory owned by the rootless user, for its HOME, store and
 * projects. Its parent is world-traversable. Remove it with removeRootlessDir().
 */
export function rootlessWorkDir(label = "work"): string {
  const user = requireRootlessUser();
  const parent = sharedTempDir(`rootless-${label}`);
  const dir = join(parent, "w");
  mkdirSync(dir, { mode: 0o755 });
  if (!user.direct) chownSync(dir, user.uid, user.gid);
  workDirs.push(parent);
  return dir;
}

/**
 * Removes a work dir and everything in it, including files owned by the
 * user's subordinate uids (root removes them directly; an unprivileged
 * process does it inside its user namespace).
 */
export function removeRootlessDir(dir: string): void {
  const parent = resolve(dir, "..");
  const target = workDirs.includes(parent) ? parent : dir;
  if ((process.getuid?.() ?? 0) !== 0) {
    Bun.spawnSync(["unshare", "--user", "--map-root-user", "--map-auto", "rm", "-rf", target], { stdout: "ignore", stderr: "ignore" });
  }
  // A leftover mount (a test that died mid-exec) is lazily detached first: rm must not descend into it.
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mountPoint = line.split(" ")[4];
    if (mountPoint !== undefined && mountPoint.startsWith(`${target}/`)) Bun.spawnSync(["umount", "--lazy", mountPoint], { stdout: "ignore", stderr: "ignore" });
  }
  rmSync(target, { recursive: true, force: true });
  const i = workDirs.indexOf(target);
  if (i >= 0) workDirs.splice(i, 1);
}

export interface TestUserRunOptions {
  cwd?: string;
  /** Added to a minimal environment (PATH, HOME, USER, LOGNAME, LANG=C). */
  env?: Record<string, string | undefined>;
  stdin?: string | Uint8Array;
  timeoutMs?: number;
}

export interface TestUserResult {
  code: number;
  /** The signal that ended it, if one did (e.g. after the timeout). */
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The environment a rootless command starts with: no colour, no log level or store from our own environment. */
export function testUserEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const user = requireRootlessUser();
  const base: Record<string, string | undefined> = {
    PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    LANG: "C",
    NO_COLOR: "1",
    KARAPACE_FIXTURE_CACHE: process.env.KARAPACE_FIXTURE_CACHE,
    ...extra,
  };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  return env;
}

/** Starts `argv` as the rootless user; the caller owns the process (for long-running or killed commands). */
export function spawnAsTestUser(argv: readonly string[], options: Omit<TestUserRunOptions, "timeoutMs"> = {}): Bun.Subprocess<"pipe", "pipe", "pipe"> {
  return Bun.spawn(asTestUser(argv), {
    cwd: options.cwd,
    env: testUserEnv(options.env),
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** Runs `argv` as the rootless user to completion (killed with SIGKILL after timeoutMs, default 10 minutes). */
export async function runAsTestUser(argv: readonly string[], options: TestUserRunOptions = {}): Promise<TestUserResult> {
  const proc = spawnAsTestUser(argv, options);
  if (options.stdin !== undefined) proc.stdin.write(options.stdin);
  await proc.stdin.end();
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 600_000);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, signal: proc.signalCode === null ? null : String(proc.signalCode), stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the compiled karapace as the rootless user. */
export function karapaceAsTestUser(args: readonly string[], options: TestUserRunOptions = {}): Promise<TestUserResult> {
  return runAsTestUser([compiledKarapace(), ...args], options);
}
