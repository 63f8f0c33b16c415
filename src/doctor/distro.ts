/**
 * Which package manager to name in install hints, from /etc/os-release's
 * ID and ID_LIKE (Ubuntu says ID_LIKE=debian, Rocky says "rhel centos fedora",
 * Tumbleweed says "opensuse suse", Manjaro says arch).
 */
import { readFileSync } from "node:fs";

export type DistroFamily = "debian" | "fedora" | "opensuse" | "arch" | "unknown";

export interface Distro {
  id: string;
  family: DistroFamily;
}

export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m === null) continue;
    out[m[1] as string] = (m[2] as string).replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

export function distroFromOsRelease(text: string): Distro {
  const fields = parseOsRelease(text);
  const id = (fields.ID ?? "").toLowerCase();
  const ids = [id, ...(fields.ID_LIKE ?? "").toLowerCase().split(/\s+/)].filter((s) => s !== "");
  const family: DistroFamily = ids.some((s) => s === "debian" || s === "ubuntu")
    ? "debian"
    : ids.some((s) => s.startsWith("opensuse") || s === "suse" || s === "sles")
      ? "opensuse"
      : ids.some((s) => s === "fedora" || s === "rhel" || s === "centos")
        ? "fedora"
        : ids.some((s) => s === "arch" || s === "archlinux")
          ? "arch"
          : "unknown";
  return { id: id === "" ? "unknown" : id, family };
}

export function detectDistro(path = "/etc/os-release"): Distro {
  for (const file of [path, "/usr/lib/os-release"]) {
    try {
      return distroFromOsRelease(readFileSync(file, "utf8"));
    } catch {
      // try the next
    }
  }
  return { id: "unknown", family: "unknown" };
}

/** What we need from the host, by what each distribution calls it. */
export type HostPackage = "uidmap" | "util-linux" | "fuse-overlayfs" | "crun";

const PACKAGE_NAMES: Record<HostPackage, Record<Exclude<DistroFamily, "unknown">, string>> = {
  uidmap: { debian: "uidmap", fedora: "shadow-utils", opensuse: "shadow", arch: "shadow" },
  "util-linux": { debian: "util-linux", fedora: "util-linux", opensuse: "util-linux", arch: "util-linux" },
  "fuse-overlayfs": { debian: "fuse-overlayfs", fedora: "fuse-overlayfs", opensuse: "fuse-overlayfs", arch: "fuse-overlayfs" },
  crun: { debian: "crun", fedora: "crun", opensuse: "crun", arch: "crun" },
};

const INSTALL: Record<Exclude<DistroFamily, "unknown">, (pkg: string) => string> = {
  debian: (p) => `sudo apt install ${p}`,
  fedora: (p) => `sudo dnf install ${p}`,
  opensuse: (p) => `sudo zypper install ${p}`,
  arch: (p) => `sudo pacman -S ${p}`,
};

/** e.g. "install it: sudo apt install uidmap"; every family's command when the distribution is unknown. */
export function installHint(distro: Distro, pkg: HostPackage): string {
  if (distro.family !== "unknown") return `install it: ${INSTALL[distro.family](PACKAGE_NAMES[pkg][distro.family])}`;
  const all = (Object.keys(INSTALL) as (keyof typeof INSTALL)[]).map((f) => INSTALL[f](PACKAGE_NAMES[pkg][f]));
  return `install it with your package manager (${all.join(" | ")})`;
}
