/**
 * Image names resolved against a local LXC-style image server
 * (tests/support/image-server.ts): newest build from the simplestreams
 * index (sha256 checked) or from the directory listing, the download, the
 * cache, offline use, network faults.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ImageError } from "../../src/errors.ts";
import { prepareImage } from "../../src/images/index.ts";
import type { PrepareImageOptions } from "../../src/images/api.ts";
import { type ImageServer, NEW_BUILD, standardImages, startImageServer } from "../support/image-server.ts";
import { cleanupTemp, imagesContent, tempDir, testOptions } from "./helpers.ts";

let server: ImageServer;

beforeAll(async () => {
  server = await startImageServer({ images: await standardImages({ debian: false }) });
});

afterAll(async () => {
  await server.stop();
  cleanupTemp();
});

function opts(store: string, extra: Partial<PrepareImageOptions> = {}): PrepareImageOptions {
  const base = testOptions(store);
  return { ...base, env: { ...base.env, KARAPACE_IMAGE_SERVER: server.url }, ...extra };
}

/** Runs `fn` with the server's faults set, then clears them and the request log. */
async function withFaults<T>(faults: ImageServer["faults"], fn: () => Promise<T>): Promise<T> {
  Object.assign(server.faults, faults);
  server.requests.length = 0;
  try {
    return await fn();
  } finally {
    for (const key of Object.keys(server.faults)) delete server.faults[key as keyof ImageServer["faults"]];
  }
}

const archivePath = `/images/archlinux/current/amd64/default/${NEW_BUILD}/rootfs.tar.xz`;

