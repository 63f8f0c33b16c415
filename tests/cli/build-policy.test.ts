/**
 * The security policy at build time, for every backend: the Engine checks the
 * manifest's mounts, devices and limits before it resolves anything, so even
 * the mock backend (which never makes a sandbox plan) refuses a mount the
 * policy refuses, with the policy's message and exit status 1.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../src/store/index.ts";
import { cleanupTemp, errorLines, k, kJson, project, tempDir } from "../engine/helpers.ts";

afterAll(cleanupTemp);

/** Nothing of a refused build reached the store. */
function expectEmptyStore(store: string): void {
  const s = openStore(store);
  try {
    expect({ envs: s.metadata.count(), objects: s.objects.list(), staging: readdirSync(s.layout.stagingDir), wal: s.wal.count() }).toEqual({
      envs: 0,
      objects: [],
      staging: [],
      wal: 0,
    });
  } finally {
    s.close();
  }
}

describe("build checks the policy on the mock backend", () => {
  test("a mount outside the allowlist is refused (exit 1) before anything is built; no lock is written", () => {
    const store = tempDir("store");
    const dir = project({ extra: '[mounts]\nsecrets = "/etc:/mnt/etc"\n' });
    const r = k(store, ["build"], { cwd: dir });
    expect(r.code).toBe(1);
    const { error, hint } = errorLines(r);
    expect(error).toStartWith("error: mount 'secrets': /etc is outside the allowed directories (/home, /tmp");
    expect(hint).toBeDefined();
    expect(r.stdout).toBe("");
    expect(existsSync(join(dir, "karapace.lock"))).toBe(false);
    expectEmptyStore(store);
  });

  test("a symlink inside the project that leads out of the allowed directories is refused too", () => {
    const store = tempDir("store");
    const dir = project({ extra: '[mounts]\nescape = "./etc-link:/mnt/etc"\n' });
    symlinkSync("/etc", join(dir, "etc-link"));
    const r = k(store, ["build"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(errorLines(r).error).toContain("mount 'escape': ");
    expect(errorLines(r).error).toContain("(resolves to /etc) is outside the allowed directories");
    expectEmptyStore(store);
  });

  test("rebuild and --locked are refused the same way", () => {
    const store = tempDir("store");
    const dir = project({ extra: '[mounts]\nroot = "/:/host"\n' });
    for (const args of [["rebuild"], ["build", "--locked"], ["build", "--offline"]]) {
      const r = k(store, args, { cwd: dir });
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(errorLines(r).error).toContain("mount 'root': ");
    }
    expectEmptyStore(store);
  });

  test("a container path over /proc is refused (exit 1)", () => {
    const store = tempDir("store");
    const dir = project({ extra: '[mounts]\nsrc = "./src:/proc/x"\n' });
    mkdirSync(join(dir, "src"));
    const r = k(store, ["build"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(errorLines(r).error).toContain("mount 'src'");
    expectEmptyStore(store);
  });

  test("a mount inside the project directory is allowed and the build succeeds", () => {
    const store = tempDir("store");
    const dir = project({ extra: '[mounts]\nsrc = "./src:/src"\n' });
    mkdirSync(join(dir, "src"));
    const built = kJson<{ status: string }>(store, ["build"], { cwd: dir });
    expect(built.status).toBe("built");
    expect(existsSync(join(dir, "karapace.lock"))).toBe(true);
  });
});
