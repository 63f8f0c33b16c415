/**
 * Canonical host paths, for the mount allow list. The reference normalizes
 * `..` textually and then compares string prefixes, which lets a symlink
 * under /home point anywhere and admits `/home-evil` under `/home`. Here a
 * path is normalized, then the longest prefix that exists is resolved with
 * realpath (so every symlink on the way is followed), and containment is
 * decided per path segment. The path the plan binds is the canonical one,
 * so what was checked is what gets mounted.
 */
import { isAbsolute, posix } from "node:path";
import type { HostFs } from "../host/host-fs.ts";

/** `.` and `..` resolved textually on an absolute path; never climbs above `/`. */
export function normalizeAbsolute(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/** `/a/b` is within `/a` and within `/a/b`, not within `/a/b-c`. */
export function isWithin(path: string, root: string): boolean {
  if (root === "/") return true;
  return path === root || path.startsWith(`${root}/`);
}

/**
 * The canonical form of an absolute, normalized path: symlinks in the part
 * that exists are resolved; the part that does not exist yet is appended
 * as written (it holds no `..` after normalization, and no symlinks since
 * it does not exist).
 */
export function canonicalize(path: string, fs: HostFs): string {
  const normal = normalizeAbsolute(path);
  const segments = normal.split("/").filter((s) => s !== "");
  for (let keep = segments.length; keep >= 0; keep--) {
    const prefix = `/${segments.slice(0, keep).join("/")}`;
    let resolved: string;
    try {
      resolved = fs.realpath(prefix);
    } catch {
      continue;
    }
    const rest = segments.slice(keep);
    return rest.length === 0 ? resolved : normalizeAbsolute(`${resolved}/${rest.join("/")}`);
  }
  return normal;
}

export interface ExpandedPath {
  /** Absolute and normalized, not yet canonical. */
  path: string;
  /** Written relative to the manifest's directory (`./src`, `data`). */
  relative: boolean;
}

/** `~` and `~/x` name the user's home; a relative path is taken from the manifest's directory. */
export function expandHostPath(raw: string, manifestDir: string, home: string): ExpandedPath {
  if (raw === "~" || raw.startsWith("~/")) return { path: normalizeAbsolute(`${home}/${raw.slice(1)}`), relative: false };
  if (isAbsolute(raw)) return { path: normalizeAbsolute(raw), relative: false };
  return { path: normalizeAbsolute(`${manifestDir}/${raw}`), relative: true };
}
