/**
 * `karapace doctor` run for real: as root (the CI user) and as the
 * unprivileged `karapace-test` user with a subordinate range, through the
 * compiled binary as users run it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { detectDistro, installHint } from "../../src/doctor/distro.ts";
import { runDoctor } from "../../src/doctor/index.ts";
import { subidRanges, describeRanges } from "../../src/doctor/subid.ts";
import { openStore } from "../../src/store/index.ts";
import { runCli } from "../cli/helpers.ts";
import { missingPrerequisite, requireTool, isRoot } from "../support/prereq.ts";
import { karapaceAsTestUser, removeRootlessDir, requireRootlessUser, rootlessWorkDir } from "../support/rootless.ts";
import { tempDir } from "../policy/helpers.ts";

interface JsonCheck {
  name: string;
  title: string;
  status: "pass" | "warn" | "fail" | "info";
  required: boolean;
  message: string;
  hint: string | null;
}
interface JsonReport {
  healthy: boolean;
  user: string;
  uid: number;
  distro: { id: string; family: string };
  store: string;
  checks: JsonCheck[];
}

const CHECK_NAMES = [
  "user_namespaces",
  "subordinate_ids",
  "uid_map_helpers",
  "kernel_overlay",
  "fuse_overlayfs",
  "oci_runtime",
  "store",
  "image_cache",
  "disk_space",
  "resource_limits",
];

function parseReport(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

function checkNamed(report: JsonReport, name: string): JsonCheck {
  const found = report.checks.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no check '${name}' in ${JSON.stringify(report.checks.map((c) => c.name))}`);
  return found;
}

function requireRoot(): void {
  if (!isRoot()) throw missingPrerequisite("running the test suite as root (CI does; this test runs doctor as root)");
}

const { dir: scratch, cleanup } = tempDir("doctor");
afterAll(cleanup);

describe("doctor as root", () => {
  test("every check reports, the machine is healthy, --json has the documented shape", () => {
    requireRoot();
    const r = runCli(["doctor", "--json", "--store", join(scratch, "fresh-store")]);
    expect(r.code).toBe(0);
    const report = parseReport(r.stdout);
    expect(report.healthy).toBe(true);
    expect(report.user).toBe("root");
    expect(report.uid).toBe(0);
    expect(report.checks.map((c) => c.name)).toEqual(CHECK_NAMES);
    for (const c of report.checks) {
      expect(["pass", "warn", "fail", "info"]).toContain(c.status);
      expect(typeof c.required).toBe("boolean");
      expect(c.message.length).toBeGreaterThan(0);
      expect(c.hint === null || typeof c.hint === "string").toBe(true);
    }
    expect(checkNamed(report, "user_namespaces").status).toBe("pass");
    expect(checkNamed(report, "subordinate_ids")).toMatchObject({ status: "pass", message: expect.stringContaining("running as root") });
    expect(checkNamed(report, "kernel_overlay").status).toBe("pass");
    expect(checkNamed(report, "store")).toMatchObject({ status: "info", message: expect.stringContaining("no store") });
  });

  test("human output: one line per check and the verdict", () => {
    requireRoot();
    const r = runCli(["doctor", "--store", join(scratch, "fresh-store")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok {4}user namespaces +unprivileged user namespaces work$/m);
    expect(r.stdout).toMatch(/^ok {4}overlayfs in userns +kernel overlayfs/m);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(/^all required checks passed/);
  });

  test("a tool missing from PATH is a warning with the distribution's install command", () => {
    requireRoot();
    const bin = join(scratch, "bin-without-fuse");
    mkdirSync(bin);
    for (const tool of ["unshare", "newuidmap", "newgidmap", "mount", "rm", "cat", "crun", "prlimit", "nice", "true", "sed"]) {
      symlinkSync(requireTool(tool), join(bin, tool));
    }
    const r = runCli(["doctor", "--json", "--store", join(scratch, "fresh-store")], { env: { PATH: bin } });
    const report = parseReport(r.stdout);
    const fuse = checkNamed(report, "fuse_overlayfs");
    expect(fuse.status).toBe("warn");
    expect(fuse.message).toContain("fuse-overlayfs is not installed");
    expect(fuse.hint).toBe(installHint(detectDistro(), "fuse-overlayfs"));
    // the fallback is missing, but kernel overlayfs works: a warning does not fail doctor
    expect(checkNamed(report, "kernel_overlay").status).toBe("pass");
    expect(r.code).toBe(0);
    const human = runCli(["doctor", "--store", join(scratch, "fresh-store")], { env: { PATH: bin } });
    expect(human.stdout).toContain(`hint: ${installHint(detectDistro(), "fuse-overlayfs")}`);
  });

  test("a healthy store passes; a store of an unknown format fails doctor with exit 1", () => {
    requireRoot();
    const root = join(scratch, "store-ok");
    openStore(root, { create: true }).close();
    const ok = parseReport(runCli(["doctor", "--json", "--store", root]).stdout);
    expect(checkNamed(ok, "store")).toMatchObject({ status: "pass", message: expect.stringContaining("format 2, 0 environment(s)") });

    const future = join(scratch, "store-future");
    openStore(future, { create: true }).close();
    writeFileSync(join(future, "store", "version"), '{ "format_version": 99 }');
    const r = runCli(["doctor", "--json", "--store", future]);
    expect(r.code).toBe(1);
    const report = parseReport(r.stdout);
    expect(report.healthy).toBe(false);
    expect(checkNamed(report, "store")).toMatchObject({ status: "fail", message: expect.stringContaining("format version 99") });
    expect(r.stderr).toContain("error: doctor: store failed");
  });

  test("a damaged image cache entry fails the image cache check", () => {
    requireRoot();
    const root = join(scratch, "store-images");
    openStore(root, { create: true }).close();
    mkdirSync(join(root, "images", "debian-bookworm"), { recursive: true });
    const r = runCli(["doctor", "--json", "--store", root]);
    const images = checkNamed(parseReport(r.stdout), "image_cache");
    expect(images.status).toBe("fail");
    expect(images.message).toContain("debian-bookworm");
    expect(r.code).toBe(1);
  });

  test("all checks together take well under a second", async () => {
    requireRoot();
    await runDoctor({ storeRoot: join(scratch, "fresh-store"), env: process.env }); // warm the module cache
    const started = performance.now();
    const report = await runDoctor({ storeRoot: join(scratch, "fresh-store"), env: process.env });
    const elapsed = performance.now() - started;
    expect(report.checks).toHaveLength(CHECK_NAMES.length);
    expect(elapsed).toBeLessThan(1000);
  });
});

describe("doctor as the unprivileged user", () => {
  const user = requireRootlessUser();
  const work = rootlessWorkDir("doctor");
  afterAll(() => removeRootlessDir(work));

  test("with a subordinate range: the range is reported and overlayfs works in a user namespace", async () => {
    const r = await karapaceAsTestUser(["doctor", "--json", "--store", join(work, "store")], { env: { HOME: work } });
    const report = parseReport(r.stdout);
    expect(report.user).toBe(user.name);
    expect(report.uid).toBe(user.uid);
    const expected = (file: string) => describeRanges(subidRanges(readFileSync(file, "utf8"), user.name, user.uid));
    expect(checkNamed(report, "subordinate_ids")).toMatchObject({
      status: "pass",
      message: `${user.name} has uids ${expected("/etc/subuid")} and gids ${expected("/etc/subgid")}`,
    });
    expect(checkNamed(report, "user_namespaces").status).toBe("pass");
    expect(checkNamed(report, "uid_map_helpers")).toMatchObject({ status: "pass", required: true });
    expect(checkNamed(report, "kernel_overlay")).toMatchObject({ status: "pass", message: expect.stringContaining(work) });
    expect(report.healthy).toBe(true);
    expect(r.code).toBe(0);
  });

  test("without a subordinate range: the check fails, with the usermod hint, and doctor exits non-zero", async () => {
    const empty = join(work, "subuid-empty");
    writeFileSync(empty, "someone-else:100000:65536\n");
    const env = { HOME: work, KARAPACE_SUBUID_FILE: empty };
    const r = await karapaceAsTestUser(["doctor", "--json", "--store", join(work, "store")], { env });
    expect(r.code).toBe(1);
    const report = parseReport(r.stdout);
    expect(report.healthy).toBe(false);
    const subids = checkNamed(report, "subordinate_ids");
    expect(subids).toMatchObject({ status: "fail", required: true });
    expect(subids.message).toBe(`${user.name} (uid ${user.uid}) has no subordinate uid range in ${empty}`);
    expect(subids.hint).toContain(`usermod --add-subuids`);

    const human = await karapaceAsTestUser(["doctor", "--store", join(work, "store")], { env });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^FAIL {2}subordinate ids +.*has no subordinate uid range/m);
    expect(human.stdout).toContain("hint: sudo usermod --add-subuids");
    expect(human.stderr).toContain("error: doctor: subordinate ids failed");
  });
});
