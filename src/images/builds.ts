/**
 * Which archive is the newest build of an image on an LXC-style server.
 *
 * Preferred: the server's simplestreams index (`streams/v1/index.json` ->
 * `images.json`), which also carries each archive's sha256 and size. Where
 * the server has none, or it does not list the image: the HTML directory
 * listing of `images/<distro>/<release>/amd64/default/`, whose build
 * directories (`20260220_04%3A20/`) sort by date, as the reference reads it.
 */
import { ImageError } from "../errors.ts";
import { fetchText, NotFoundError, type ResolvedNetwork } from "./http.ts";
import { type ServerImage, serverImageDir, simplestreamsProduct } from "./names.ts";

export interface ArchiveLocation {
  url: string;
  /** Published sha256 (hex), when the server's index gives one: the download must match it. */
  sha256?: string;
  size?: number;
  /** The build's name, e.g. `20260220_04:20`. */
  build?: string;
  via: "simplestreams" | "listing" | "url" | "file";
}

export interface LookupContext {
  server: string;
  net: ResolvedNetwork;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** `:` in build names is written `%3A` in URLs, as the server's listings do (the reference's pinned URLs look the same). */
function encodeArchivePath(path: string): string {
  return path
    .split("/")
    .map((seg) => encodeURIComponent(decodeURIComponent(seg)).replace(/%2B/gi, "+"))
    .join("/");
}

/** Build directory names from an HTML listing: hrefs that start with a digit, decoded, sorted (newest last). */
export function buildsFromListing(html: string): string[] {
  const builds = new Set<string>();
  for (const match of html.matchAll(/href\s*=\s*"([^"]*)"/gi)) {
    const raw = (match[1] ?? "").replace(/\/+$/, "");
    if (raw.includes("/")) continue;
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      continue;
    }
    if (/^[0-9]/.test(name) && name.length >= 8) builds.add(name);
  }
  return [...builds].sort();
}

interface StreamItem {
  ftype?: unknown;
  path?: unknown;
  sha256?: unknown;
  size?: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The path of the image-downloads products file named by streams/v1/index.json. */
function productsPath(indexText: string, product: string): string | undefined {
  const doc: unknown = JSON.parse(indexText);
  const index = isObject(doc) ? doc.index : undefined;
  if (!isObject(index)) return undefined;
  for (const entry of Object.values(index)) {
    if (!isObject(entry) || entry.datatype !== "image-downloads" || typeof entry.path !== "string") continue;
    if (Array.isArray(entry.products) && !entry.products.includes(product)) continue;
    return entry.path;
  }
  return undefined;
}

interface PublishedArchive {
  path: string;
  sha256: string;
  size: number | undefined;
  build: string;
}

/** Every root.tar.xz of `product` in an images.json, newest build first. */
function rootArchives(productsText: string, product: string): PublishedArchive[] {
  const doc: unknown = JSON.parse(productsText);
  const products = isObject(doc) ? doc.products : undefined;
  const entry = isObject(products) ? products[product] : undefined;
  const versions = isObject(entry) ? entry.versions : undefined;
  if (!isObject(versions)) return [];
  const out: PublishedArchive[] = [];
  for (const build of Object.keys(versions).sort().reverse()) {
    const version = versions[build];
    const items = isObject(version) ? version.items : undefined;
    if (!isObject(items)) continue;
    const root = Object.values(items).find((i): i is StreamItem => isObject(i) && (i as StreamItem).ftype === "root.tar.xz");
    if (root === undefined || typeof root.path !== "string" || typeof root.sha256 !== "string" || !/^[0-9a-f]{64}$/i.test(root.sha256)) continue;
    out.push({ path: root.path, sha256: root.sha256.toLowerCase(), size: typeof root.size === "number" ? root.size : undefined, build });
  }
  return out;
}

async function fromSimplestreams(image: ServerImage, ctx: LookupContext): Promise<ArchiveLocation | undefined> {
  const product = simplestreamsProduct(image);
  const archives = await publishedArchives(product, ctx);
  const newest = archives[0];
  if (newest === undefined) return undefined;
  return { url: `${ctx.server}/${encodeArchivePath(newest.path)}`, sha256: newest.sha256, size: newest.size, build: newest.build, via: "simplestreams" };
}

/** root.tar.xz archives the simplestreams index lists for `product`; [] when the server has no index. */
async function publishedArchives(product: string, ctx: LookupContext): Promise<PublishedArchive[]> {
  let indexText: string;
  try {
    indexText = await fetchText(`${ctx.server}/streams/v1/index.json`, ctx.net, ctx.signal, ctx.log);
  } catch (error) {
    if (error instanceof NotFoundError) return [];
    throw error;
  }
  try {
    const path = productsPath(indexText, product);
    if (path === undefined) return [];
    const productsText = await fetchText(`${ctx.server}/${path.replace(/^\/+/, "")}`, ctx.net, ctx.signal, ctx.log);
    return rootArchives(productsText, product);
  } catch (error) {
    if (error instanceof SyntaxError) {
      ctx.log?.(`the image server's simplestreams index is not valid JSON (${error.message}); using its directory listing`);
      return [];
    }
    if (error instanceof NotFoundError) return [];
    throw error;
  }
}

async function fromListing(image: ServerImage, ctx: LookupContext): Promise<ArchiveLocation> {
  const dirUrl = `${ctx.server}/${serverImageDir(image)}`;
  let html: string;
  try {
    html = await fetchText(dirUrl, ctx.net, ctx.signal, ctx.log);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new ImageError(`${image.displayName} is not on the image server ${ctx.server} (HTTP 404 for ${dirUrl})`, {
        hint: "check the image name, or point KARAPACE_IMAGE_SERVER / image_server at a server that carries it",
      });
    }
    throw error;
  }
  const build = buildsFromListing(html).at(-1);
  if (build === undefined) {
    throw new ImageError(`no builds of ${image.displayName} found at ${dirUrl}`, { hint: "the server lists no build directories there; try again later or use another image" });
  }
  return { url: `${dirUrl}${encodeArchivePath(build)}/rootfs.tar.xz`, build, via: "listing" };
}

/** The newest build's rootfs.tar.xz of a server image. */
export async function locateNewestBuild(image: ServerImage, ctx: LookupContext): Promise<ArchiveLocation> {
  return (await fromSimplestreams(image, ctx)) ?? (await fromListing(image, ctx));
}

/**
 * The published sha256 of an archive URL on the configured server (a pinned
 * image), looked up in its simplestreams index; undefined when the URL is not
 * on that server or the index does not list it.
 */
export async function publishedChecksum(url: string, ctx: LookupContext): Promise<ArchiveLocation | undefined> {
  const prefix = `${ctx.server}/`;
  if (!url.startsWith(prefix)) return undefined;
  const path = decodeURIComponent(url.slice(prefix.length));
  const m = /^images\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/rootfs\.tar\.xz$/.exec(path);
  if (m === null) return undefined;
  const product = `${m[1]}:${m[2]}:${m[3]}:${m[4]}`;
  try {
    const hit = (await publishedArchives(product, ctx)).find((a) => decodeURIComponent(a.path.replace(/^\/+/, "")) === path);
    return hit === undefined ? undefined : { url, sha256: hit.sha256, size: hit.size, build: hit.build, via: "simplestreams" };
  } catch (error) {
    ctx.log?.(`could not look up the published checksum of ${url}: ${(error as Error).message}`);
    return undefined;
  }
}
