/**
 * Hostile and broken archives, built by hand in the test: each is refused
 * with a one-line ImageError, nothing is written outside the staging
 * directory, and the cache is left as it was.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImageError } from "../../src/errors.ts";
import { prepareImage } from "../../src/images/index.ts";
import { cleanupTemp, imagesContent, listTree, type RawEntry, tarArchive, tempDir, testOptions, writeArchive } from "./helpers.ts";

afterAll(cleanupTemp);

const FILE: RawEntry = { name: "./etc/hostname", body: "box\n" };

interface Attempt {
  error: unknown;
  outside: string[];
  images: string[];
}

/** Prepares `archive` as an image in a fresh store whose sibling `outside/` must stay empty. */
async function attempt(entries: readonly RawEntry[] | Buffer, name = "rootfs.tar.xz", extra: { maxExtractBytes?: number; raw?: boolean } = {}): Promise<Attempt> {
  const root = tempDir("hostile");
  const outside = join(root, "outside");
  mkdirSync(outside);
  const data = Buffer.isBuffer(entries) ? entries : tarArchive(entries);
  let url: string;
  if (extra.raw === true) {
    mkdirSync(join(root, "src"));
    writeFileSync(join(root, "src", name), data);
    url = `file://${join(root, "src", name)}`;
  } else {
    url = writeArchive(join(root, "src"), name, data);
  }
  const store = join(root, "store");
  let error: unknown;
  try {
    await prepareImage(url, testOptions(store, { maxExtractBytes: extra.maxExtractBytes }));
  } catch (e) {
    error = e;
  }
  return { error, outside: listTree(outside), images: imagesContent(store) };
}

function expectRefused(a: Attempt, message: RegExp): void {
  expect(a.error).toBeInstanceOf(ImageError);
  const e = a.error as ImageError;
  expect(e.message).toMatch(message);
  expect(e.message).not.toContain("\n");
  expect(e.hint).toBeDefined();
  expect(a.outside).toEqual([]);
  // No cache entry, no staging directory left; at most the (empty) download dir.
  expect(a.images).toEqual([]);
}

describe("hostile archives are refused", () => {
  test("a ../ escape", async () => {
    const a = await attempt([FILE, { name: "./etc/../../outside/pwned", body: "x" }]);
    expectRefused(a, /escapes its root/);
  });

  test("an absolute path", async () => {
    const a = await attempt([FILE, { name: "/outside/pwned", body: "x" }]);
    expectRefused(a, /absolute path/);
  });

  test("a symlink followed by a write through it", async () => {
    const root = tempDir("symlink-target");
    const a = await attempt([FILE, { name: "./escape", type: "2", linkname: root }, { name: "./escape/pwned", body: "x" }]);
    expectRefused(a, /through the symlink 'escape'/);
    expect(listTree(root)).toEqual([]);
  });

  test("a symlink used as a directory deeper down", async () => {
    const a = await attempt([{ name: "./d/", type: "5" }, { name: "./d/up", type: "2", linkname: "../../outside" }, { name: "./d/up/sub/pwned", body: "x" }]);
    expectRefused(a, /through the symlink 'd\/up'/);
  });

  test("a hard link to a path outside the tree", async () => {
    const a = await attempt([FILE, { name: "./passwd", type: "1", linkname: "../../outside/x" }]);
    expectRefused(a, /escapes its root/);
  });

  test("a hard link to an absolute path", async () => {
    const a = await attempt([FILE, { name: "./passwd", type: "1", linkname: "/etc/passwd" }]);
    expectRefused(a, /absolute path/);
  });

  test("a hard link to something not extracted before it", async () => {
    const a = await attempt([FILE, { name: "./later", type: "1", linkname: "./etc/shadow" }]);
    expectRefused(a, /not a regular file extracted before it/);
  });

  test("an absurd header size (base-256, beyond 2^53)", async () => {
    const huge = new Uint8Array(12);
    huge[0] = 0x80;
    huge[4] = 0x7f; // ~2^63
    const a = await attempt([FILE, { name: "./big", sizeField: huge, body: "" }]);
    expectRefused(a, /impossible size|claims/);
  });

  test("a header size beyond the extraction limit", async () => {
    const a = await attempt([FILE, { name: "./big", sizeField: "77777777777\0", body: new Uint8Array(2 << 20) }], "rootfs.tar.xz", { maxExtractBytes: 1 << 20 });
    expectRefused(a, /claims 8589934591 bytes, more than the extraction limit/);
  });

  test("a decompression bomb (64 MiB of zeros behind a few KiB of xz) past a lowered limit", async () => {
    const zeros = new Uint8Array(64 << 20);
    const a = await attempt([FILE, { name: "./zeros", body: zeros }], "rootfs.tar.xz", { maxExtractBytes: 4 << 20 });
    expectRefused(a, /decompression bomb|claims/);
  });

  test("a bomb made of many small entries (no single entry is large)", async () => {
    const entries: RawEntry[] = [FILE];
    for (let i = 0; i < 600; i++) entries.push({ name: `./f${i}`, body: new Uint8Array(4096) });
    const a = await attempt(entries, "rootfs.tar.xz", { maxExtractBytes: 1 << 20 });
    expectRefused(a, /decompression bomb/);
  });
});

