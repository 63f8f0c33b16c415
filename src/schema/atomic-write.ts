/**
 * Replace a file so that readers see the old or the new contents, never a
 * mix, and a crash leaves one of the two: write a temporary file in the same
 * directory, fsync it, rename it over the target, fsync the directory.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export function writeFileAtomic(path: string, contents: string, mode = 0o644): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  // O_EXCL: never follow or reuse something already at the temporary name.
  const fd = openSync(temp, "wx", mode);
  try {
    const bytes = Buffer.from(contents, "utf8");
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  syncDirectory(dir);
}

/** Makes the rename durable; a directory that cannot be opened for fsync is not an error (as in the reference). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself has happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
