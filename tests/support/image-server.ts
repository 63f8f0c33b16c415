/**
 * A local image server for tests and benchmarks, laid out like an LXC image
 * server:
 *
 *   /images/<distro>/<release>/amd64/default/            HTML listing of builds
 *   /images/<distro>/<release>/amd64/default/<build>/rootfs.tar.xz
 *   /streams/v1/index.json, /streams/v1/images.json      simplestreams index
 *
 * Bun.serve on 127.0.0.1 and a random port. Archives are served from files,
 * with Range support, so downloads go through the same code a user's do.
 * Faults can be injected to test the client's error handling.
 *
 *   const server = await startImageServer({ images: await standardImages() });
 *   // KARAPACE_IMAGE_SERVER=server.url
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busyboxRootfs, debianRootfsTarXz } from "./fixtures.ts";
import { requireTool } from "./prereq.ts";

export interface ServedBuild {
  /** Build name as the LXC server writes it, e.g. `20260220_04:20`. */
  build: string;
  /** Path of the rootfs.tar.xz to serve. */
  archive: string;
}

export interface ServedImage {
  distro: string;
  release: string;
  builds: ServedBuild[];
}

export interface Faults {
  /** The first GET of an archive without a Range header sends this many bytes, then drops the connection. */
  cutAfterBytes?: number;
  /** Archive responses send this many bytes, then stop sending (the connection stays open). */
  stallAfterBytes?: number;
  /** With stallAfterBytes: only the first archive response stalls. */
  stallOnce?: boolean;
  /** Archive requests get no response at all (not even headers) until the server stops. */
  stallHeaders?: boolean;
  /** Answer every request whose path contains the key with this HTTP status. */
  status?: Record<string, number>;
  /** The first `count` requests whose path contains `path` get `status`; later ones are served. */
  failFirst?: { path: string; status: number; count: number };
  /** Publish a wrong sha256 for every archive in images.json. */
  wrongSha256?: boolean;
  /** Serve no simplestreams index (404), so clients fall back to the directory listing. */
  noSimplestreams?: boolean;
  /** Ignore Range headers (always answer 200 with the whole file). */
  noRanges?: boolean;
}

export interface RequestRecord {
  method: string;
  path: string;
  range: string | null;
  status: number;
}

export interface ImageServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (what KARAPACE_IMAGE_SERVER takes). */
  url: string;
  port: number;
  requests: RequestRecord[];
  faults: Faults;
  /** URL of a build's rootfs.tar.xz, with ':' written %3A as the listings do. */
  archiveUrl(distro: string, release: string, build: string): string;
  sha256(archive: string): string;
  stop(): Promise<void>;
}

const ARCH_PATH = "amd64/default";

function encodeBuild(build: string): string {
  return encodeURIComponent(build);
}

function listing(title: string, names: readonly string[]): string {
  const rows = names.map((n) => `<tr><td><a href="${encodeURIComponent(n)}/">${n}/</a></td><td>-</td></tr>`).join("\n");
  return `<html><head><title>Index of ${title}</title></head><body><h1>Index of ${title}</h1>\n<table><tr><th>Name</th></tr>\n<tr><td><a href="../">../</a></td></tr>\n${rows}\n</table></body></html>\n`;
}

function fileSha256(path: string): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(readFileSync(path));
  return h.digest("hex");
}

/** A stream of `file[start..end)` that stops after `limit` bytes: erroring (cut) or hanging (stall). */
function limitedBody(path: string, start: number, end: number, limit: number | undefined, mode: "cut" | "stall", signal: AbortSignal): ReadableStream<Uint8Array> {
  const source = Bun.file(path).slice(start, end).stream();
  if (limit === undefined) return source;
  const reader = source.getReader();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= limit) {
        if (mode === "cut") {
          // Let what was sent reach the client before the connection drops.
          await Bun.sleep(100);
          controller.error(new Error("image server: connection cut (fault injection)"));
          return;
        }
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        controller.close();
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      const room = limit - sent;
      const piece = value.length > room ? value.subarray(0, room) : value;
      sent += piece.length;
      controller.enqueue(piece);
    },
    cancel: () => reader.cancel(),
  });
}

