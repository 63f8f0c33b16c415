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

/** The entry for one lstat result, either flavour (bigint stats carry nanosecond times). */
function entryOf(rel: Buffer, abs: Buffer, st: Stats | BigIntStats): TreeEntry {
  const kind = kindOf(st);
  const rdev = Number(st.rdev);
  return {
    rel, abs, kind,
    mode: Number(st.mode) & 0o7777,
    size: kind === "file" ? Number(st.size) : 0,
    dev: Number(st.dev), ino: Number(st.ino), nlink: Number(st.nlink),
    rdevMajor: Math.floor(rdev / 256) & 0xfff,
    rdevMinor: (rdev & 0xff) | ((rdev >>> 12) & ~0xff),
  };
}

/** Depth-first pre-order over `root`, names sorted by bytes; `each` returns the entry's kind so directories are entered. */
function traverse(root: string, each: (rel: Buffer, abs: Buffer) => EntryKind): void {
  const visit = (absDir: Buffer, relDir: Buffer | null): void => {
    const names = readdirSync(absDir, { encoding: "buffer" }).sort(Buffer.compare);
    for (const name of names) {
      const abs = Buffer.concat([absDir, SLASH, name]);
      const rel = relDir ? Buffer.concat([relDir, SLASH, name]) : name;
      if (each(rel, abs) === "dir") visit(abs, rel);
    }
  };
  visit(Buffer.from(root.replace(/\/+$/, "") || "/"), null);
}

/**
 * Every entry under `root` (the root itself excluded) in depth-first pre-order,
 * the children of each directory sorted by name bytes. Symlinks are not followed.
 */
export function walkTree(root: string): TreeEntry[] {
  const rootStat = lstatSync(root);
  if (!rootStat.isDirectory()) throw new NotADirectoryError(root);
  const out: TreeEntry[] = [];
  traverse(root, (rel, abs) => {
    const entry = entryOf(rel, abs, lstatSync(abs));
    out.push(entry);
    return entry.kind;
  });
  return out;
}

/** walkTree()'s entries with the nanosecond lstat of each, for stat caches. */
export function walkTreeWithStats(root: string): { entries: TreeEntry[]; stats: BigIntStats[] } {
  const entries: TreeEntry[] = [];
  const stats: BigIntStats[] = [];
  traverse(root, (rel, abs) => {
    const st = lstatSync(abs, { bigint: true });
    const entry = entryOf(rel, abs, st);
    entries.push(entry);
    stats.push(st);
    return entry.kind;
  });
  return { entries, stats };
}
