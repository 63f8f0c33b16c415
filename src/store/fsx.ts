/**
 * Durable file primitives. Every file the store writes goes through a temp
 * file in the destination directory, fsync, rename, fsync of the directory:
 * after a crash the name holds either nothing, the old bytes or the new bytes.
 */
import { chmodSync, closeSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { StoreError } from "../errors.ts";
import { uniqueSuffix } from "./proc.ts";

/** Temp names start with this, so list() and readers skip them and the sweeper finds them. */
export const TEMP_PREFIX = ".tmp";

/** A fresh temp path in `dir`: `.tmp-<label>-p<pid>.<start>-<random>`. */
export function tempPathIn(dir: string, label = "w"): string {
  return join(dir, `${TEMP_PREFIX}-${label}${uniqueSuffix()}`);
}

/**
 * fsync a directory so a rename or create inside it survives a power cut.
 * Not every filesystem allows fsync on a directory; there the rename has
 * happened and there is nothing more we can do, so EINVAL is not an error.
 */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw error;
  } finally {
    closeSync(fd);
  }
}

export function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Writes `bytes` to `path` atomically and durably (see the module comment). */
export function writeFileDurable(path: string, bytes: Uint8Array, mode = 0o644): void {
  const dir = dirname(path);
  const temp = tempPathIn(dir, basename(path).replace(/^\.+/, ""));
  try {
    const fd = openSync(temp, "wx", mode);
    try {
      writeAll(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw ioError(error, `writing ${path}`);
  }
  fsyncDir(dir);
}

const NO_SPACE = new Set(["ENOSPC", "EDQUOT"]);

/**
 * Turns a Node I/O error into a StoreError that says what we were doing and
 * what to do next; a StoreError passes through unchanged.
 */
export function ioError(error: unknown, doing: string): Error {
  if (error instanceof StoreError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && NO_SPACE.has(code)) {
    return new StoreError(`no space left on the device while ${doing}`, {
      hint: "free some space (or run 'karapace gc'), then try again; nothing half-written was kept",
      cause: error,
    });
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return new StoreError(`permission denied while ${doing}`, {
      hint: "check that the store directory is writable by you (see --store)",
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError(`I/O error while ${doing}: ${message}`, { cause: error });
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/**
 * rm -rf that also copes with directories we may not write to (a package can
 * install a 0555 directory into an environment): on EACCES it makes the
 * directories writable and tries once more. Missing is fine.
 */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") throw error;
    try {
      makeWritable(path);
      rmSync(path, { recursive: true, force: true });
    } catch (again) {
      const code2 = (again as NodeJS.ErrnoException).code;
      if (treeRemover === undefined || (code2 !== "EACCES" && code2 !== "EPERM")) throw again;
      treeRemover(path);
    }
  }
}

/**
 * Removes a tree whose files belong to other (subordinate) uids, which an
 * unprivileged user cannot delete directly; the Engine installs one that
 * works inside a user namespace (the store itself knows nothing of those).
 */
let treeRemover: ((path: string) => void) | undefined;

export function setTreeRemover(remover: ((path: string) => void) | undefined): void {
  treeRemover = remover;
}

function makeWritable(path: string): void {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isDirectory()) return;
  chmodSync(path, (stat.mode & 0o7777) | 0o700);
  for (const name of readdirSync(path)) makeWritable(join(path, name));
}

/** Bytes used by a file or a whole tree (lstat sizes; links are not followed). */
export function treeSize(path: string): number {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return 0;
  }
  for (const name of names) total += treeSize(join(path, name));
  return total;
}

/** Deletes one content-addressed file; false if it was not there. */
export function removeIfPresent(path: string, what: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw ioError(error, `removing ${what}`);
  }
}

/** The names in `dir` that are hashes, sorted; temp files and strays are skipped. */
export function listHashNames(dir: string, isHashName: (name: string) => boolean): string[] {
  try {
    return readdirSync(dir).filter(isHashName).sort();
  } catch (error) {
    if (isNotFound(error)) return [];
    throw ioError(error, `listing ${dir}`);
  }
}
