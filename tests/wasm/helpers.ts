/**
 * Fixture trees and independent inspection tools for the packTree / digestTree tests.
 * Nothing here uses the code under test: trees are walked with lstat, xattrs are
 * read with libc, hashes come from b3sum.
 */
import { dlopen, FFIType, read, type Pointer } from "bun:ffi";
import {
  chmodSync,
  closeSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { isRoot, missingPrerequisite, requireTool } from "../support/prereq.ts";

// ---------------------------------------------------------------- processes and temp dirs

/** Tests that chown fixtures or expect root-owned extraction run as root (as in CI). */
export function requireRoot(why: string): void {
  if (!isRoot()) throw missingPrerequisite(`root, ${why}`);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `karapace-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/** Runs argv, throws with its stderr when it exits non-zero. */
export function run(argv: string[], env?: Record<string, string>): RunResult {
  const proc = Bun.spawnSync(argv, {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  const stderr = proc.stderr.toString();
  if (!proc.success) throw new Error(`${argv.join(" ")} failed (exit ${proc.exitCode}):\n${stderr}`);
  return { stdout: proc.stdout, stderr };
}

/** BLAKE3 of a file by the reference `b3sum` (read(), not mmap: steadier on huge sparse files). */
export function b3sum(path: string): string {
  const out = run([requireTool("b3sum"), "--no-mmap", "--no-names", path]).stdout.toString().trim();
  if (!/^[0-9a-f]{64}$/.test(out)) throw new Error(`unexpected b3sum output: ${out}`);
  return out;
}

export function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

// ---------------------------------------------------------------- extended attributes (libc via FFI)

const ENOTSUP = 95;
const ENODATA = 61;

interface Libc {
  lsetxattr(path: Buffer, name: Buffer, value: Buffer, size: number, flags: number): number;
  lgetxattr(path: Buffer, name: Buffer, value: Buffer | null, size: number): number;
  errno(): number;
}

let libc: Libc | undefined;

function lib(): Libc {
  if (libc) return libc;
  const { symbols } = dlopen("libc.so.6", {
    lsetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    lgetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  libc = {
    lsetxattr: (p, n, v, s, f) => symbols.lsetxattr(p, n, v, s, f),
    lgetxattr: (p, n, v, s) => Number(symbols.lgetxattr(p, n, v, s)),
    errno: () => read.i32(symbols.__errno_location() as Pointer, 0),
  };
  return libc;
}

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);

export function setXattr(path: string, name: string, value: string): void {
  const v = Buffer.from(value);
  // lsetxattr wants a valid pointer even for an empty value.
  const buf = v.length === 0 ? Buffer.alloc(1) : v;
  if (lib().lsetxattr(cstr(path), cstr(name), buf, v.length, 0) !== 0) {
    const errno = lib().errno();
    const hint = errno === ENOTSUP ? ` (the filesystem of ${tmpdir()} does not accept user xattrs)` : "";
    throw new Error(`lsetxattr(${path}, ${name}) failed: errno ${errno}${hint}`);
  }
}

/** The attribute's value, or null when the entry does not have it. */
export function getXattr(path: string, name: string): string | null {
  const c = lib();
  const size = c.lgetxattr(cstr(path), cstr(name), null, 0);
  if (size < 0) {
    if (c.errno() === ENODATA) return null;
    throw new Error(`lgetxattr(${path}, ${name}) failed: errno ${c.errno()}`);
  }
  const value = Buffer.alloc(Math.max(size, 1));
  const got = c.lgetxattr(cstr(path), cstr(name), value, size);
  if (got < 0) throw new Error(`lgetxattr(${path}, ${name}) failed: errno ${c.errno()}`);
  return value.subarray(0, got).toString();
}

// ---------------------------------------------------------------- fixture trees

export type Spec =
  | { kind: "file"; path: string; data: Uint8Array; mode?: number; xattrs?: Record<string, string> }
  | { kind: "dir"; path: string; mode?: number; xattrs?: Record<string, string> }
  | { kind: "symlink"; path: string; target: string }
  /** Another name for the inode of the file spec at `target`. */
  | { kind: "hardlink"; path: string; target: string }
  | { kind: "fifo"; path: string; mode?: number };

export interface BuildOptions {
  /** Order in which the spec entries are created (default "forward"). */
  order?: "forward" | "reverse";
  /** lchown every entry (root included) to this uid and gid. */
  owner?: number;
  /** Seed for the random atime/mtime of every entry; without it times are left as they are. */
  timeSeed?: number;
}

/** A small deterministic PRNG (xorshift32). */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function pseudoRandomBytes(seed: number, len: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i += 4) {
    const v = next();
    out[i] = v & 0xff;
    if (i + 1 < len) out[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < len) out[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < len) out[i + 3] = (v >>> 24) & 0xff;
  }
  return out;
}

function mkfifo(path: string): void {
  run([requireTool("mkfifo"), path]);
}

/** Every path under root (root excluded), parents before children. */
export function listPaths(root: string): string[] {
  const out: string[] = [];
  const visit = (rel: string): void => {
    const abs = rel === "" ? root : join(root, rel);
    for (const name of readdirSync(abs).sort()) {
      const child = rel === "" ? name : `${rel}/${name}`;
      out.push(child);
      if (lstatSync(join(root, child)).isDirectory()) visit(child);
    }
  };
  visit("");
  return out;
}

/**
 * Creates the entries of `spec` under `root` (which must exist). Missing parent
 * directories are made on the way; every mode is then set explicitly, so the
 * umask and the creation order leave no trace. Owners are changed before modes
 * (chown clears setuid/setgid) and times last.
 */
export function buildTree(root: string, spec: readonly Spec[], opts: BuildOptions = {}): void {
  const files = new Map<string, Extract<Spec, { kind: "file" }>>();
  for (const e of spec) if (e.kind === "file") files.set(e.path, e);
  /** Inode group (the path of its file spec) -> the first name created for it. */
  const groupFirst = new Map<string, string>();
  const abs = (p: string): string => join(root, p);

  const ordered = opts.order === "reverse" ? [...spec].reverse() : [...spec];
  for (const e of ordered) {
    mkdirSync(dirname(abs(e.path)), { recursive: true });
    switch (e.kind) {
      case "dir":
        mkdirSync(abs(e.path), { recursive: true });
        break;
      case "symlink":
        symlinkSync(e.target, abs(e.path));
        break;
      case "fifo":
        mkfifo(abs(e.path));
        break;
      case "file":
      case "hardlink": {
        const group = e.kind === "file" ? e.path : e.target;
        const head = files.get(group);
        if (!head) throw new Error(`fixture: hardlink ${e.path} points at ${group}, which is no file in the spec`);
        const first = groupFirst.get(group);
        if (first === undefined) {
          writeFileSync(abs(e.path), head.data);
          groupFirst.set(group, e.path);
        } else {
          linkSync(abs(first), abs(e.path));
        }
        break;
      }
    }
  }

  const all = listPaths(root);
  if (opts.owner !== undefined) {
    lchownSync(root, opts.owner, opts.owner);
    for (const p of all) lchownSync(abs(p), opts.owner, opts.owner);
  }
  const modes = new Map<string, number>();
  for (const e of spec) {
    if (e.kind === "file" || e.kind === "dir" || e.kind === "fifo") modes.set(e.path, e.mode ?? (e.kind === "dir" ? 0o755 : 0o644));
  }
  for (const p of all) {
    const st = lstatSync(abs(p));
    if (st.isSymbolicLink()) continue;
    const mode = modes.get(p) ?? (st.isDirectory() ? 0o755 : undefined);
    if (mode !== undefined) chmodSync(abs(p), mode);
  }
  for (const e of spec) {
    if ((e.kind === "file" || e.kind === "dir") && e.xattrs) {
      for (const [k, v] of Object.entries(e.xattrs)) setXattr(abs(e.path), k, v);
    }
  }
  if (opts.timeSeed !== undefined) {
    const next = prng(opts.timeSeed);
    for (const p of [...all, ""]) {
      const t = 1_000_000 + (next() % 1_500_000_000);
      lutimesSync(p === "" ? root : abs(p), t + 17, t);
    }
  }
}

const D = (c: string): string => c.repeat(60);
export const DEEP_DIR = `deep/${D("a")}/${D("b")}/${D("c")}/${D("d")}`;
export const LONG_HL = `deep/${D("a")}/${D("b")}/hl-long`;

/**
 * The tree of the brief without the 9 GiB file and the socket: files of awkward
 * sizes, empty files and dirs, nesting, every kind of symlink, hardlink groups of
 * two and three names, long and unsplittable paths, UTF-8 names, special modes,
 * user xattrs and a fifo.
 */
export function standardSpec(): Spec[] {
  const bytes = (seed: number, n: number): Uint8Array => pseudoRandomBytes(seed, n);
  const longTarget = `../${DEEP_DIR}/file-in-deep.txt`;
  const target100 = `../${"t".repeat(97)}`;
  if (target100.length !== 100) throw new Error("fixture: target100 must be exactly 100 bytes");
  return [
    { kind: "file", path: "files/size-0", data: new Uint8Array(0) },
    { kind: "file", path: "files/size-1", data: bytes(1, 1) },
    { kind: "file", path: "files/size-511", data: bytes(2, 511) },
    { kind: "file", path: "files/size-512", data: bytes(3, 512) },
    { kind: "file", path: "files/size-513", data: bytes(4, 513) },
    { kind: "file", path: "files/size-1mib+3", data: bytes(5, (1 << 20) + 3) },
    { kind: "file", path: "empty-file", data: new Uint8Array(0) },
    { kind: "dir", path: "empty-dir" },
    { kind: "dir", path: "nested/a/b/c/empty" },
    { kind: "file", path: "nested/a/b/c/file.txt", data: Buffer.from("deep inside\n") },
    { kind: "file", path: "nested/a/file", data: bytes(6, 100) },
    // sorts between "nested" and "nested/..." by bytes ('-' < '/')
    { kind: "file", path: "nested-sibling", data: Buffer.from("sibling\n") },
    { kind: "symlink", path: "links/rel", target: "../files/size-1" },
    { kind: "symlink", path: "links/abs", target: "/etc/passwd" },
    { kind: "symlink", path: "links/dangling", target: "../does/not/exist" },
    { kind: "symlink", path: "links/long-target", target: longTarget },
    { kind: "symlink", path: "links/target-100", target: target100 },
    { kind: "symlink", path: "links/to-dir", target: "../nested/a" },
    { kind: "file", path: "hard/two-a", data: bytes(7, 700) },
    { kind: "hardlink", path: "hard/two-b", target: "hard/two-a" },
    { kind: "file", path: "hard/three-a", data: bytes(8, 3000) },
    { kind: "hardlink", path: "hard/three-b", target: "hard/three-a" },
    { kind: "hardlink", path: "hard/sub/three-c", target: "hard/three-a" },
    { kind: "file", path: `${DEEP_DIR}/file-in-deep.txt`, data: Buffer.from("far down\n") },
    { kind: "file", path: LONG_HL, data: bytes(9, 1234) },
    // second name of an inode whose first name (in sort order) is over 100 bytes: PAX linkpath
    { kind: "hardlink", path: "hard/zz-second-of-long", target: LONG_HL },
    { kind: "file", path: `names/${"n".repeat(255)}`, data: Buffer.from("max name\n") },
    { kind: "file", path: `names/${"文".repeat(85)}`, data: Buffer.from("max utf-8 name\n") },
    { kind: "file", path: `names/${"m".repeat(100)}`, data: Buffer.from("100-byte name\n") },
    { kind: "dir", path: "e".repeat(99) }, // "eee.../" is exactly 100 bytes: the whole name field
    { kind: "dir", path: "f".repeat(100) }, // "fff.../" is 101 bytes and has no usable split
    // prefix of exactly 155 bytes + a 100-byte name: the largest path ustar holds (256 bytes)
    { kind: "file", path: `${"p".repeat(77)}/${"p".repeat(77)}/${"n".repeat(100)}`, data: Buffer.from("ustar limit\n") },
    // one byte more in the prefix: PAX
    { kind: "file", path: `${"r".repeat(78)}/${"r".repeat(77)}/${"n".repeat(100)}`, data: Buffer.from("just over\n") },
    // prefix would be 160 bytes (> 155) and the name alone is short: no ustar split exists
    { kind: "file", path: `${"q".repeat(160)}/short`, data: Buffer.from("unsplittable\n") },
    { kind: "file", path: "ünïcödé-文件", data: Buffer.from("unicode\n") },
    { kind: "file", path: "ünïcödé-目录/文件.txt", data: Buffer.from("unicode in dir\n") },
    { kind: "file", path: "modes/setuid", data: Buffer.from("#!/bin/sh\n"), mode: 0o4755 },
    { kind: "file", path: "modes/setgid", data: Buffer.from("#!/bin/sh\n"), mode: 0o2755 },
    { kind: "dir", path: "modes/sticky-dir", mode: 0o1777 },
    { kind: "dir", path: "modes/setgid-dir", mode: 0o2755 },
    { kind: "file", path: "modes/private", data: Buffer.from("secret\n"), mode: 0o600 },
    { kind: "file", path: "modes/readonly", data: Buffer.from("ro\n"), mode: 0o444 },
    { kind: "file", path: "modes/none", data: Buffer.from("no perms\n"), mode: 0o000 },
    { kind: "file", path: "modes/exec", data: Buffer.from("#!/bin/sh\n"), mode: 0o755 },
    { kind: "fifo", path: "fifo", mode: 0o640 },
    { kind: "file", path: "xattr/file", data: Buffer.from("has xattrs\n"), xattrs: { "user.k": "v", "user.second": "hello world" } },
    { kind: "dir", path: "xattr/dir", xattrs: { "user.k": "dir value" } },
    { kind: "file", path: "zzz-last", data: Buffer.from("z") },
  ];
}

/** User xattrs the spec sets, by path. */
export function specXattrs(spec: readonly Spec[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const e of spec) if ((e.kind === "file" || e.kind === "dir") && e.xattrs) out.set(e.path, e.xattrs);
  return out;
}

// ---------------------------------------------------------------- independent tree snapshots

export type NodeKind = "file" | "dir" | "symlink" | "fifo" | "socket" | "device";

export interface Node {
  kind: NodeKind;
  /** Permission bits incl. setuid/setgid/sticky. */
  mode: number;
  size: number;
  ino: number;
  nlink: number;
  target?: string;
}

export function snapshot(root: string): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const rel of listPaths(root)) {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const kind: NodeKind = st.isFile()
      ? "file"
      : st.isDirectory()
        ? "dir"
        : st.isSymbolicLink()
          ? "symlink"
          : st.isFIFO()
            ? "fifo"
            : st.isSocket()
              ? "socket"
              : "device";
    const node: Node = { kind, mode: st.mode & 0o7777, size: kind === "file" ? st.size : 0, ino: st.ino, nlink: st.nlink };
    if (kind === "symlink") node.target = readlinkSync(abs);
    out.set(rel, node);
  }
  return out;
}

export type TarType = "file" | "link" | "symlink" | "directory" | "fifo";

export interface ArchiveEntry {
  /** Name as stored: directories end with '/'. */
  name: string;
  type: TarType;
  mode: number;
  size: number;
  linkname: string;
}

export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Depth-first order: paths compared one component at a time, each component as
 * bytes, so a directory is followed at once by everything inside it.
 */
export const depthFirstOrder = (a: string, b: string): number => {
  const pa = a.split("/");
  const pb = b.split("/");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = byteOrder(pa[i] as string, pb[i] as string);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
};

/**
 * What the deterministic tar of a tree must hold, in order: depth-first, names as bytes,
 * sockets left out, the first name of an inode (in that order) a file and the
 * others hardlinks to it.
 */
export function expectedArchive(snap: Map<string, Node>): ArchiveEntry[] {
  const out: ArchiveEntry[] = [];
  const firstOfInode = new Map<number, string>();
  for (const rel of [...snap.keys()].sort(depthFirstOrder)) {
    const n = snap.get(rel) as Node;
    switch (n.kind) {
      case "socket":
      case "device":
        continue;
      case "dir":
        out.push({ name: `${rel}/`, type: "directory", mode: n.mode, size: 0, linkname: "" });
        break;
      case "symlink":
        out.push({ name: rel, type: "symlink", mode: n.mode, size: 0, linkname: n.target ?? "" });
        break;
      case "fifo":
        out.push({ name: rel, type: "fifo", mode: n.mode, size: 0, linkname: "" });
        break;
      case "file": {
        const first = n.nlink > 1 ? firstOfInode.get(n.ino) : undefined;
        if (first !== undefined) {
          out.push({ name: rel, type: "link", mode: n.mode, size: 0, linkname: first });
        } else {
          if (n.nlink > 1) firstOfInode.set(n.ino, rel);
          out.push({ name: rel, type: "file", mode: n.mode, size: n.size, linkname: "" });
        }
        break;
      }
    }
  }
  return out;
}

/** `ls -l` style mode string as GNU tar prints it (h for hardlinks). */
export function modeString(type: TarType, mode: number): string {
  const typeChar = { file: "-", link: "h", symlink: "l", directory: "d", fifo: "p" }[type];
  const triplet = (bits: number, special: boolean, on: string, off: string): string => {
    const r = bits & 4 ? "r" : "-";
    const w = bits & 2 ? "w" : "-";
    const x = bits & 1 ? (special ? on : "x") : special ? off : "-";
    return r + w + x;
  };
  return (
    typeChar +
    triplet((mode >> 6) & 7, (mode & 0o4000) !== 0, "s", "S") +
    triplet((mode >> 3) & 7, (mode & 0o2000) !== 0, "s", "S") +
    triplet(mode & 7, (mode & 0o1000) !== 0, "t", "T")
  );
}

/** Reads `len` bytes at `pos` of a file without reading the rest. */
export function readAt(path: string, pos: number, len: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(len);
    const n = readSync(fd, buf, 0, len, pos);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------- worker accounting

/**
 * Runs `fn` while counting the Worker threads started through the global `Worker`
 * constructor (which the hash pool uses), so a test can tell that the parallel
 * path really ran.
 */
export async function countingWorkers<T>(fn: () => Promise<T>): Promise<{ value: T; started: number }> {
  const Original = globalThis.Worker;
  let started = 0;
  class Counting extends Original {
    constructor(...args: ConstructorParameters<typeof Worker>) {
      super(...args);
      started++;
    }
  }
  globalThis.Worker = Counting;
  try {
    return { value: await fn(), started };
  } finally {
    globalThis.Worker = Original;
  }
}
