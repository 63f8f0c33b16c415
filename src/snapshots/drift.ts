/**
 * What an overlay upper dir changes relative to its lower dir, read the way
 * overlayfs reads it (docs/snapshots.md, "diff"):
 * - a whiteout removes the lower path (and, for a directory, all below it);
 * - an opaque directory hides everything of the lower directory: lower paths
 *   under it that the upper dir does not have are removed;
 * - any other upper path is modified if the lower dir has that path, added
 *   if not; a directory that is only there because something below it
 *   changed is not itself a change, unless its mode or owner differ.
 *
 * Only the upper dir is walked; the lower dir is lstat'ed path by path, and
 * walked only below removed or replaced directories (to name what is gone).
 */
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from "../../wasm/pack.ts";
import { readXattrs, type Xattr } from "../../wasm/xattr.ts";

export interface DriftReport {
  env_id: string;
  added: string[];
  modified: string[];
  removed: string[];
  /** Directories that exist in the lower dir and are opaque in the upper dir: replaced as a whole. */
  replaced_dirs: string[];
  has_drift: boolean;
}

export type UpperDrift = Omit<DriftReport, "env_id">;

/** Lower-dir handling below a directory: merged with the upper one, hidden by it, or absent. */
type LowerMode = "merge" | "opaque" | "none";

const OVERLAY_NS = ["user.overlay.", "trusted.overlay.", "user.fuseoverlayfs.", "trusted.fuseoverlayfs."];

function overlayValue(xattrs: readonly Xattr[], suffix: string): string | undefined {
  for (const x of xattrs) {
    const n = x.name.toString("latin1");
    if (OVERLAY_NS.some((p) => n === p + suffix)) return x.value.toString("latin1");
  }
  return undefined;
}

function lstatOrUndefined(path: Buffer): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

function join(a: Buffer, name: Buffer): Buffer {
  return a.length === 0 ? name : Buffer.concat([a, Buffer.from("/"), name]);
}

interface Entry {
  name: Buffer;
  st: Stats;
}

/** Names as raw bytes with their lstat (Bun's withFileTypes drops buffer names). */
function listDir(path: Buffer): Entry[] {
  const prefix = Buffer.concat([path, Buffer.from("/")]);
  return readdirSync(path, { encoding: "buffer" }).map((name) => ({ name, st: lstatSync(Buffer.concat([prefix, name])) }));
}

const WH = Buffer.from(WHITEOUT_PREFIX);
const OPQ = Buffer.from(OPAQUE_MARKER);

function startsWithWh(name: Buffer): boolean {
  return name.length > WH.length && name.subarray(0, WH.length).equals(WH);
}

/** Compares the drift of `upper` against `lower` (which may be absent: everything is then added). */
export function diffUpper(upper: string, lower: string | undefined): UpperDrift {
  const added: Buffer[] = [];
  const modified: Buffer[] = [];
  const removed: Buffer[] = [];
  const replaced: Buffer[] = [];
  const upperRoot = Buffer.from(upper);
  const lowerRoot = lower === undefined ? undefined : Buffer.from(lower);
  const at = (root: Buffer, rel: Buffer): Buffer => (rel.length === 0 ? root : Buffer.concat([root, Buffer.from("/"), rel]));

  /** Every path in the lower dir at and below `rel` (a directory there) goes to `removed`. */
  const removeLowerTree = (rel: Buffer): void => {
    if (lowerRoot === undefined) return;
    for (const d of listDir(at(lowerRoot, rel))) {
      const child = join(rel, d.name);
      removed.push(child);
      if (d.st.isDirectory()) removeLowerTree(child);
    }
  };

  const walk = (rel: Buffer, mode: LowerMode, dirXattrs: readonly Xattr[]): void => {
    const entries = listDir(at(upperRoot, rel));
    const xattrWhiteouts = overlayValue(dirXattrs, "opaque") === "x";
    const upperNames = new Set<string>();
    for (const d of entries) {
      const name = d.name;
      upperNames.add(name.toString("latin1"));
      if (name.equals(OPQ)) continue;
      const child = join(rel, name);
      const upperPath = at(upperRoot, child);

      const st = d.st;
      let hidden: Buffer | undefined;
      if (st.isCharacterDevice()) {
        if (st.rdev === 0) hidden = name;
      } else if (!st.isDirectory() && startsWithWh(name)) {
        hidden = name.subarray(WH.length);
      } else if (xattrWhiteouts && st.isFile() && st.size === 0 && overlayValue(readXattrs(upperPath), "whiteout") !== undefined) {
        hidden = name;
      }
      if (hidden !== undefined) {
        upperNames.add(hidden.toString("latin1"));
        if (mode !== "merge" || lowerRoot === undefined) continue; // nothing below to hide
        const gone = join(rel, hidden);
        const st = lstatOrUndefined(at(lowerRoot, gone));
        if (st === undefined) continue;
        removed.push(gone);
        if (st.isDirectory()) removeLowerTree(gone);
        continue;
      }

      const low = mode === "none" || lowerRoot === undefined ? undefined : lstatOrUndefined(at(lowerRoot, child));
      if (st.isDirectory()) {
        const xattrs = readXattrs(upperPath);
        const opaque = overlayValue(xattrs, "opaque") === "y" || lstatOrUndefined(Buffer.concat([upperPath, Buffer.from("/"), OPQ])) !== undefined;
        if (low === undefined) {
          added.push(child);
          walk(child, "none", xattrs);
        } else if (!low.isDirectory()) {
          modified.push(child); // a file or link replaced by a directory
          walk(child, "none", xattrs);
        } else {
          if (opaque || mode === "opaque") {
            if (opaque) replaced.push(child);
            modified.push(child);
            walk(child, "opaque", xattrs);
          } else {
            const up = st;
            if ((up.mode & 0o7777) !== (low.mode & 0o7777) || up.uid !== low.uid || up.gid !== low.gid) modified.push(child);
            walk(child, "merge", xattrs);
          }
        }
        continue;
      }
      if (low === undefined) {
        added.push(child);
      } else {
        modified.push(child);
        if (low.isDirectory()) removeLowerTree(child); // a directory replaced by a file
      }
    }
    // Below an opaque directory the lower entries the upper one lacks are hidden.
    if (mode === "opaque" && lowerRoot !== undefined) {
      for (const d of listDir(at(lowerRoot, rel))) {
        if (upperNames.has(d.name.toString("latin1"))) continue;
        const child = join(rel, d.name);
        removed.push(child);
        if (d.st.isDirectory()) removeLowerTree(child);
      }
    }
  };

  walk(Buffer.alloc(0), lowerRoot === undefined ? "none" : "merge", readXattrs(upperRoot));
  const show = (list: Buffer[]): string[] => list.sort(Buffer.compare).map((b) => b.toString("utf8"));
  const report = { added: show(added), modified: show(modified), removed: show(removed), replaced_dirs: show(replaced) };
  return { ...report, has_drift: report.added.length + report.modified.length + report.removed.length > 0 };
}