export async function startImageServer(options: { images: ServedImage[]; faults?: Faults }): Promise<ImageServer> {
  const faults: Faults = options.faults ?? {};
  const requests: RequestRecord[] = [];
  const shaCache = new Map<string, string>();
  const sha256 = (archive: string): string => {
    let s = shaCache.get(archive);
    if (s === undefined) {
      s = fileSha256(archive);
      shaCache.set(archive, s);
    }
    return s;
  };
  const archives = new Map<string, string>();
  for (const img of options.images) {
    for (const b of img.builds) archives.set(`/images/${img.distro}/${img.release}/${ARCH_PATH}/${b.build}/rootfs.tar.xz`, b.archive);
  }
  const stopping = new AbortController();
  let cutDone = false;
  let stallDone = false;
  let failed = 0;

  const imagesJson = (): string => {
    const products: Record<string, unknown> = {};
    for (const img of options.images) {
      const versions: Record<string, unknown> = {};
      for (const b of img.builds) {
        const path = `images/${img.distro}/${img.release}/${ARCH_PATH}/${b.build}/rootfs.tar.xz`;
        const sha = faults.wrongSha256 === true ? "0".repeat(64) : sha256(b.archive);
        versions[b.build] = {
          items: {
            "root.tar.xz": { ftype: "root.tar.xz", path, sha256: sha, size: statSync(b.archive).size },
            "lxd.tar.xz": { ftype: "lxd.tar.xz", path: path.replace("rootfs.tar.xz", "lxd.tar.xz"), sha256: "1".repeat(64), size: 1 },
          },
        };
      }
      products[`${img.distro}:${img.release}:amd64:default`] = { arch: "amd64", os: img.distro, release: img.release, variant: "default", versions };
    }
    return JSON.stringify({ content_id: "images", datatype: "image-downloads", format: "products:1.0", products });
  };

  const indexJson = (): string =>
    JSON.stringify({
      format: "index:1.0",
      index: {
        images: {
          datatype: "image-downloads",
          path: "streams/v1/images.json",
          format: "products:1.0",
          products: options.images.map((i) => `${i.distro}:${i.release}:amd64:default`),
        },
      },
    });

  const dirListing = (path: string): string | undefined => {
    const parts = path.split("/").filter((p) => p !== "");
    if (parts[0] !== "images") return undefined;
    const names = new Set<string>();
    for (const key of archives.keys()) {
      const k = key.split("/").filter((p) => p !== "");
      if (k.length <= parts.length) continue;
      if (parts.every((p, i) => k[i] === p)) names.add(k[parts.length] as string);
    }
    if (names.size === 0) return undefined;
    return listing(path, [...names].sort());
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch(req): Response | Promise<Response> {
      const url = new URL(req.url);
      const path = decodeURIComponent(url.pathname);
      const range = req.headers.get("range");
      const record: RequestRecord = { method: req.method, path, range, status: 200 };
      requests.push(record);
      const respond = (res: Response): Response => {
        record.status = res.status;
        return res;
      };
      for (const [needle, status] of Object.entries(faults.status ?? {})) {
        if (path.includes(needle)) return respond(new Response(`fault ${status}\n`, { status }));
      }
      if (faults.failFirst !== undefined && path.includes(faults.failFirst.path) && failed < faults.failFirst.count) {
        failed++;
        return respond(new Response("fault\n", { status: faults.failFirst.status }));
      }
      if (path === "/streams/v1/index.json" || path === "/streams/v1/images.json") {
        if (faults.noSimplestreams === true) return respond(new Response("not found\n", { status: 404 }));
        return respond(new Response(path.endsWith("index.json") ? indexJson() : imagesJson(), { headers: { "content-type": "application/json" } }));
      }
      const archive = archives.get(path);
      if (archive !== undefined && faults.stallHeaders === true) {
        return new Promise<Response>((resolve) => stopping.signal.addEventListener("abort", () => resolve(respond(new Response("stopped\n", { status: 503 }))), { once: true }));
      }
      if (archive !== undefined) {
        const size = statSync(archive).size;
        const etag = `"${sha256(archive).slice(0, 16)}"`;
        const headers: Record<string, string> = { "accept-ranges": "bytes", etag, "content-type": "application/x-xz" };
        let start = 0;
        let status = 200;
        const m = range === null || faults.noRanges === true ? null : /^bytes=(\d+)-$/.exec(range);
        const ifRange = req.headers.get("if-range");
        if (m !== null && (ifRange === null || ifRange === etag)) {
          start = Number(m[1]);
          if (start >= size) return respond(new Response(null, { status: 416, headers: { "content-range": `bytes */${size}` } }));
          status = 206;
          headers["content-range"] = `bytes ${start}-${size - 1}/${size}`;
        }
        headers["content-length"] = String(size - start);
        let limit: number | undefined;
        let mode: "cut" | "stall" = "cut";
        if (faults.stallAfterBytes !== undefined && !(faults.stallOnce === true && stallDone)) {
          stallDone = true;
          limit = faults.stallAfterBytes;
          mode = "stall";
        } else if (faults.cutAfterBytes !== undefined && !cutDone && status === 200) {
          cutDone = true;
          limit = faults.cutAfterBytes;
        }
        if (req.method === "HEAD") return respond(new Response(null, { status, headers }));
        return respond(new Response(limitedBody(archive, start, size, limit, mode, stopping.signal), { status, headers }));
      }
      const html = dirListing(path.endsWith("/") ? path : `${path}/`);
      if (html !== undefined) return respond(new Response(html, { headers: { "content-type": "text/html" } }));
      return respond(new Response("not found\n", { status: 404 }));
    },
  });

  const base = `http://127.0.0.1:${server.port}`;
  return {
    url: base,
    port: server.port as number,
    requests,
    faults,
    archiveUrl: (distro, release, build) => `${base}/images/${distro}/${release}/${ARCH_PATH}/${encodeBuild(build)}/rootfs.tar.xz`,
    sha256,
    stop: async () => {
      stopping.abort();
      await server.stop(true);
    },
  };
}

