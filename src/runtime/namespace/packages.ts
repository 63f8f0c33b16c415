/**
 * Package managers inside an environment: which one an image has, and the
 * one shell script (run by the environment's own /bin/sh, values as
 * positional parameters) that installs the packages and prints their exact
 * versions. Installing and querying happen in the same sandbox run, once.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ResolvedPackage } from "../../schema/types.ts";

export type PackageManager = "apt" | "dnf" | "zypper" | "pacman";

const DETECT: ReadonlyArray<[PackageManager, string]> = [
  ["apt", "usr/bin/apt-get"],
  ["dnf", "usr/bin/dnf"],
  ["zypper", "usr/bin/zypper"],
  ["pacman", "usr/bin/pacman"],
];

export function detectPackageManager(rootfs: string): PackageManager | undefined {
  return DETECT.find(([, path]) => existsSync(join(rootfs, path)))?.[0];
}

/** Lines the script prints for each installed package: marker, name, version. */
export const VERSION_MARKER = "@@karapace-version";

/**
 * Runs inside the environment as its root. Positionals: package manager,
 * then `name` or `name=version` words. Package-manager chatter goes to
 * stderr; stdout carries only VERSION_MARKER lines. Exit 100 + a line on
 * stderr names the package manager step that failed.
 */
export const INSTALL_SCRIPT = `set -e
pm=$1
shift
say() { echo "karapace: $*" >&2; }
names() { for p in "$@"; do printf '%s\\n' "\${p%%=*}"; done; }
case "$pm" in
apt)
  export DEBIAN_FRONTEND=noninteractive
  has_lists() { ls /var/lib/apt/lists/ 2>/dev/null | grep -q '_Packages'; }
  install() { apt-get install -y -q --no-install-recommends "$@" >&2; }
  if ! has_lists; then say "apt-get update"; apt-get update -q >&2 || { say "apt-get update failed"; exit 100; }; fi
  say "apt-get install $*"
  if ! install "$@"; then
    say "apt-get install failed; refreshing the package lists and trying once more"
    apt-get update -q >&2 || { say "apt-get update failed"; exit 100; }
    install "$@" || { say "apt-get install failed"; exit 100; }
  fi
  apt-get clean >&2 || true
  names "$@" | while read -r n; do
    v=$(dpkg-query -W -f '\${Version}' "$n") || { say "dpkg-query found no version of $n"; exit 100; }
    printf '${VERSION_MARKER}\\t%s\\t%s\\n' "$n" "$v"
  done
  ;;
dnf)
  say "dnf install $*"
  dnf install -y --setopt=install_weak_deps=False "$@" >&2 || { say "dnf install failed"; exit 100; }
  names "$@" | while read -r n; do printf '${VERSION_MARKER}\\t%s\\t%s\\n' "$n" "$(rpm -q --qf '%{VERSION}-%{RELEASE}' "$n")"; done
  ;;
zypper)
  say "zypper install $*"
  zypper --non-interactive install --no-recommends "$@" >&2 || { say "zypper install failed"; exit 100; }
  names "$@" | while read -r n; do printf '${VERSION_MARKER}\\t%s\\t%s\\n' "$n" "$(rpm -q --qf '%{VERSION}-%{RELEASE}' "$n")"; done
  ;;
pacman)
  say "pacman -S $*"
  pacman -Sy --noconfirm --needed "$@" >&2 || { say "pacman -S failed"; exit 100; }
  names "$@" | while read -r n; do printf '${VERSION_MARKER}\\t%s\\t%s\\n' "$n" "$(pacman -Q "$n" | cut -d' ' -f2)"; done
  ;;
*) say "unsupported package manager $pm"; exit 100 ;;
esac
`;

/** The words to install: exact versions when the lock pins them (apt `name=version`, dnf/zypper `name-version`). */
export function installWords(pm: PackageManager, names: readonly string[], pinned: readonly ResolvedPackage[] | undefined): string[] {
  const version = new Map((pinned ?? []).map((p) => [p.name, p.version]));
  return names.map((name) => {
    const v = version.get(name);
    if (v === undefined) return name;
    switch (pm) {
      case "apt":
        return `${name}=${v}`;
      case "dnf":
      case "zypper":
        return `${name}-${v}`;
      case "pacman":
        return name; // pacman cannot install an older version from the sync database
    }
  });
}

/** The versions the script printed, in the manifest's package order. */
export function parseVersions(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const [marker, name, version] = line.split("\t");
    if (marker === VERSION_MARKER && name !== undefined && version !== undefined && version !== "") out.set(name, version);
  }
  return out;
}