describe("resolving and downloading from the image server", () => {
  test("'arch' resolves to the newest build through the simplestreams index, whose sha256 is checked", async () => {
    const store = tempDir("srv");
    const lines: string[] = [];
    const img = await withFaults({}, () => prepareImage("arch", opts(store, { log: (l) => lines.push(l) })));
    expect(img).toMatchObject({ name: "arch", cacheKey: "archlinux", displayName: "Arch Linux" });
    expect(img.source).toBe(server.archiveUrl("archlinux", "current", NEW_BUILD));
    expect(img.source).toContain("20260220_04%3A20");
    expect(existsSync(join(img.rootfs, "bin/busybox"))).toBe(true);
    expect(existsSync(join(img.rootfs, "etc/OLD-BUILD"))).toBe(false);
    expect(server.requests.map((r) => r.path)).toEqual(["/streams/v1/index.json", "/streams/v1/images.json", archivePath]);
    const record = JSON.parse(readFileSync(join(store, "images/archlinux/digest.json"), "utf8")) as Record<string, unknown>;
    const served = await (await fetch(img.source)).arrayBuffer();
    expect(record.archive_sha256).toBe(new Bun.CryptoHasher("sha256").update(served).digest("hex"));
    expect(record.digest).toBe(img.digest);
    expect(imagesContent(store).filter((p) => p.startsWith(".staging"))).toEqual([]);
  });

  test("without a simplestreams index, the newest build comes from the directory listing", async () => {
    const store = tempDir("srv");
    const img = await withFaults({ noSimplestreams: true }, () => prepareImage("archlinux", opts(store)));
    expect(img.source).toBe(server.archiveUrl("archlinux", "current", NEW_BUILD));
    expect(server.requests.map((r) => r.path)).toContain("/images/archlinux/current/amd64/default/");
    expect(existsSync(join(img.rootfs, "etc/OLD-BUILD"))).toBe(false);
  });

  test("a cached image is used without the network, online and offline", async () => {
    const store = tempDir("srv");
    const first = await prepareImage("arch", opts(store));
    const offlineEnv = { ...process.env, KARAPACE_IMAGE_SERVER: "http://127.0.0.1:9" };
    server.requests.length = 0;
    const again = await prepareImage("arch", { ...opts(store), env: offlineEnv });
    const offline = await prepareImage("arch", { ...opts(store), env: offlineEnv, offline: true });
    expect(server.requests).toEqual([]);
    expect(again.digest).toBe(first.digest);
    expect(offline.rootfs).toBe(first.rootfs);
  });

  test("offline with nothing cached is a clear error and touches no network", async () => {
    const store = tempDir("srv");
    server.requests.length = 0;
    const error = await prepareImage("arch", opts(store, { offline: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toBe("offline mode: the base image Arch Linux is not cached");
    expect((error as ImageError).hint).toContain("without --offline");
    expect(server.requests).toEqual([]);
  });

  test("two concurrent prepares of one image download it once and agree", async () => {
    const store = tempDir("srv");
    const [a, b] = await withFaults({}, () => Promise.all([prepareImage("arch", opts(store)), prepareImage("arch", opts(store))]));
    expect(a.digest).toBe(b.digest);
    expect(server.requests.filter((r) => r.path === archivePath).length).toBe(1);
  });
});

describe("network faults", () => {
  test("a connection cut mid-transfer is resumed with a Range request", async () => {
    const store = tempDir("net");
    const img = await withFaults({ cutAfterBytes: 100_000 }, () => prepareImage("arch", opts(store)));
    const gets = server.requests.filter((r) => r.path === archivePath);
    expect(gets.length).toBe(2);
    expect(gets[0]).toMatchObject({ range: null, status: 200 });
    expect(gets[1]?.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(gets[1]?.range ?? "")?.[0])).toBeGreaterThan(0);
    expect(gets[1]?.status).toBe(206);
    expect(existsSync(join(img.rootfs, "bin/busybox"))).toBe(true);
    expect(existsSync(join(store, "images/.downloads/archlinux.part"))).toBe(false);
  });

  test("a server that ignores Range gets the whole file again, and the result is still right", async () => {
    const store = tempDir("net");
    const plain = await prepareImage("arch", opts(tempDir("net")));
    const img = await withFaults({ cutAfterBytes: 100_000, noRanges: true }, () => prepareImage("arch", opts(store)));
    expect(img.digest).toBe(plain.digest);
  });

  test("404: one request, a one-line error naming the URL", async () => {
    const store = tempDir("net");
    const url = `${server.url}/images/nothing/here/rootfs.tar.xz`;
    const error = await withFaults({}, () => prepareImage(url, opts(store)).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toBe(`not found (HTTP 404): ${url}`);
    expect((error as ImageError).hint).toBeDefined();
    expect(server.requests.filter((r) => r.path.includes("nothing")).length).toBe(1);
    expect(imagesContent(store)).toEqual([]);
  });

  test("503 twice, then served: retried with backoff and done", async () => {
    const store = tempDir("net");
    const img = await withFaults({ failFirst: { path: "rootfs.tar.xz", status: 503, count: 2 } }, () => prepareImage("arch", opts(store)));
    expect(server.requests.filter((r) => r.path === archivePath).map((r) => r.status)).toEqual([503, 503, 200]);
    expect(existsSync(img.rootfs)).toBe(true);
  });

  test("a server that keeps answering 500 gives up after the retries", async () => {
    const store = tempDir("net");
    const error = await withFaults({ status: { "rootfs.tar.xz": 500 } }, () => prepareImage("arch", opts(store, { network: { retries: 2, backoffMs: 5 } })).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toMatch(/HTTP 500 .*\(after 3 attempts\)$/);
    expect(server.requests.filter((r) => r.path === archivePath).length).toBe(3);
    expect(imagesContent(store)).toEqual([]);
  });

  test("a wrong published sha256: rejected, nothing cached, the download discarded", async () => {
    const store = tempDir("net");
    const error = await withFaults({ wrongSha256: true }, () => prepareImage("arch", opts(store)).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toMatch(/^checksum mismatch for .*rootfs\.tar\.xz: got sha256 [0-9a-f]{64}, the image index says 0{64}$/);
    expect(existsSync(join(store, "images/archlinux"))).toBe(false);
    expect(imagesContent(store)).toEqual([]);
  });

  test("a pinned URL on the configured server is checked against the published sha256 too", async () => {
    const store = tempDir("net");
    const url = server.archiveUrl("archlinux", "current", NEW_BUILD);
    const error = await withFaults({ wrongSha256: true }, () => prepareImage(url, opts(store)).catch((e: unknown) => e));
    expect((error as Error).message).toMatch(/^checksum mismatch/);
  });

  test("a server that stalls mid-body: the stall timeout fires and the download resumes", async () => {
    const store = tempDir("net");
    const started = performance.now();
    const lines: string[] = [];
    const img = await withFaults({ stallAfterBytes: 50_000, stallOnce: true }, () =>
      prepareImage("arch", opts(store, { network: { stallTimeoutMs: 300, retries: 1, backoffMs: 5 }, log: (l) => lines.push(l) })),
    );
    expect(lines.some((l) => /stalled for 300 ms .*retrying/.test(l))).toBe(true);
    const gets = server.requests.filter((r) => r.path === archivePath);
    expect(gets.map((r) => r.range)).toEqual([null, "bytes=50000-"]);
    expect(existsSync(join(img.rootfs, "bin/busybox"))).toBe(true);
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  test("a server that never answers times out (timeout lowered), one line after the retries", async () => {
    const store = tempDir("net");
    const started = performance.now();
    const error = await withFaults({ stallHeaders: true }, () =>
      prepareImage("arch", opts(store, { network: { connectTimeoutMs: 300, retries: 1, backoffMs: 5 } })).catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toMatch(/no response within 300 ms .*\(after 2 attempts\)$/);
    expect(server.requests.filter((r) => r.path === archivePath).length).toBe(2);
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(imagesContent(store)).toEqual([]);
  });

  test("an unresolvable host: one line, no retries", async () => {
    const store = tempDir("net");
    const error = await prepareImage("http://host.invalid/rootfs.tar.xz", opts(store)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toBe("cannot resolve host 'host.invalid'");
  });

  test("a refused connection is retried, then a one-line error", async () => {
    const store = tempDir("net");
    const error = await prepareImage("http://127.0.0.1:9/rootfs.tar.xz", opts(store, { network: { retries: 1, backoffMs: 5 } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toMatch(/connection to 127\.0\.0\.1:9 failed: ECONNREFUSED \(after 2 attempts\)$/);
  });
});
