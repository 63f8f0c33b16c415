/**
 * The content digest of cached images: the stat-cache re-check on use, the
 * full re-hash (verifyImageCache full / verify-store --images), and that
 * both agree with the shared WASM tree digest.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, statSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { digestTree } from "../../wasm/digest.ts";
import { ImageError } from "../../src/errors.ts";
import { prepareImage, verifyImageCache } from "../../src/images/index.ts";
import { digestRootfs } from "../../src/images/tree-digest.ts";
import { openStore } from "../../src/store/index.ts";
import { runCli } from "../cli/helpers.ts";
import { cleanupTemp, tarArchive, tempDir, testOptions, writeArchive } from "./helpers.ts";

afterAll(cleanupTemp);

async function cachedImage(): Promise<{ store: string; url: string; rootfs: string; digest: string; cacheKey: string }> {
  const root = tempDir("digest");
  const url = writeArchive(root, "rootfs.tar.xz", tarArchive([
    { name: "./etc/", type: "5" },
    { name: "./etc/hostname", body: "box\n" },
    { name: "./etc/passwd", body: "root:x:0:0:root:/root:/bin/sh\n" },
    { name: "./bin/", type: "5" },
    { name: "./bin/sh", body: new Uint8Array(300_000).fill(3), mode: 0o755 },
    { name: "./bin/ash", type: "2", linkname: "sh" },
  ]));
  const store = join(root, "store");
  const img = await prepareImage(url, testOptions(store));
  return { store, url, rootfs: img.rootfs, digest: img.digest, cacheKey: img.cacheKey };
}

/** Flips one byte in place and puts size and mtime back as they were. */
function flipByteKeepTimes(path: string, offset: number): void {
  const before = statSync(path);
  const bytes = readFileSync(path);
  const fd = openSync(path, "r+");
  writeSync(fd, Buffer.from([(bytes[offset] ?? 0) ^ 0x01]), 0, 1, offset);
  closeSync(fd);
  utimesSync(path, before.atime, before.mtime);
  expect(statSync(path).size).toBe(before.size);
  expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
}

describe("image digests", () => {
  test("the recorded digest is the shared tree digest of the rootfs", async () => {
    const img = await cachedImage();
    expect((await digestTree(img.rootfs)).digest).toBe(img.digest);
    expect((await digestRootfs(img.rootfs, { full: true })).digest).toBe(img.digest);
  });

  test("an unchanged image is re-checked from the stat cache without reading its files", async () => {
    const img = await cachedImage();
    await Bun.sleep(120); // past the racy window, so the next check can trust the recorded stats
    await prepareImage(img.url, testOptions(img.store)); // refreshes the stat cache of the just-unpacked files
    await Bun.sleep(120);
    const quick = await verifyImageCache(img.store, { full: false });
    expect(quick.ok).toBe(true);
    expect(quick.images).toHaveLength(1);
    expect(quick.images[0]?.rehashed).toBe(0);
    const full = await verifyImageCache(img.store, { full: true });
    expect(full.images[0]).toMatchObject({ ok: true, rehashed: 3, digest: img.digest });
  });

  test("one byte changed with size and mtime restored: caught by the full verification", async () => {
    const img = await cachedImage();
    flipByteKeepTimes(join(img.rootfs, "bin/sh"), 150_000);
    const full = await verifyImageCache(img.store, { full: true });
    expect(full.ok).toBe(false);
    expect(full.images[0]?.problem).toMatch(/does not match the recorded digest/);
    // ctime cannot be restored, so the stat cache sees it too.
    await expect(prepareImage(img.url, testOptions(img.store))).rejects.toThrow(/was modified/);
  });

  test("a change of size is caught by the stat-cache re-check when the image is used", async () => {
    const img = await cachedImage();
    appendFileSync(join(img.rootfs, "etc/passwd"), "evil:x:0:0::/:/bin/sh\n");
    const error = await prepareImage(img.url, testOptions(img.store)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toMatch(/^the cached image .* was modified: its content digest is [0-9a-f]{12}, [0-9a-f]{12} was recorded$/);
    expect((error as ImageError).hint).toContain(join(img.store, "images", img.cacheKey));
  });

  test("a new file and a changed mode are caught too", async () => {
    const a = await cachedImage();
    writeFileSync(join(a.rootfs, "etc/extra"), "x");
    await expect(prepareImage(a.url, testOptions(a.store))).rejects.toThrow(/was modified/);
    const b = await cachedImage();
    const { chmodSync } = await import("node:fs");
    chmodSync(join(b.rootfs, "etc/hostname"), 0o777);
    await expect(prepareImage(b.url, testOptions(b.store))).rejects.toThrow(/was modified/);
  });

  test("a local directory image is used in place; a change updates its digest instead of failing", async () => {
    const dir = join(tempDir("dir"), "rootfs");
    mkdirSync(join(dir, "etc"), { recursive: true });
    writeFileSync(join(dir, "etc/hostname"), "a\n");
    const store = tempDir("dir-store");
    const first = await prepareImage(dir, testOptions(store));
    expect(first.rootfs).toBe(dir);
    expect(first.digest).toBe((await digestTree(dir)).digest);
    writeFileSync(join(dir, "etc/hostname"), "b\n");
    const second = await prepareImage(`file://${dir}`, testOptions(store));
    expect(second.digest).toBe((await digestTree(dir)).digest);
    expect(second.digest).not.toBe(first.digest);
  });
});

describe("verify-store and gc through the CLI", () => {
  test("verify-store --images names the modified image and exits 3", async () => {
    const img = await cachedImage();
    openStore(img.store, { create: true }).close();
    const ok = runCli(["--store", img.store, "verify-store", "--images", "--json"]);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as { images: { ok: boolean; full: boolean } }).images).toMatchObject({ ok: true, full: true });
    flipByteKeepTimes(join(img.rootfs, "etc/hostname"), 1);
    const bad = runCli(["--store", img.store, "verify-store", "--images"]);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toContain(`FAIL image ${img.cacheKey}: content does not match the recorded digest`);
    expect(bad.stderr).toContain("error: the store has 1 damaged cached image(s)");
  });

  test("gc removes the staging directory of a killed image preparation and keeps cached images", async () => {
    const img = await cachedImage();
    openStore(img.store, { create: true }).close();
    const stale = join(img.store, "images", ".staging-debian-bookworm-p999999.12345-deadbeef");
    mkdirSync(join(stale, "rootfs/etc"), { recursive: true });
    writeFileSync(join(stale, "rootfs/etc/hostname"), "half\n");
    const r = runCli(["--store", img.store, "gc", "--json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { stale_temps: string[] }).stale_temps).toContain(stale);
    expect(() => statSync(stale)).toThrow();
    expect(statSync(img.rootfs).isDirectory()).toBe(true);
  });
});
