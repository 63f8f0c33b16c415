/**
 * A real package install: Debian bookworm (the debootstrap fixture, as a
 * rootfs.tar.xz image) with git, built rootless in one pass.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { debianRootfsTarXz } from "../support/fixtures.ts";
import { manifest, Scenario } from "./helpers.ts";

let s: Scenario;
let project: string;

beforeAll(async () => {
  const archive = await debianRootfsTarXz();
  s = new Scenario("debian");
  project = s.project("dev", manifest(`file://${archive}`, '\n[system]\npackages = ["git"]\n'));
});

afterAll(() => s?.cleanup());

const lockOf = (): { envId: string; version: string } => {
  const text = readFileSync(join(project, "karapace.lock"), "utf8");
  return {
    envId: /env_id = "([0-9a-f]{64})"/.exec(text)?.[1] ?? "",
    version: /name = "git"\nversion = "([^"]+)"/.exec(text)?.[1] ?? "",
  };
};

test("build installs git once, locks the version dpkg reports, and the same lock rebuilds the same env_id", async () => {
  const build = await s.kp(["build"], { cwd: project });
  expect(build.code).toBe(0);
  // The package manager ran exactly once (resolution and build are one pass).
  expect(build.stderr.match(/^karapace: apt-get install /gm)?.length).toBe(1);
  const first = lockOf();
  expect(first.envId).toMatch(/^[0-9a-f]{64}$/);

  const dpkg = await s.kp(["exec", first.envId.slice(0, 12), "--", "dpkg-query", "-W", "-f", "${Version}", "git"]);
  expect(dpkg.code).toBe(0);
  expect(first.version).toBe(dpkg.stdout);

  const git = await s.kp(["exec", first.envId.slice(0, 12), "--", "git", "--version"]);
  expect(git.code).toBe(0);
  expect(git.stdout).toStartWith("git version ");

  // Files apt left owned by subordinate uids are removed too.
  expect((await s.kp(["destroy", first.envId])).code).toBe(0);
  const locked = await s.kp(["build", "--locked"], { cwd: project });
  expect(locked.code).toBe(0);
  expect(locked.stderr).toContain(`karapace: apt-get install git=${first.version}`);
  expect(lockOf()).toEqual(first);
  const list = JSON.parse((await s.kp(["list", "--json"])).stdout) as Array<{ env_id: string }>;
  expect(list.map((e) => e.env_id)).toEqual([first.envId]);
}, 600_000);
