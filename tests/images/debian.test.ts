/**
 * The real thing: the debootstrap Debian minbase rootfs, served as
 * debian/bookworm by the local image server, resolved from the name
 * `debian`, downloaded, verified, unpacked and digested by the same code a
 * user's build runs; and the same archive as a local file gives the same digest.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { prepareImage, verifyImageCache } from "../../src/images/index.ts";
import { debianRootfsTarXz } from "../support/fixtures.ts";
import { type ImageServer, NEW_BUILD, standardImages, startImageServer } from "../support/image-server.ts";
import { cleanupTemp, tempDir, testOptions } from "./helpers.ts";

let server: ImageServer;

beforeAll(async () => {
  server = await startImageServer({ images: await standardImages() });
});

afterAll(async () => {
  await server.stop();
  cleanupTemp();
});

test("'debian' from the image server and the same archive as a file give one digest", async () => {
  const store = tempDir("debian");
  const base = testOptions(store);
  const img = await prepareImage("debian", { ...base, env: { ...base.env, KARAPACE_IMAGE_SERVER: server.url } });
  expect(img).toMatchObject({ cacheKey: "debian-bookworm", displayName: "Debian Bookworm", source: server.archiveUrl("debian", "bookworm", NEW_BUILD) });
  expect(readFileSync(join(img.rootfs, "etc/debian_version"), "utf8")).toMatch(/^12\./);
  expect(existsSync(join(img.rootfs, "usr/bin/apt-get"))).toBe(true);

  const local = await prepareImage(`file://${await debianRootfsTarXz()}`, testOptions(store));
  expect(local.cacheKey).not.toBe(img.cacheKey);
  expect(local.digest).toBe(img.digest);

  const report = await verifyImageCache(store, { full: true });
  expect(report.ok).toBe(true);
  expect(report.images.map((i) => i.cache_key).sort()).toEqual([img.cacheKey, local.cacheKey].sort());
}, 300_000);
