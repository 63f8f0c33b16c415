/**
 * diff, commit, snapshots, restore and export through the real CLI against a
 * store. The environment is built with the mock backend; its upper dir is
 * then changed through a real kernel overlay mount over a busybox rootfs
 * (linked as env/<id>/lower, where the reference keeps the lower dir),
 * unmounted, and the commands run on the result. Tests run as root, where
 * the runtime mounts without userxattr, so the markers are trusted.overlay.*.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { blake3 as hashWasmBlake3 } from "hash-wasm";
import { errorLines, k, kJson } from "../engine/helpers.ts";
import { requireTool } from "../support/prereq.ts";
import { changedEnvironment, cleanupTemp, digestRecords, inOverlay, mergedFingerprint, type Overlay, requireOverlayPrereqs, tempDir } from "./overlay.ts";

let store: string;
let envId: string;
let overlay: Overlay;

beforeAll(async () => {
  requireOverlayPrereqs();
  requireTool("setfattr");
  ({ store, envId, overlay } = await changedEnvironment(["--name", "web"]));
});

afterAll(cleanupTemp);

const sorted = (xs: string[]): string[] => [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
const LONG_DIR = `new/${"d".repeat(120)}`;

describe("diff", () => {
  test("--json lists added, modified (replaced dir marked) and removed paths, sorted", () => {
    const r = kJson<Record<string, unknown>>(store, ["diff", "web"]);
    expect(Object.keys(r).sort()).toEqual(["added", "base_dir", "env_id", "has_drift", "modified", "removed", "replaced_dirs"]);
    expect(r.env_id).toBe(envId);
    expect(r.base_dir).toBe(join(store, "env", envId, "lower"));
    expect(r.has_drift).toBe(true);
    expect(r.added).toEqual(
      sorted([
        ".karapace-mock", "new", LONG_DIR, `${LONG_DIR}/${"n".repeat(90)}`, "new/h1", "new/h2", "new/link", "new/locked", "new/locked/f",
        "new/pipe", "new/ro", "new/sub", "new/sub/hello.txt", "new/suid", "opt/old/fresh", "srv/h3",
      ]),
    );
    expect(r.modified).toEqual(["opt/old", "srv/app/main.txt"]);
    expect(r.removed).toEqual(["etc/motd", "opt/old/deep", "opt/old/deep/x", "opt/old/y", "srv/app/lib/b.txt"]);
    expect(r.replaced_dirs).toEqual(["opt/old"]);
  });

  test("human output marks each kind and the replaced directory", () => {
    const r = k(store, ["diff", "web"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("drift detected in environment web:");
    expect(lines).toContain("  + new/sub/hello.txt");
    expect(lines).toContain("  ~ opt/old (replaced)");
    expect(lines).toContain("  ~ srv/app/main.txt");
    expect(lines).toContain("  - etc/motd");
  });
});

describe("commit, snapshots, restore", () => {
  let committed: Record<string, unknown>;
  let mergedAtCommit: string;

  test("commit writes a Snapshot layer with the reference's composite hash", async () => {
    mergedAtCommit = digestRecords(mergedFingerprint(overlay));
    committed = kJson(store, ["commit", "web"]);
    expect(committed.env_id).toBe(envId);
    expect(committed.status).toBe("created");
    expect(committed.whiteouts).toBe(2);
    expect(committed.opaque_dirs).toBe(1);
    const envRow = kJson<{ base_layer: string }>(store, ["inspect", "web"]);
    const layerFile = join(store, "store", "layers", committed.snapshot_hash as string);
    const layer = JSON.parse(readFileSync(layerFile, "utf8")) as Record<string, unknown>;
    expect(layer.kind).toBe("Snapshot");
    expect(layer.parent).toBe(envRow.base_layer);
    expect(layer.tar_hash).toBe(committed.tar_hash);
    expect(layer.hash).toBe(await hashWasmBlake3(`snapshot:${envId}:${envRow.base_layer}:${committed.tar_hash as string}`));
    expect(await hashWasmBlake3(readFileSync(layerFile))).toBe(committed.snapshot_hash as string);
    const object = join(store, "store", "objects", committed.tar_hash as string);
    expect(await hashWasmBlake3(readFileSync(object))).toBe(committed.tar_hash as string);
    expect(statSync(object).size).toBe(committed.size as number);
  });

  test("committing the same state again gives the same snapshot, marked unchanged", () => {
    const again = kJson(store, ["commit", "web"]);
    expect(again.snapshot_hash).toBe(committed.snapshot_hash);
    expect(again.status).toBe("unchanged");
  });

  test("snapshots lists it with its restore hash, time and size", () => {
    const list = kJson<{ env_id: string; snapshots: Array<Record<string, unknown>> }>(store, ["snapshots", "web"]);
    expect(list.env_id).toBe(envId);
    expect(list.snapshots).toHaveLength(1);
    const s = list.snapshots[0] as Record<string, unknown>;
    expect(Object.keys(s).sort()).toEqual(["created_at", "hash", "parent", "restore_hash", "size", "tar_hash"]);
    expect(s.restore_hash).toBe(committed.snapshot_hash);
    expect(s.size).toBe(committed.size);
    expect(Date.now() - Date.parse(s.created_at as string)).toBeLessThan(120_000);
    const human = k(store, ["snapshots", "web"]).stdout;
    expect(human).toContain(committed.snapshot_hash as string);
    expect(human).toContain("RESTORE HASH");
  });

  test("restore by prefix brings back exactly the committed merged tree", () => {
    inOverlay(overlay, "rm -r new srv/app && printf 'later\\n' > etc/hostname && mkdir more && printf 'x\\n' > more/file && rm bin/busybox");
    expect(digestRecords(mergedFingerprint(overlay))).not.toBe(mergedAtCommit);
    const r = kJson(store, ["restore", "web", (committed.snapshot_hash as string).slice(0, 10)]);
    expect(r.restored_snapshot).toBe(committed.snapshot_hash);
    expect(digestRecords(mergedFingerprint(overlay))).toBe(mergedAtCommit);
    expect(readdirOrEmpty(join(store, "store", "staging"))).toEqual([]);
    const verify = k(store, ["verify-store", "--json"]);
    expect(verify.code).toBe(0);
  });

  test("restore refuses an unknown snapshot (exit 3) and a running-like state (exit 1)", () => {
    const unknown = k(store, ["restore", "web", "f".repeat(64)]);
    expect(unknown.code).toBe(3);
    expect(errorLines(unknown).error).toContain("not found");
    const base = kJson<{ base_layer: string }>(store, ["inspect", "web"]).base_layer;
    const notSnapshot = k(store, ["restore", "web", base]);
    expect(notSnapshot.code).toBe(1);
    expect(errorLines(notSnapshot).error).toContain("not a snapshot");
    expect(k(store, ["archive", "web"]).code).toBe(0);
    const archived = k(store, ["commit", "web"]);
    expect(archived.code).toBe(1);
    expect(errorLines(archived).hint).toContain("karapace build");
  });
});

describe("export", () => {
  test("writes <name>.tar in the current directory, the same bytes as the snapshot of that state", () => {
    const cwd = tempDir("export");
    const r = kJson(store, ["export", "web"], { cwd });
    const file = join(cwd, "web.tar");
    expect(r.output).toBe(file);
    expect(existsSync(file)).toBe(true);
    const list = Bun.spawnSync([requireTool("tar"), "-tf", file]).stdout.toString().split("\n");
    expect(list).toContain("etc/.wh.motd");
    expect(list).toContain("opt/old/.wh..wh..opq");
    // The upper dir is back to the committed state, so the export is that snapshot's archive.
    const snap = kJson<{ snapshots: Array<{ tar_hash: string }> }>(store, ["snapshots", "web"]).snapshots[0];
    expect(r.tar_hash).toBe(snap?.tar_hash);
    const again = k(store, ["export", "web"], { cwd });
    expect(again.code).toBe(1);
    expect(errorLines(again).hint).toContain("--force");
    expect(k(store, ["export", "web", "--force"], { cwd }).code).toBe(0);
  });

  test("--output - streams the archive to stdout", () => {
    const cwd = tempDir("export-stdout");
    const file = join(cwd, "x.tar");
    expect(k(store, ["export", "web", "-o", file], { cwd }).code).toBe(0);
    const r = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../bin/karapace.ts"), "--store", store, "export", "web", "-o", "-"], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(0);
    expect(Buffer.from(r.stdout).equals(readFileSync(file))).toBe(true);
    expect(k(store, ["export", "web", "-o", "-", "--json"]).code).toBe(2);
  });
});

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
