/**
 * A store on a small tmpfs that fills up mid-build. For a range of free
 * space, `karapace build` either succeeds or fails with exit 3 and a clear
 * "no space left" error; a failed build leaves no environment directory, no
 * staging entry and no temp file behind, and `verify-store` (run while the
 * disk is still full, and again once there is room) finds the store intact. The tmpfs is mounted in a
 * private user + mount namespace (unshare -rm), so no root is needed.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { requireTool } from "../support/prereq.ts";
import { cleanupTemp, repoRoot, tempDir } from "./helpers.ts";

afterAll(cleanupTemp);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface Trial {
  free: number;
  build: Run;
  before: string[];
  afterBuild: { temps: string[]; staging: string[]; envDirs: string[] };
  verifyFull: Run;
  verify: Run;
  list: Run;
}

test("a disk that fills mid-build: a clear error (exit 3), nothing half-written, the store still verifies", async () => {
  const unshare = requireTool("unshare");
  const mountpoint = tempDir("enospc");
  const projects = tempDir("enospc-projects");
  const script = 'mount -t tmpfs -o size=24m tmpfs "$1" && exec "$2" "$3" "$1" "$4"';
  const proc = Bun.spawn(
    [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", mountpoint, process.execPath, join(import.meta.dir, "children", "enospc-cli.ts"), projects],
    { cwd: repoRoot, stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  const trials = JSON.parse(out) as Trial[];

  const failures = new Set<string>();
  let succeeded = 0;
  for (const t of trials) {
    const label = `${t.free} bytes free`;
    if (t.build.code === 0) {
      succeeded++;
      const built = JSON.parse(t.build.stdout) as { env_id: string };
      expect({ label, dirs: t.afterBuild.envDirs }).toEqual({ label, dirs: [...t.before, built.env_id].sort() });
    } else {
      const lines = t.build.stderr.trimEnd().split("\n");
      expect({ label, code: t.build.code, error: lines[0] }).toEqual({ label, code: 3, error: expect.stringMatching(/^error: no space left on the device while [a-z ]+/) });
      expect({ label, hint: lines[1] }).toEqual({ label, hint: expect.stringMatching(/^hint: free some space \(or run 'karapace gc'\), then try again/) });
      failures.add(lines[0]?.replace(/ [0-9a-f]{12}$/, "") ?? "");
      expect({ label, dirs: t.afterBuild.envDirs }).toEqual({ label, dirs: t.before });
    }
    expect({ label, temps: t.afterBuild.temps, staging: t.afterBuild.staging }).toEqual({ label, temps: [], staging: [] });
    // On the full disk verify-store either checks the store (clean) or cannot even open the
    // database, and then says so; it never reports damage that is not there.
    if (t.verifyFull.code === 0) expect((JSON.parse(t.verifyFull.stdout) as { ok: boolean }).ok).toBe(true);
    else expect({ label, code: t.verifyFull.code, err: t.verifyFull.stderr.split("\n")[0] }).toEqual({ label, code: 3, err: "error: no space left on the device while opening the store database" });
    expect({ label, verify: t.verify.code, verifyErr: t.verify.stderr }).toEqual({ label, verify: 0, verifyErr: "" });
    const report = JSON.parse(t.verify.stdout) as { ok: boolean; failed: unknown[]; missing: unknown[] };
    expect({ label, ok: report.ok, failed: report.failed, missing: report.missing }).toEqual({ label, ok: true, failed: [], missing: [] });
    expect({ label, list: t.list.code }).toEqual({ label, list: 0 });
    expect((JSON.parse(t.list.stdout) as unknown[]).length).toBe(t.afterBuild.envDirs.length);
  }
  process.stderr.write(`enospc: ${trials.length} builds, ${succeeded} succeeded; failures: ${[...failures].join(" | ")}\n`);
  // The disk ran out at more than one point of the build, and there was room for some builds to finish.
  expect(failures.size).toBeGreaterThanOrEqual(3);
  expect(succeeded).toBeGreaterThan(0);
  expect(trials.length - succeeded).toBeGreaterThanOrEqual(4);
}, 120_000);
