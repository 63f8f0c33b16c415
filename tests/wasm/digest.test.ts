/**
 * digestTree: what changes the digest (content, modes, symlink targets, names,
 * new entries, moves) and what must not (times, creation order, owners, inode
 * numbers, where the tree lives, hardlink sharing, worker count).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  closeSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { digestTree, NotADirectoryError } from "../../wasm/index.ts";
import { requireTool } from "../support/prereq.ts";
import { b3sum, buildTree, countingWorkers, listPaths, pseudoRandomBytes, removeDir, requireRoot, run, seconds, type Spec, standardSpec, tempDir } from "./helpers.ts";

const MiB = 2 ** 20;
let work = "";
let counter = 0;
const spec = standardSpec();

beforeAll(() => {
  requireTool("mkfifo");
  work = tempDir("digest");
});

afterAll(() => {
  if (work) removeDir(work);
});

/** A fresh copy of the standard tree. */
function freshTree(opts: Parameters<typeof buildTree>[2] = {}): string {
  const dir = join(work, `t${counter++}`);
  mkdirSync(dir);
  buildTree(dir, spec, opts);
  return dir;
}

async function digestOf(dir: string): Promise<string> {
  return (await digestTree(dir, { workers: 0 })).digest;
}

/** Overwrites one byte in place: same size, same inode. */
function flipByte(path: string, pos: number): void {
  const fd = openSync(path, "r+");
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, pos);
    b[0] = (b[0] as number) ^ 0x01;
    writeSync(fd, b, 0, 1, pos);
  } finally {
    closeSync(fd);
  }
}