/**
 * rootfs.tar.xz of a fresh busybox rootfs (milliseconds), in a temp dir removed
 * at process exit. `marker` adds /etc/<marker> so two builds differ.
 */
export async function busyboxRootfsTarXz(marker?: string): Promise<string> {
  const tar = requireTool("tar");
  requireTool("xz");
  const dir = mkdtempSync(join(tmpdir(), "karapace-busybox-image-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const rootfs = await busyboxRootfs(join(dir, "rootfs"));
  if (marker !== undefined) writeFileSync(join(rootfs, "etc", marker), `${marker}\n`);
  const out = join(dir, "rootfs.tar.xz");
  const proc = Bun.spawnSync([tar, "--numeric-owner", "--sort=name", "-C", rootfs, "-cJf", out, "."], { stderr: "pipe" });
  if (!proc.success) throw new Error(`tar -cJf failed: ${proc.stderr.toString()}`);
  return out;
}

/** Two builds, so that "newest" is tested. */
export const OLD_BUILD = "20250101_05:24";
export const NEW_BUILD = "20260220_04:20";

/**
 * What the tests serve:
 * - a busybox rootfs published as `archlinux/current` (what the names `arch`
 *   and `archlinux` resolve to), in an old build (with /etc/OLD-BUILD) and a
 *   new one: a known name that downloads in milliseconds;
 * - the debootstrap Debian minbase rootfs as `debian/bookworm` (the names
 *   `debian` and `debian/bookworm`), unless `debian: false`.
 */
export async function standardImages(options: { debian?: boolean } = {}): Promise<ServedImage[]> {
  const images: ServedImage[] = [
    {
      distro: "archlinux",
      release: "current",
      builds: [
        { build: OLD_BUILD, archive: await busyboxRootfsTarXz("OLD-BUILD") },
        { build: NEW_BUILD, archive: await busyboxRootfsTarXz() },
      ],
    },
  ];
  if (options.debian !== false) {
    images.push({ distro: "debian", release: "bookworm", builds: [{ build: NEW_BUILD, archive: await debianRootfsTarXz() }] });
  }
  return images;
}
