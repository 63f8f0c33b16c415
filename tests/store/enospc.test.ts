/**
 * A store on a full disk: every write fails with a "no space" StoreError
 * (never a raw errno or SQLiteError), leaves nothing half-written, and the
 * store still verifies. The small filesystem is a tmpfs mounted in a private
 * user + mount namespace (unshare -rm), so this needs no root.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { requireTool } from "../support/prereq.ts";
import { removeRoot, repoRoot, tempRoot } from "./helpers.ts";

test("ENOSPC on objects, layers and metadata: a clear StoreError, no debris, the store verifies", async () => {
  const unshare = requireTool("unshare");
  const root = tempRoot("enospc");
  try {
    const script = 'mount -t tmpfs -o size=8m tmpfs "$1" && exec "$2" "$3" "$1"';
    const proc = Bun.spawn([unshare, "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", root, process.execPath, join(import.meta.dir, "children", "enospc.ts")], {
      cwd: repoRoot,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    const r = JSON.parse(out) as {
      results: Record<string, string>;
      temps: string[];
      staging: string[];
      objects: string[];
      ok: boolean;
      failed: unknown[];
      missing: unknown[];
    };
    const noSpace = /^StoreError: no space left on the device while /;
    expect(r.results.bigBytes).toMatch(noSpace);
    expect(r.results.bigStream).toMatch(noSpace);
    expect(r.results.smallObject).toMatch(noSpace);
    expect(r.results.layer).toMatch(noSpace);
    expect(r.results.metadata).toMatch(noSpace);
    expect({ temps: r.temps, staging: r.staging }).toEqual({ temps: [], staging: [] });
    expect(r.objects.length).toBe(1);
    expect({ ok: r.ok, failed: r.failed, missing: r.missing }).toEqual({ ok: true, failed: [], missing: [] });
  } finally {
    removeRoot(root);
  }
}, 60_000);
