/**
 * diffUpper on upper dirs made by real overlay mounts: a deleted directory
 * (everything below it removed), type changes both ways, a chmod'ed
 * directory, fuse-overlayfs' `.wh.` spelling, and no lower dir at all.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { diffUpper } from "../../src/snapshots/drift.ts";
import { cleanupTemp, inOverlay, makeLower, newOverlay, requireOverlayPrereqs, tempDir } from "./overlay.ts";

let lower: string;

beforeAll(async () => {
  requireOverlayPrereqs();
  lower = await makeLower(join(tempDir("lower"), "rootfs"));
});

afterAll(cleanupTemp);

test("deleted directories, type changes and a chmod'ed directory", () => {
  const o = newOverlay(lower, tempDir("ov"));
  inOverlay(o, "rm -r srv/app && chmod 700 etc && rm etc/hostname && mkdir etc/hostname && rm -r opt/old && echo file > opt/old");
  expect(diffUpper(o.upper, o.lower)).toEqual({
    added: [],
    modified: ["etc", "etc/hostname", "opt/old"],
    removed: ["opt/old/deep", "opt/old/deep/x", "opt/old/y", "srv/app", "srv/app/lib", "srv/app/lib/a.txt", "srv/app/lib/b.txt", "srv/app/main.txt"],
    replaced_dirs: [],
    has_drift: true,
  });
});

test("an untouched overlay has no drift", () => {
  const o = newOverlay(lower, tempDir("ov"));
  inOverlay(o, "cat etc/motd > /dev/null");
  expect(diffUpper(o.upper, o.lower)).toEqual({ added: [], modified: [], removed: [], replaced_dirs: [], has_drift: false });
});

test("fuse-overlayfs' .wh. files count as deletions; without a lower dir everything is added", () => {
  const upper = join(tempDir("fuse"), "upper");
  mkdirSync(join(upper, "etc"), { recursive: true });
  writeFileSync(join(upper, "etc/.wh.motd"), "");
  writeFileSync(join(upper, "etc/new"), "n");
  expect(diffUpper(upper, lower)).toEqual({ added: ["etc/new"], modified: [], removed: ["etc/motd"], replaced_dirs: [], has_drift: true });
  expect(diffUpper(upper, undefined)).toEqual({ added: ["etc", "etc/new"], modified: [], removed: [], replaced_dirs: [], has_drift: true });
});