describe("broken archives are refused", () => {
  test("a tar truncated inside a file's data", async () => {
    const whole = tarArchive([FILE, { name: "./data", body: new Uint8Array(5000).fill(7) }]);
    const a = await attempt(whole.subarray(0, 512 * 3 + 100), "rootfs.tar");
    expectRefused(a, /truncated/);
  });

  test("a tar that stops at an entry boundary without its end-of-archive marker", async () => {
    const a = await attempt(tarArchive([FILE, { name: "./data", body: new Uint8Array(1000).fill(7) }], { end: false }), "rootfs.tar");
    expectRefused(a, /truncated/);
  });

  test("a truncated .xz stream", async () => {
    const root = tempDir("xz-cut");
    const url = writeArchive(root, "full.tar.xz", tarArchive([FILE, { name: "./data", body: crypto.getRandomValues(new Uint8Array(60000)) }]));
    const bytes = readFileSync(url.slice("file://".length));
    const a = await attempt(bytes.subarray(0, bytes.length - 200), "rootfs.tar.xz", { raw: true });
    expect(a.error).toBeInstanceOf(ImageError);
    expect((a.error as Error).message).toMatch(/damaged|truncated/);
    expect(a.images).toEqual([]);
  });

  test("a header with a bad checksum", async () => {
    const data = tarArchive([FILE, { name: "./data", body: "x" }]);
    data[1024 + 10] = (data[1024 + 10] ?? 0) ^ 0xff; // inside the second header's name
    const a = await attempt(data, "rootfs.tar");
    expectRefused(a, /not a valid tar archive|checksum/);
  });
});

describe("what is allowed", () => {
  test("device nodes and fifos are skipped and counted, not an error; modes get u+rwX; hard links are kept", async () => {
    const root = tempDir("devices");
    const url = writeArchive(root, "rootfs.tar.gz", tarArchive([
      { name: "./dev/", type: "5" },
      { name: "./dev/null", type: "3" },
      { name: "./dev/sda", type: "4" },
      { name: "./run/initctl", type: "6" },
      { name: "./usr/bin/tool", body: "#!/bin/sh\n", mode: 0o4511 },
      { name: "./usr/bin/tool-link", type: "1", linkname: "usr/bin/tool" },
      { name: "./etc/", type: "5", mode: 0o500 },
      { name: "./etc/secret", body: "s", mode: 0o000 },
      { name: "./etc/alt", type: "2", linkname: "/usr/bin/tool" },
    ]));
    const store = join(root, "store");
    const lines: string[] = [];
    const img = await prepareImage(url, testOptions(store, { log: (l) => lines.push(l) }));
    const record = JSON.parse(readFileSync(join(store, "images", img.cacheKey, "digest.json"), "utf8")) as { skipped_devices: number };
    expect(record.skipped_devices).toBe(3);
    expect(lines.some((l) => l.includes("skipped 3 device node(s)"))).toBe(true);
    expect(existsSync(join(img.rootfs, "dev/null"))).toBe(false);
    expect(existsSync(join(img.rootfs, "run/initctl"))).toBe(false);
    const { statSync, lstatSync, readlinkSync } = await import("node:fs");
    expect(statSync(join(img.rootfs, "usr/bin/tool")).mode & 0o7777).toBe(0o4711);
    expect(statSync(join(img.rootfs, "etc")).mode & 0o7777).toBe(0o700);
    expect(statSync(join(img.rootfs, "etc/secret")).mode & 0o7777).toBe(0o600);
    expect(statSync(join(img.rootfs, "usr/bin/tool-link")).ino).toBe(statSync(join(img.rootfs, "usr/bin/tool")).ino);
    expect(lstatSync(join(img.rootfs, "etc/alt")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(img.rootfs, "etc/alt"))).toBe("/usr/bin/tool");
  });

  test("the same tree as .tar, .tar.gz, .tar.xz and .tar.zst gives the same digest", async () => {
    const root = tempDir("formats");
    const data = tarArchive([FILE, { name: "./bin/", type: "5" }, { name: "./bin/sh", body: "#!\n", mode: 0o755 }, { name: "./bin/ash", type: "2", linkname: "sh" }]);
    const digests = new Set<string>();
    for (const name of ["rootfs.tar", "rootfs.tar.gz", "rootfs.tar.xz", "rootfs.tar.zst"]) {
      const img = await prepareImage(writeArchive(join(root, name.replaceAll(".", "-")), name, data), testOptions(join(root, "store")));
      expect(readFileSync(join(img.rootfs, "etc/hostname"), "utf8")).toBe("box\n");
      digests.add(img.digest);
    }
    expect(digests.size).toBe(1);
  });

  test("a later entry replaces an earlier file, as tar does", async () => {
    const root = tempDir("replace");
    const url = writeArchive(root, "rootfs.tar", tarArchive([FILE, { name: "./etc/hostname", body: "second\n" }]));
    const img = await prepareImage(url, testOptions(join(root, "store")));
    expect(readFileSync(join(img.rootfs, "etc/hostname"), "utf8")).toBe("second\n");
  });

  test("a failed extraction leaves an existing cache entry untouched", async () => {
    const root = tempDir("keep");
    const store = join(root, "store");
    const good = await prepareImage(writeArchive(join(root, "a"), "rootfs.tar", tarArchive([FILE])), testOptions(store));
    const before = imagesContent(store);
    // The same archive path, replaced by a hostile one: it is unpacked again (it changed) and refused.
    writeFileSync(good.source, tarArchive([FILE, { name: "../evil", body: "x" }]));
    await expect(prepareImage(`file://${good.source}`, testOptions(store))).rejects.toThrow(/escapes its root/);
    expect(imagesContent(store)).toEqual(before);
    expect(readFileSync(join(good.rootfs, "etc/hostname"), "utf8")).toBe("box\n");
  });
});
