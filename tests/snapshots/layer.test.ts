/**
 * The layer format on real overlay mounts: an upper dir changed through a
 * mounted overlay is packed (packTree, overlayUpper), unpacked into a fresh
 * upper dir, mounted again, and the merged tree must be identical: content,
 * modes, symlinks, hardlinks (same inode), user.* attributes, and base files
 * deleted before the pack still hidden. Also: the OCI spelling of whiteouts
 * and opaque dirs in the archive (checked with GNU tar), determinism across
 * mtimes and creation order, the whiteout-file fallback (fuse-overlayfs), and refusals of
 * archives that try to escape.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packTree } from "../../wasm/pack.ts";
import { readXattrs } from "../../wasm/xattr.ts";
import { unpackLayer, UnsafeArchiveError } from "../../src/snapshots/unpack.ts";
import { requireTool } from "../support/prereq.ts";
import { CHANGES, cleanupTemp, fingerprintTree, inOverlay, makeLower, mergedFingerprint, newOverlay, type Overlay, requireOverlayPrereqs, tempDir } from "./overlay.ts";

let lower: string;

beforeAll(async () => {
  requireOverlayPrereqs();
  requireTool("setfattr");
  lower = await makeLower(join(tempDir("lower"), "rootfs"));
});

afterAll(cleanupTemp);

function changed(userxattr: boolean, script = CHANGES): Overlay {
  const o = newOverlay(lower, tempDir("ov"), userxattr);
  inOverlay(o, script);
  return o;
}

async function roundTrip(o: Overlay, style: "auto" | "device" | "files" = "auto"): Promise<{ before: ReturnType<typeof fingerprintTree>; after: ReturnType<typeof fingerprintTree>; restored: Overlay }> {
  const before = mergedFingerprint(o);
  const dir = tempDir("rt");
  const tar = join(dir, "layer.tar");
  const packed = await packTree(o.upper, tar, { overlayUpper: true });
  expect(packed.whiteouts).toBe(2); // etc/motd, srv/app/lib/b.txt
  expect(packed.opaqueDirs).toBe(1); // opt/old
  const restored = { ...newOverlay(lower, join(dir, "restored"), o.userxattr), fuse: style === "files" };
  // newOverlay made an empty upper; unpack wants to create it.
  const { rmSync } = await import("node:fs");
  rmSync(restored.upper, { recursive: true });
  const result = await unpackLayer(Bun.file(tar).stream(), restored.upper, { whiteouts: style, overlayXattrs: o.userxattr ? "user" : "trusted" });
  expect(result.whiteouts).toBe(2);
  expect(result.opaqueDirs).toBe(1);
  expect(result.hardlinks).toBe(2);
  return { before, after: mergedFingerprint(restored), restored };
}

describe("round trip through a real overlay mount", () => {
  for (const userxattr of [true, false]) {
    test(`merged tree identical after pack + unpack (${userxattr ? "userxattr" : "trusted xattrs"})`, async () => {
      const o = changed(userxattr);
      const { before, after, restored } = await roundTrip(o);
      expect(after).toEqual(before);
      const byPath = new Map(after.map((r) => [r.path, r]));
      // Deleted base files stay hidden, the replaced dir shows only the new file.
      expect(byPath.has("etc/motd")).toBe(false);
      expect(byPath.has("srv/app/lib/b.txt")).toBe(false);
      expect(byPath.has("opt/old/y")).toBe(false);
      expect(byPath.has("opt/old/deep")).toBe(false);
      expect(byPath.get("opt/old/fresh")?.type).toBe("file");
      // Hardlinks are one inode in the merged view.
      expect([byPath.get("new/h2")?.linkGroup, byPath.get("srv/h3")?.linkGroup]).toEqual(["new/h1", "new/h1"]);
      expect(byPath.get("new/sub/hello.txt")?.xattrs).toEqual({ "user.note": Buffer.from("kept value").toString("base64") });
      expect(byPath.get("new/suid")?.mode).toBe(0o4755);
      expect(byPath.get("new/ro")?.mode).toBe(0o400);
      expect(byPath.get("new/locked")?.mode).toBe(0o555);
      expect(byPath.get("new/pipe")?.type).toBe("fifo");
      expect(byPath.get("new/link")?.content).toBe("../srv/app/main.txt");
      // The restored upper dir holds real whiteouts and the right opaque marker.
      expect(lstatSync(join(restored.upper, "etc/motd")).isCharacterDevice()).toBe(true);
      expect(lstatSync(join(restored.upper, "etc/motd")).rdev).toBe(0);
      const marker = userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque";
      const opq = readXattrs(Buffer.from(join(restored.upper, "opt/old"))).find((x) => x.name.toString() === marker);
      expect(opq?.value.toString()).toBe("y");
    });
  }

  test("whiteout files (the fallback where mknod is refused) hide the same base files under fuse-overlayfs", async () => {
    const o = changed(true);
    const { before, after, restored } = await roundTrip(o, "files");
    expect(after).toEqual(before);
    expect(lstatSync(join(restored.upper, "etc/.wh.motd")).size).toBe(0);
    expect(lstatSync(join(restored.upper, "opt/old/.wh..wh..opq")).size).toBe(0);
  });
});

describe("archive form", () => {
  test("GNU tar lists whiteouts as .wh. files, the opaque marker first in its dir, and no overlay attributes", async () => {
    const o = changed(true);
    const tar = join(tempDir("form"), "l.tar");
    await packTree(o.upper, tar, { overlayUpper: true });
    const list = Bun.spawnSync([requireTool("tar"), "-tf", tar]).stdout.toString().trim().split("\n");
    expect(list).toContain("etc/.wh.motd");
    expect(list).toContain("srv/app/lib/.wh.b.txt");
    expect(list.indexOf("opt/old/.wh..wh..opq")).toBe(list.indexOf("opt/old/") + 1);
    expect(list.some((n) => n.endsWith("/motd") || n === "etc/motd")).toBe(false);
    const bytes = readFileSync(tar);
    expect(bytes.includes(Buffer.from("overlay."))).toBe(false);
    expect(bytes.includes(Buffer.from("SCHILY.xattr.user.note"))).toBe(true);
    // GNU tar extracts it as plain files: an OCI-style layer anyone can read.
    const x = tempDir("gnu");
    const r = Bun.spawnSync([requireTool("tar"), "-xf", tar, "-C", x], { stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(lstatSync(join(x, "etc/.wh.motd")).size).toBe(0);
  });

  test("the same upper state gives the same bytes whatever the mtimes and creation order", async () => {
    const a = changed(true);
    // Same end state, built in another order, a second later.
    const lines = CHANGES.trim().split("\n");
    await Bun.sleep(1100);
    const b = changed(true, ["mkdir new", ...lines.slice(8), ...lines.slice(0, 8)].join("\n"));
    expect(fingerprintTree(b.upper, { withOverlayMarkers: true })).toEqual(fingerprintTree(a.upper, { withOverlayMarkers: true }));
    const dir = tempDir("det");
    const ha = await packTree(a.upper, join(dir, "a.tar"), { overlayUpper: true });
    const hb = await packTree(b.upper, join(dir, "b.tar"), { overlayUpper: true });
    expect(lstatSync(join(a.upper, "new/h1")).mtimeMs).not.toBe(lstatSync(join(b.upper, "new/h1")).mtimeMs);
    expect(hb.tarHash).toBe(ha.tarHash);
  });
});

describe("hostile archives are refused", () => {
  async function tarOf(build: (dir: string) => void, args: string[]): Promise<string> {
    const dir = tempDir("evil");
    build(dir);
    const tar = join(dir, "..", `${Math.random().toString(36).slice(2)}.tar`);
    const r = Bun.spawnSync([requireTool("tar"), "-cf", tar, "-C", dir, ...args], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    return tar;
  }

  test("'..', absolute paths and writing through a symlink", async () => {
    const outside = tempDir("outside");
    const cases: Array<[string, string]> = [];
    cases.push([await tarOf((d) => writeFileSync(join(d, "f"), "x"), ["--transform=s,^f,../escape,", "f"]), "'..'"]);
    cases.push([await tarOf((d) => writeFileSync(join(d, "f"), "x"), ["--absolute-names", "--transform", `s,^f,${outside}/abs,`, "f"]), "absolute"]);
    cases.push([
      await tarOf((d) => {
        Bun.spawnSync(["ln", "-s", outside, join(d, "l")]);
        mkdirSync(join(d, "x"));
        writeFileSync(join(d, "x/f"), "x");
      }, ["l", "--transform=s,^x,l,", "x/f"]),
      "not a directory",
    ]);
    for (const [tar, why] of cases) {
      const dest = join(tempDir("dest"), "u");
      let error: unknown;
      try {
        await unpackLayer(Bun.file(tar).stream(), dest);
      } catch (e) {
        error = e;
      }
      expect({ why, error: error instanceof UnsafeArchiveError }).toEqual({ why, error: true });
    }
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(outside)).toEqual([]);
  });
});
