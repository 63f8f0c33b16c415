/** Image names -> sources and cache keys (the reference's), and where the image server is configured. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { blake3Hex } from "../../wasm/blake3.ts";
import { ImageError } from "../../src/errors.ts";
import { DEFAULT_IMAGE_SERVER, imageSettings, KNOWN_IMAGES, resolveImageName } from "../../src/images/index.ts";
import { buildsFromListing } from "../../src/images/builds.ts";
import { cleanupTemp, tempDir } from "./helpers.ts";

afterAll(cleanupTemp);

describe("image names", () => {
  test("every alias the reference accepts, with its cache key and display name", () => {
    const expected: Record<string, [string, string, string]> = {
      rolling: ["opensuse/tumbleweed", "opensuse-tumbleweed", "openSUSE Tumbleweed"],
      tumbleweed: ["opensuse/tumbleweed", "opensuse-tumbleweed", "openSUSE Tumbleweed"],
      leap: ["opensuse/15.6", "opensuse-leap-15.6", "openSUSE Leap 15.6"],
      ubuntu: ["ubuntu/noble", "ubuntu-noble", "Ubuntu 24.04 (Noble)"],
      "ubuntu/22.04": ["ubuntu/jammy", "ubuntu-jammy", "Ubuntu 22.04 (Jammy)"],
      "ubuntu/focal": ["ubuntu/focal", "ubuntu-focal", "Ubuntu 20.04 (Focal)"],
      "ubuntu/oracular": ["ubuntu/oracular", "ubuntu-oracular", "Ubuntu 24.10 (Oracular)"],
      debian: ["debian/bookworm", "debian-bookworm", "Debian Bookworm"],
      "debian/trixie": ["debian/trixie", "debian-trixie", "Debian Trixie"],
      "debian/sid": ["debian/sid", "debian-sid", "Debian Sid"],
      fedora: ["fedora/41", "fedora-41", "Fedora 41"],
      "fedora/40": ["fedora/40", "fedora-40", "Fedora 40"],
      "fedora/42": ["fedora/42", "fedora-42", "Fedora 42"],
      arch: ["archlinux/current", "archlinux", "Arch Linux"],
      " ArchLinux ": ["archlinux/current", "archlinux", "Arch Linux"],
    };
    for (const [name, [path, key, display]] of Object.entries(expected)) {
      const ref = resolveImageName(name);
      expect(ref.kind).toBe("server");
      if (ref.kind !== "server") continue;
      expect([`${ref.distro}/${ref.release}`, ref.cacheKey, ref.displayName]).toEqual([path, key, display]);
    }
    expect(KNOWN_IMAGES.flatMap((k) => k.aliases)).toHaveLength(25);
  });

  test("URLs: cache key custom-<blake3 of the lower-cased URL>, downloaded as written", () => {
    const ref = resolveImageName("https://Example.org/Images/rootfs.tar.xz");
    expect(ref).toEqual({
      kind: "url",
      url: "https://Example.org/Images/rootfs.tar.xz",
      cacheKey: `custom-${blake3Hex("https://example.org/images/rootfs.tar.xz")}`,
      displayName: "Custom (https://example.org/images/rootfs.tar.xz)",
    });
  });

  test("local archives and directories", () => {
    expect(resolveImageName("file:///srv/rootfs.tar.zst")).toMatchObject({ kind: "archive", path: "/srv/rootfs.tar.zst", cacheKey: `local-${blake3Hex("/srv/rootfs.tar.zst")}` });
    expect(resolveImageName("/srv/rootfs")).toMatchObject({ kind: "directory", path: "/srv/rootfs" });
    expect(resolveImageName("file:///srv/my%20root")).toMatchObject({ kind: "directory", path: "/srv/my root" });
  });

  test("an unknown name is an ImageError listing what is accepted", () => {
    const error = (() => {
      try {
        resolveImageName("gentoo");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).message).toBe("unknown image 'gentoo'");
    expect((error as ImageError).hint).toContain("debian/bookworm");
  });

  test("build directories from an HTML listing: digits first, %3A decoded, newest last", () => {
    const html = '<a href="../">../</a><a href="20250101_05%3A24/">x</a><a href="20260220_04%3A20/">y</a><a href="SHA256SUMS">z</a><a href="2026/">short</a>';
    expect(buildsFromListing(html)).toEqual(["20250101_05:24", "20260220_04:20"]);
  });
});

describe("image server configuration", () => {
  test("default, config file, environment (which wins)", () => {
    const home = tempDir("config");
    const env = { HOME: home, XDG_CONFIG_HOME: undefined };
    expect(imageSettings(env).server).toBe(DEFAULT_IMAGE_SERVER);
    mkdirSync(join(home, ".config/karapace"), { recursive: true });
    writeFileSync(join(home, ".config/karapace/config.toml"), 'image_server = "http://mirror.test/lxc/"\nimage_max_bytes = 1048576\n');
    expect(imageSettings(env)).toEqual({ server: "http://mirror.test/lxc", maxExtractBytes: 1048576 });
    expect(imageSettings({ ...env, KARAPACE_IMAGE_SERVER: "http://127.0.0.1:1234" }).server).toBe("http://127.0.0.1:1234");
    expect(() => imageSettings({ ...env, KARAPACE_IMAGE_SERVER: "ftp://x" })).toThrow(/not an http\(s\) URL/);
  });
});
