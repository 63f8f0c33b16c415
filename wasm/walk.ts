import { type BigIntStats, lstatSync, readdirSync, type Stats } from "node:fs";

export type EntryKind = "file" | "dir" | "symlink" | "fifo" | "socket" | "chardev" | "blockdev";

export interface TreeEntry {
  /** Path relative to the root, raw bytes: Linux names need not be UTF-8. */
  rel: Buffer;
  /** Absolute path, raw bytes. */
  abs: Buffer;
  kind: EntryKind;
  /** Permission bits including setuid, setgid and sticky. */
  mode: number;
  size: number;
  dev: number;
  ino: number;
  nlink: number;
  rdevMajor: number;
  rdevMinor: number;
}

const SLASH = Buffer.from("/");

/** The entry kind of an lstat result (number or bigint flavour). */
export function kindOf(st: Stats | BigIntStats): EntryKind {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice()) return "chardev";
  return "blockdev";
}

export class NotADirectoryError extends Error {
  constructor(readonly path: string) {
    super(`not a directory: ${path}`);
    this.name = "NotADirectoryError";
  }
}

/**
 * Every entry under `root` (the root itself excluded) in depth-first pre-order,
 * the children of each directory sorted by name bytes. Symlinks are not followed.
 */
export function walkTree(root: string): TreeEntry[] {
  const rootStat = lstatSync(root);
  if (!rootStat.isDirectory()) throw new NotADirectoryError(root);
  const out: TreeEntry[] = [];
  const visit = (absDir: Buffer, relDir: Buffer | null): void => {
    const names = readdirSync(absDir, { encoding: "buffer" }).sort(Buffer.compare);
    for (const name of names) {
      const abs = Buffer.concat([absDir, SLASH, name]);
      const rel = relDir ? Buffer.concat([relDir, SLASH, name]) : name;
      const st = lstatSync(abs);
      const kind = kindOf(st);
      out.push({
        rel, abs, kind,
        mode: st.mode & 0o7777,
        size: kind === "file" ? st.size : 0,
        dev: st.dev, ino: st.ino, nlink: st.nlink,
        rdevMajor: Math.floor(st.rdev / 256) & 0xfff,
        rdevMinor: (st.rdev & 0xff) | ((st.rdev >>> 12) & ~0xff),
      });
      if (kind === "dir") visit(abs, rel);
    }
  };
  visit(Buffer.from(root.replace(/\/+$/, "") || "/"), null);
  return out;
}
