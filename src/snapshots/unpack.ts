/**
 * Unpacks a layer written in OCI layer form (packTree's overlayUpper mode)
 * into a fresh directory that overlayfs can use as an upper dir: `.wh.<name>`
 * becomes a whiteout, `.wh..wh..opq` marks its directory opaque, hardlinks
 * stay hardlinks and extended attributes are set again.
 *
 * The archive comes from our own store, but it is still treated as hostile:
 * every path is checked (no absolute paths, no `..`, no writing through a
 * symlink or a file the archive made, no hardlink to anything but a file it
 * made), so nothing outside `dest` can be touched.
 */
import { chmodSync, closeSync, fchmodSync, linkSync, mkdirSync, openSync, symlinkSync, unlinkSync } from "node:fs";
import type { Xattr } from "../../wasm/xattr.ts";
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from "../../wasm/pack.ts";
import { writeAll } from "../store/fsx.ts";
import { lsetxattr, mkfifo, mknodWhiteout, SyscallError, syncfs } from "./libc.ts";
import { readTar, type TarEntry } from "./tar-reader.ts";

/**
 * How whiteouts are made. "device": a 0:0 character device, what overlayfs
 * itself creates (unprivileged since Linux 5.8). "files": fuse-overlayfs'
 * own spelling, an empty `.wh.<name>` file (and a `.wh..wh..opq` file in an
 * opaque directory), which only fuse-overlayfs understands. "auto": devices,
 * or files where mknod is refused. (The kernel's xattr whiteouts, Linux 6.7+,
 * are honoured in lower layers only: in an upper dir readdir still lists them.)
 */
export type WhiteoutStyle = "device" | "files" | "auto";

export interface UnpackOptions {
  whiteouts?: WhiteoutStyle;
  /**
   * The attribute namespace overlayfs reads its markers from: "user" for a
   * mount with `userxattr` (rootless, what karapace uses), "trusted" otherwise.
   */
  overlayXattrs?: "user" | "trusted";
  /** Told once when "auto" falls back to whiteout files (mknod refused). */
  onWhiteoutFallback?: () => void;
}

export interface UnpackResult {
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  whiteouts: number;
  opaqueDirs: number;
  /** Device nodes and unknown types, which are not recreated. */
  skipped: string[];
}

/** The archive is malformed or tries to write outside its directory. */
export class UnsafeArchiveError extends Error {
  constructor(readonly entry: string, reason: string) {
    super(`refusing archive entry '${entry}': ${reason}`);
    this.name = "UnsafeArchiveError";
  }
}

const SLASH = 0x2f;

/** "a/b/c" from "./a/b/c/" etc.; refuses absolute paths, `..`, `.` and empty components. */
export function cleanPath(raw: Buffer): string {
  const shown = raw.toString();
  if (raw.includes(0)) throw new UnsafeArchiveError(shown, "the name contains a NUL byte");
  if (raw[0] === SLASH) throw new UnsafeArchiveError(shown, "absolute path");
  let text = raw.toString("latin1");
  while (text.startsWith("./")) text = text.slice(2);
  text = text.replace(/\/+$/, "");
  if (text === "" || text === ".") throw new UnsafeArchiveError(shown, "empty name");
  for (const part of text.split("/")) {
    if (part === "..") throw new UnsafeArchiveError(shown, "it climbs out with '..'");
    if (part === "" || part === ".") throw new UnsafeArchiveError(shown, "empty or '.' path component");
  }
  return text;
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf("/");
  return i < 0 ? "" : rel.slice(0, i);
}

function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf("/") + 1);
}

/** Paths are kept as latin1 strings (one char per byte) so any name round-trips to the same bytes. */
function abs(dest: string, rel: string): Buffer {
  return Buffer.concat([Buffer.from(dest), Buffer.from("/"), Buffer.from(rel, "latin1")]);
}

function canMakeWhiteouts(dir: string): boolean {
  const probe = `${dir}/.karapace-whiteout-probe`;
  try {
    mknodWhiteout(probe);
  } catch (error) {
    if (error instanceof SyscallError && error.code === "EPERM") return false;
    throw error;
  }
  unlinkSync(probe);
  return true;
}

/**
 * Streams the archive into `dest`, which must not exist yet. On any error the
 * partial tree is left for the caller to remove (it lives in staging).
 */