describe("digestTree changes when the tree changes", () => {
  let base = "";
  let baseDigest = "";

  beforeAll(async () => {
    base = freshTree();
    baseDigest = await digestOf(base);
    expect(baseDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  const mutations: Array<[string, (dir: string) => void]> = [
    ["one byte of a file, size kept", (d) => flipByte(join(d, "files/size-1mib+3"), 700_000)],
    ["the last byte of a 513-byte file", (d) => flipByte(join(d, "files/size-513"), 512)],
    ["one byte of a file deep in the tree", (d) => flipByte(join(d, "nested/a/b/c/file.txt"), 0)],
    ["a file's mode (chmod 644 -> 755)", (d) => chmodSync(join(d, "files/size-1"), 0o755)],
    ["a setuid bit dropped", (d) => chmodSync(join(d, "modes/setuid"), 0o755)],
    ["a directory's mode", (d) => chmodSync(join(d, "nested/a"), 0o700)],
    ["an empty directory's mode", (d) => chmodSync(join(d, "empty-dir"), 0o750)],
    [
      "a symlink target of the same length",
      (d) => {
        unlinkSync(join(d, "links/rel"));
        symlinkSync("../files/size-0", join(d, "links/rel"));
      },
    ],
    [
      "a dangling symlink's target",
      (d) => {
        unlinkSync(join(d, "links/dangling"));
        symlinkSync("../does/not/exisT", join(d, "links/dangling"));
      },
    ],
    ["a file renamed", (d) => renameSync(join(d, "files/size-511"), join(d, "files/size-51l"))],
    ["a file moved to another directory", (d) => renameSync(join(d, "nested/a/file"), join(d, "nested/a/b/file"))],
    ["a directory renamed", (d) => renameSync(join(d, "nested/a/b/c/empty"), join(d, "nested/a/b/c/empti"))],
    ["an empty directory added", (d) => mkdirSync(join(d, "nested/a/b/new-empty"), { mode: 0o755 })],
    ["an empty directory added at the root", (d) => mkdirSync(join(d, "0-new"), { mode: 0o755 })],
    ["an empty file added", (d) => writeFileSync(join(d, "empty-dir/new"), "")],
    ["an empty file removed", (d) => rmSync(join(d, "empty-file"))],
    ["an empty directory removed", (d) => rmSync(join(d, "empty-dir"), { recursive: true })],
    [
      "a file replaced by a symlink",
      (d) => {
        rmSync(join(d, "zzz-last"));
        symlinkSync("z", join(d, "zzz-last"));
      },
    ],
    [
      "an empty file replaced by an empty directory",
      (d) => {
        rmSync(join(d, "empty-file"));
        mkdirSync(join(d, "empty-file"));
        chmodSync(join(d, "empty-file"), 0o644);
      },
    ],
    [
      "a file's content swapped with a same-size file's",
      (d) => {
        renameSync(join(d, "hard/two-a"), join(d, "tmp"));
        renameSync(join(d, "modes/setuid"), join(d, "hard/two-a"));
        renameSync(join(d, "tmp"), join(d, "modes/setuid"));
        // keep the modes where they were: only the contents moved
        chmodSync(join(d, "hard/two-a"), 0o644);
        chmodSync(join(d, "modes/setuid"), 0o4755);
      },
    ],
  ];

  for (const [what, mutate] of mutations) {
    test(what, async () => {
      const dir = freshTree();
      expect(await digestOf(dir)).toBe(baseDigest);
      mutate(dir);
      expect(await digestOf(dir)).not.toBe(baseDigest);
    });
  }

  test("every mutation gives a different digest from every other", async () => {
    const seen = new Map<string, string>([[baseDigest, "(unchanged)"]]);
    for (const [what, mutate] of mutations) {
      const dir = freshTree();
      mutate(dir);
      const d = await digestOf(dir);
      expect({ what, collidesWith: seen.get(d) }).toEqual({ what, collidesWith: undefined });
      seen.set(d, what);
    }
  });
});

describe("digestTree does not change with what it must ignore", () => {
  test("times (utimes on every entry, symlinks included)", async () => {
    const a = freshTree({ timeSeed: 1 });
    const b = freshTree({ timeSeed: 2 });
    expect(lstatSync(join(a, "files/size-1")).mtimeMs).not.toBe(lstatSync(join(b, "files/size-1")).mtimeMs);
    expect(await digestOf(b)).toBe(await digestOf(a));
  });

  test("creation order (the tree built forward and in reverse)", async () => {
    const a = freshTree({ order: "forward" });
    const b = freshTree({ order: "reverse" });
    expect(await digestOf(b)).toBe(await digestOf(a));
  });

  test("owners (lchown every entry to 1234:1234)", async () => {
    requireRoot("to chown the fixture tree");
    const a = freshTree();
    const before = await digestOf(a);
    const modes = listPaths(a).map((p) => [p, lstatSync(join(a, p)).mode] as const);
    for (const p of listPaths(a)) lchownSync(join(a, p), 1234, 1234);
    lchownSync(a, 1234, 1234);
    // chown clears setuid/setgid on files: put them back so only the owner differs
    for (const [p, mode] of modes) if (!lstatSync(join(a, p)).isSymbolicLink()) chmodSync(join(a, p), mode & 0o7777);
    expect(lstatSync(join(a, "modes/setuid")).uid).toBe(1234);
    expect(lstatSync(join(a, "modes/setuid")).mode & 0o7777).toBe(0o4755);
    expect(await digestOf(a)).toBe(before);
  });

  test("all of it at once: order, times, owners, location", async () => {
    requireRoot("to chown the fixture tree");
    const a = freshTree({ order: "forward", owner: 0, timeSeed: 10 });
    const b = freshTree({ order: "reverse", owner: 1234, timeSeed: 20 });
    const moved = join(work, "elsewhere", "deeper");
    mkdirSync(join(work, "elsewhere"));
    renameSync(b, moved);
    chmodSync(moved, 0o700); // the root's own mode does not count
    expect(await digestOf(moved)).toBe(await digestOf(a));
  });

  test("hardlink sharing (two names of one inode vs two copies)", async () => {
    const a = join(work, "hl-shared");
    const b = join(work, "hl-copies");
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, "one"), "same bytes\n");
    linkSync(join(a, "one"), join(a, "two"));
    writeFileSync(join(b, "one"), "same bytes\n");
    writeFileSync(join(b, "two"), "same bytes\n");
    for (const d of [a, b]) for (const f of ["one", "two"]) chmodSync(join(d, f), 0o644);
    expect(await digestOf(b)).toBe(await digestOf(a));
  });

  test("a copy of the tree (new inodes) digests the same, and so does a second run", async () => {
    const a = freshTree();
    const b = join(work, "copy");
    run([requireTool("cp"), "-a", a, b]);
    expect(lstatSync(join(b, "files/size-1")).ino).not.toBe(lstatSync(join(a, "files/size-1")).ino);
    const da = await digestOf(a);
    expect(await digestOf(a)).toBe(da);
    expect(await digestOf(b)).toBe(da);
  });
});

describe("digestTree results and errors", () => {
  test("counts entries, files and bytes", async () => {
    const dir = join(work, "counts");
    mkdirSync(dir);
    const small: Spec[] = [
      { kind: "file", path: "a", data: new Uint8Array(10) },
      { kind: "file", path: "d/b", data: new Uint8Array(5) },
      { kind: "hardlink", path: "d/c", target: "d/b" },
      { kind: "symlink", path: "s", target: "a" },
      { kind: "dir", path: "e" },
      { kind: "fifo", path: "p" },
    ];
    buildTree(dir, small);
    const r = await digestTree(dir, { workers: 0 });
    // a, d, d/b, d/c, e, p, s
    expect({ entries: r.entries, files: r.files, bytes: r.bytes }).toEqual({ entries: 7, files: 3, bytes: 20 });
  });

  test("an empty tree's digest is BLAKE3 of the domain string", async () => {
    const dir = join(work, "empty");
    mkdirSync(dir);
    const domain = join(work, "domain");
    writeFileSync(domain, "karapace-tree-v1\0");
    requireTool("b3sum");
    expect(await digestOf(dir)).toBe(b3sum(domain));
  });

  test("rejects a regular file as root with NotADirectoryError", async () => {
    const file = join(work, "not-a-dir");
    writeFileSync(file, "x");
    await expect(digestTree(file)).rejects.toBeInstanceOf(NotADirectoryError);
    await expect(digestTree(file, { workers: 0 })).rejects.toThrow(NotADirectoryError);
  });

  test("rejects a symlink to a directory as root with NotADirectoryError (symlinks are not followed)", async () => {
    const dir = freshTree();
    const link = join(work, "link-to-tree");
    symlinkSync(dir, link);
    await expect(digestTree(link, { workers: 0 })).rejects.toThrow(NotADirectoryError);
  });
});

describe("digestTree with hash workers", () => {
  let dir = "";

  beforeAll(() => {
    // > 16 MiB of file data so the worker path is taken; over 512 files so batches
    // are cut by count as well as by bytes; sizes that do not align with anything.
    dir = join(work, "large");
    mkdirSync(dir);
    const big: Spec[] = [
      { kind: "file", path: "big/one", data: pseudoRandomBytes(1, 7 * MiB + 13) },
      { kind: "file", path: "big/two", data: pseudoRandomBytes(2, 9 * MiB + 1) },
      { kind: "file", path: "big/three", data: pseudoRandomBytes(3, 3 * MiB) },
      { kind: "file", path: "big/empty", data: new Uint8Array(0) },
    ];
    for (let i = 0; i < 700; i++) {
      big.push({ kind: "file", path: `many/${String(i).padStart(4, "0")}`, data: pseudoRandomBytes(1000 + i, (i * 131) % 3000) });
    }
    big.push({ kind: "symlink", path: "many/link", target: "0001" });
    big.push({ kind: "dir", path: "many/sub" });
    buildTree(dir, [...spec, ...big.map((e) => ({ ...e, path: `large/${e.path}` }))]);
  });

  test("workers: 0, 1, 2, 5 and the default give the same digest, and workers really run", async () => {
    const t = performance.now();
    const here = await countingWorkers(() => digestTree(dir, { workers: 0 }));
    expect(here.started).toBe(0);
    expect(here.value.bytes).toBeGreaterThan(16 * MiB);
    for (const workers of [1, 2, 5, undefined]) {
      const r = await countingWorkers(() => digestTree(dir, workers === undefined ? {} : { workers }));
      expect(r.started).toBeGreaterThanOrEqual(1);
      if (workers !== undefined) expect(r.started).toBeLessThanOrEqual(workers);
      expect({ workers, digest: r.value.digest, entries: r.value.entries, files: r.value.files, bytes: r.value.bytes }).toEqual({
        workers,
        digest: here.value.digest,
        entries: here.value.entries,
        files: here.value.files,
        bytes: here.value.bytes,
      });
    }
    console.log(`[digest] worker comparisons on ${(here.value.bytes / MiB).toFixed(1)} MiB, ${here.value.files} files: ${seconds(t)}`);
  }, 120_000);

  test("one flipped byte in a large file and in a small one is seen on both paths alike", async () => {
    const before = (await digestTree(dir, { workers: 2 })).digest;
    for (const [path, pos] of [["large/big/two", 9 * MiB], ["large/many/0699", 5]] as const) {
      flipByte(join(dir, path), pos);
      const viaWorkers = (await digestTree(dir, { workers: 2 })).digest;
      const here = (await digestTree(dir, { workers: 0 })).digest;
      expect({ path, viaWorkers }).toEqual({ path, viaWorkers: here });
      expect(viaWorkers).not.toBe(before);
      flipByte(join(dir, path), pos);
      expect((await digestTree(dir, { workers: 2 })).digest).toBe(before);
    }
  }, 120_000);
});
