/**
 * Image names -> where the image comes from, under which cache key.
 *
 * The distribution names, cache keys and display names are the reference's
 * (so an image cache it filled is reused here); local archives and
 * directories are ours.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { blake3Hex } from "../../wasm/blake3.ts";
import { ImageError } from "../errors.ts";

/** An image published on an LXC-style image server, newest build wanted. */
export interface ServerImage {
  kind: "server";
  /** Path segments under `<server>/images/`, e.g. debian + bookworm. */
  distro: string;
  release: string;
  cacheKey: string;
  displayName: string;
}

/** An archive at an http(s) URL: the exact file, no discovery. */
export interface UrlImage {
  kind: "url";
  url: string;
  cacheKey: string;
  displayName: string;
}

/** A rootfs archive on this machine (`file:///…/rootfs.tar[.xz|.gz|.zst]`). */
export interface LocalArchiveImage {
  kind: "archive";
  path: string;
  cacheKey: string;
  displayName: string;
}

/** An unpacked rootfs on this machine, used where it is (absolute path or `file:///dir`). */
export interface LocalDirectoryImage {
  kind: "directory";
  path: string;
  cacheKey: string;
  displayName: string;
}

export type ImageRef = ServerImage | UrlImage | LocalArchiveImage | LocalDirectoryImage;

interface Known {
  aliases: readonly string[];
  distro: string;
  release: string;
  cacheKey: string;
  displayName: string;
}

/** Every name the reference accepts, with its cache key and display name. */
export const KNOWN_IMAGES: readonly Known[] = [
  { aliases: ["rolling", "opensuse", "opensuse/tumbleweed", "tumbleweed"], distro: "opensuse", release: "tumbleweed", cacheKey: "opensuse-tumbleweed", displayName: "openSUSE Tumbleweed" },
  { aliases: ["opensuse/leap", "leap"], distro: "opensuse", release: "15.6", cacheKey: "opensuse-leap-15.6", displayName: "openSUSE Leap 15.6" },
  { aliases: ["ubuntu", "ubuntu/24.04", "ubuntu/noble"], distro: "ubuntu", release: "noble", cacheKey: "ubuntu-noble", displayName: "Ubuntu 24.04 (Noble)" },
  { aliases: ["ubuntu/22.04", "ubuntu/jammy"], distro: "ubuntu", release: "jammy", cacheKey: "ubuntu-jammy", displayName: "Ubuntu 22.04 (Jammy)" },
  { aliases: ["ubuntu/24.10", "ubuntu/oracular"], distro: "ubuntu", release: "oracular", cacheKey: "ubuntu-oracular", displayName: "Ubuntu 24.10 (Oracular)" },
  { aliases: ["ubuntu/20.04", "ubuntu/focal"], distro: "ubuntu", release: "focal", cacheKey: "ubuntu-focal", displayName: "Ubuntu 20.04 (Focal)" },
  { aliases: ["debian", "debian/bookworm"], distro: "debian", release: "bookworm", cacheKey: "debian-bookworm", displayName: "Debian Bookworm" },
  { aliases: ["debian/trixie"], distro: "debian", release: "trixie", cacheKey: "debian-trixie", displayName: "Debian Trixie" },
  { aliases: ["debian/sid"], distro: "debian", release: "sid", cacheKey: "debian-sid", displayName: "Debian Sid" },
  { aliases: ["fedora", "fedora/41"], distro: "fedora", release: "41", cacheKey: "fedora-41", displayName: "Fedora 41" },
  { aliases: ["fedora/40"], distro: "fedora", release: "40", cacheKey: "fedora-40", displayName: "Fedora 40" },
  { aliases: ["fedora/42"], distro: "fedora", release: "42", cacheKey: "fedora-42", displayName: "Fedora 42" },
  { aliases: ["arch", "archlinux"], distro: "archlinux", release: "current", cacheKey: "archlinux", displayName: "Arch Linux" },
];

const BY_ALIAS = new Map<string, Known>(KNOWN_IMAGES.flatMap((k) => k.aliases.map((a) => [a, k] as const)));

const ARCHIVE_SUFFIX = /\.tar(\.xz|\.gz|\.zst)?$|\.t[gx]z$/;

export function isHttpUrl(image: string): boolean {
  const s = image.trim().toLowerCase();
  return s.startsWith("http://") || s.startsWith("https://");
}

function unknownImage(name: string): ImageError {
  return new ImageError(`unknown image '${name}'`, {
    hint:
      "use one of rolling, opensuse/tumbleweed, opensuse/leap, ubuntu, ubuntu/24.04, ubuntu/22.04, ubuntu/20.04, " +
      "ubuntu/24.10, debian, debian/bookworm, debian/trixie, debian/sid, fedora, fedora/40, fedora/41, fedora/42, " +
      "arch, archlinux; an http(s) URL of a rootfs archive; file:///path/rootfs.tar.xz; or an absolute directory path",
  });
}

function localImage(path: string, name: string): LocalArchiveImage | LocalDirectoryImage {
  const abs = resolve(path);
  const key = blake3Hex(abs);
  if (ARCHIVE_SUFFIX.test(abs)) return { kind: "archive", path: abs, cacheKey: `local-${key}`, displayName: `Local archive (${abs})` };
  if (name.endsWith(".tar.bz2") || name.endsWith(".zip")) {
    throw new ImageError(`unsupported archive '${name}'`, { hint: "give a .tar, .tar.xz, .tar.gz or .tar.zst rootfs archive" });
  }
  return { kind: "directory", path: abs, cacheKey: `local-${key}`, displayName: `Local directory (${abs})` };
}

/**
 * What `name` (a manifest's base.image) refers to. Distribution names are
 * matched case-insensitively after trimming, as the reference does; so is
 * the cache key of a URL (blake3 of the lower-cased URL), but the URL itself
 * is downloaded as written, since paths are case-sensitive.
 */
export function resolveImageName(name: string): ImageRef {
  const trimmed = name.trim();
  const lower = trimmed.toLowerCase();
  const known = BY_ALIAS.get(lower);
  if (known !== undefined) {
    return { kind: "server", distro: known.distro, release: known.release, cacheKey: known.cacheKey, displayName: known.displayName };
  }
  if (isHttpUrl(trimmed)) {
    return { kind: "url", url: trimmed, cacheKey: `custom-${blake3Hex(lower)}`, displayName: `Custom (${lower})` };
  }
  if (lower.startsWith("file://")) {
    let path: string;
    try {
      path = fileURLToPath(trimmed);
    } catch (error) {
      throw new ImageError(`'${trimmed}' is not a usable file URL: ${(error as Error).message}`, {
        hint: "write it as file:///absolute/path (three slashes)",
      });
    }
    return localImage(path, trimmed);
  }
  if (isAbsolute(trimmed)) return localImage(trimmed, trimmed);
  throw unknownImage(trimmed);
}

/** The archive path of an image on a server (no build chosen yet): `images/<distro>/<release>/amd64/default/`. */
export function serverImageDir(image: ServerImage): string {
  return `images/${image.distro}/${image.release}/amd64/default/`;
}

/** The simplestreams product name of an image, e.g. `debian:bookworm:amd64:default`. */
export function simplestreamsProduct(image: ServerImage): string {
  return `${image.distro}:${image.release}:amd64:default`;
}