export async function unpackLayer(source: AsyncIterable<Uint8Array>, dest: string, options: UnpackOptions = {}): Promise<UnpackResult> {
  const ns = options.overlayXattrs ?? "user";
  let style: WhiteoutStyle = options.whiteouts ?? "auto";
  const opaqueName = `${ns}.overlay.opaque`;
  mkdirSync(dest, { mode: 0o700 });
  if (style === "auto") {
    // Decided up front: opaque directories are marked differently in the two styles.
    style = canMakeWhiteouts(dest) ? "device" : "files";
    if (style === "files") options.onWhiteoutFallback?.();
  }

  // Directories this archive made (their final modes are set at the end, deepest first,
  // so a read-only directory can still be filled), and the regular files it made.
  const dirs = new Map<string, number>([["", 0o755]]);
  const dirOrder: string[] = [];
  const files = new Set<string>();
  const taken = new Set<string>();
  const result: UnpackResult = { entries: 0, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, whiteouts: 0, opaqueDirs: 0, skipped: [] };

  const makeDir = (rel: string, mode: number): void => {
    mkdirSync(abs(dest, rel), { mode: 0o700 });
    dirs.set(rel, mode);
    dirOrder.push(rel);
    taken.add(rel);
  };

  /** The parent must be a directory made here; missing ones are made (some writers omit them). */
  const parentFor = (rel: string, shown: string): string => {
    const parent = parentOf(rel);
    if (parent === "" || dirs.has(parent)) return parent;
    if (taken.has(parent)) throw new UnsafeArchiveError(shown, `'${parent}' is not a directory in this archive`);
    parentFor(parent, shown);
    makeDir(parent, 0o755);
    result.dirs++;
    return parent;
  };

  const claim = (rel: string, shown: string): void => {
    if (taken.has(rel)) throw new UnsafeArchiveError(shown, "a second entry for the same path");
    taken.add(rel);
  };

  const setXattrs = (path: Buffer, xattrs: readonly Xattr[]): void => {
    for (const x of xattrs) lsetxattr(path, x.name, x.value);
  };

  const markOpaque = (dir: string): void => {
    lsetxattr(abs(dest, dir), opaqueName, Buffer.from("y"));
    if (style === "files") closeSync(openSync(abs(dest, dir === "" ? OPAQUE_MARKER : `${dir}/${OPAQUE_MARKER}`), "wx", 0o644));
  };

  const whiteout = (rel: string): void => {
    const path = abs(dest, rel);
    if (style === "device") {
      mknodWhiteout(path);
      return;
    }
    const parent = parentOf(rel);
    closeSync(openSync(abs(dest, parent === "" ? `${WHITEOUT_PREFIX}${baseOf(rel)}` : `${parent}/${WHITEOUT_PREFIX}${baseOf(rel)}`), "wx", 0o644));
  };

  const onEntry = async (e: TarEntry, body: (sink: (piece: Buffer) => void) => Promise<void>): Promise<void> => {
    const shown = e.path.toString();
    const rel = cleanPath(e.path);
    const name = baseOf(rel);
    result.entries++;

    if (name.startsWith(WHITEOUT_PREFIX)) {
      if (e.type !== "file") throw new UnsafeArchiveError(shown, "a whiteout entry that is not an empty file");
      const parent = parentFor(rel, shown);
      if (name === OPAQUE_MARKER) {
        markOpaque(parent);
        result.opaqueDirs++;
        return;
      }
      const hidden = name.slice(WHITEOUT_PREFIX.length);
      const target = parent === "" ? hidden : `${parent}/${hidden}`;
      claim(target, shown);
      whiteout(target);
      result.whiteouts++;
      return;
    }

    parentFor(rel, shown);
    const path = abs(dest, rel);
    switch (e.type) {
      case "dir": {
        if (dirs.has(rel)) {
          dirs.set(rel, e.mode); // listed twice: the later mode wins, as tar does
        } else {
          claim(rel, shown);
          makeDir(rel, e.mode);
          result.dirs++;
        }
        setXattrs(path, e.xattrs);
        return;
      }
      case "file": {
        claim(rel, shown);
        const fd = openSync(path, "wx", 0o600);
        try {
          await body((piece) => writeAll(fd, piece));
          // Attributes before the mode: user.* needs write permission on the file.
          setXattrs(path, e.xattrs);
          fchmodSync(fd, e.mode);
        } finally {
          closeSync(fd);
        }
        files.add(rel);
        result.files++;
        return;
      }
      case "hardlink": {
        claim(rel, shown);
        const target = cleanPath(e.linkname);
        if (!files.has(target)) throw new UnsafeArchiveError(shown, `hardlink to '${e.linkname.toString()}', which is not a file earlier in the archive`);
        linkSync(abs(dest, target), path);
        result.hardlinks++;
        return;
      }
      case "symlink": {
        claim(rel, shown);
        if (e.linkname.length === 0 || e.linkname.includes(0)) throw new UnsafeArchiveError(shown, "symlink with an empty or NUL-containing target");
        // No attributes: Linux allows no user.* attribute on a symlink, and a layer keeps no others.
        symlinkSync(e.linkname, path);
        result.symlinks++;
        return;
      }
      case "fifo": {
        claim(rel, shown);
        mkfifo(path, 0o600);
        setXattrs(path, e.xattrs);
        chmodSync(path, e.mode);
        result.files++;
        return;
      }
      default:
        // Device nodes cannot be made without privilege and do not belong in a dev environment's layer.
        result.skipped.push(shown);
    }
  };

  await readTar(source, onEntry);
  for (let i = dirOrder.length - 1; i >= 0; i--) {
    const rel = dirOrder[i] as string;
    chmodSync(abs(dest, rel), dirs.get(rel) as number);
  }
  chmodSync(dest, 0o755);
  const fd = openSync(dest, "r");
  try {
    syncfs(fd, dest);
  } finally {
    closeSync(fd);
  }
  return result;
}
