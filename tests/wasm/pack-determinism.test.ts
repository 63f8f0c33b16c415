/**
 * packTree output depends on the logical tree only: not on creation order, times,
 * owners or inode numbers, and not on how many workers hash it. tarHash is always
 * the BLAKE3 of the bytes on disk (checked with b3sum), including archives whose
 * length falls exactly on the units (1 MiB, so also every 4 MiB) the hashing is split into.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, ftruncateSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { packTree } from "../../wasm/index.ts";
import { requireTool } from "../support/prereq.ts";
import { b3sum, buildTree, countingWorkers, pseudoRandomBytes, removeDir, requireRoot, seconds, standardSpec, tempDir } from "./helpers.ts";

const MiB = 2 ** 20;
let work = "";

beforeAll(() => {
  requireTool("b3sum");
  requireTool("mkfifo");
  work = tempDir("pack-det");
});

afterAll(() => {
  if (work) removeDir(work);
});

describe("packTree determinism", () => {
  test("two builds in different order, with different times and owners, give byte-identical archives", async () => {
    requireRoot("to chown one fixture tree to 1234:1234");
    const t = performance.now();
    const spec = standardSpec();
    const a = join(work, "tree-a");
    const b = join(work, "second-tree-b");
    mkdirSync(a);
    mkdirSync(b);
    buildTree(a, spec, { order: "forward", owner: 0, timeSeed: 1 });
    buildTree(b, spec, { order: "reverse", owner: 1234, timeSeed: 2 });

    // The two trees really differ in what must not matter.
    const sa = lstatSync(join(a, "modes/setuid"));
    const sb = lstatSync(join(b, "modes/setuid"));
    expect([sa.uid, sa.gid, sb.uid, sb.gid]).toEqual([0, 0, 1234, 1234]);
    expect(sa.mtimeMs).not.toBe(sb.mtimeMs);
    expect(sa.ino).not.toBe(sb.ino);
    expect(lstatSync(join(a, "links/rel")).mtimeMs).not.toBe(lstatSync(join(b, "links/rel")).mtimeMs);
    expect(lstatSync(join(b, "links/rel")).uid).toBe(1234);
    // chown before chmod kept the special bits in both trees
    expect([sa.mode & 0o7777, sb.mode & 0o7777]).toEqual([0o4755, 0o4755]);

    const outA = join(work, "a.tar");
    const outB = join(work, "b.tar");
    const ra = await packTree(a, outA);
    const rb = await packTree(b, outB);
    const bytesA = readFileSync(outA);
    const bytesB = readFileSync(outB);
    expect(bytesA.length).toBe(ra.bytes);
    expect(bytesB.equals(bytesA)).toBe(true);
    expect(rb.tarHash).toBe(ra.tarHash);
    expect(ra.tarHash).toBe(b3sum(outA));
    expect(rb).toEqual(ra);

    // The archive does carry the xattrs; xattrs: false leaves them out and changes the bytes.
    expect(bytesA.includes("SCHILY.xattr.user.k=v\n")).toBe(true);
    const outNoX = join(work, "a-noxattrs.tar");
    const rn = await packTree(a, outNoX, { xattrs: false });
    expect(readFileSync(outNoX).includes("SCHILY.xattr")).toBe(false);
    expect(rn.tarHash).not.toBe(ra.tarHash);
    expect(rn.tarHash).toBe(b3sum(outNoX));
    console.log(`[pack-determinism] standard tree twice: ${seconds(t)}`);
  });

  test("a hardlink is stored under its first name in depth-first order, whichever name was created first", async () => {
    const a = join(work, "hl-a");
    const b = join(work, "hl-b");
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, "x-first"), "shared\n");
    writeFileSync(join(b, "y-second"), "shared\n");
    linkSync(join(a, "x-first"), join(a, "y-second"));
    linkSync(join(b, "y-second"), join(b, "x-first"));
    const ra = await packTree(a, join(work, "hl-a.tar"));
    const rb = await packTree(b, join(work, "hl-b.tar"));
    expect(readFileSync(join(work, "hl-b.tar")).equals(readFileSync(join(work, "hl-a.tar")))).toBe(true);
    expect(rb.tarHash).toBe(ra.tarHash);
  });
});

/** Writes `size` bytes of pseudo-random data, or a sparse file with a few bytes when `sparse`. */
function makeFile(path: string, size: number, seed: number, sparse = false): void {
  if (!sparse) {
    writeFileSync(path, pseudoRandomBytes(seed, size));
    return;
  }
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, size);
    writeSync(fd, Buffer.from("mid"), 0, 3, Math.floor(size / 2));
  } finally {
    closeSync(fd);
  }
}

describe("packTree tarHash across worker counts and unit boundaries", () => {
  test("workers 0, 1, 2, 3 and the default give identical archives whose tarHash is b3sum (> 32 MiB tree)", async () => {
    const t = performance.now();
    const dir = join(work, "big-tree");
    mkdirSync(join(dir, "sub"), { recursive: true });
    makeFile(join(dir, "a-13mib+7"), 13 * MiB + 7, 11);
    makeFile(join(dir, "b-9mib+511"), 9 * MiB + 511, 12);
    // whole units of zeros: holes in the output, still hashed
    makeFile(join(dir, "c-sparse-20mib"), 20 * MiB, 13, true);
    makeFile(join(dir, "sub/d-5mib"), 5 * MiB, 14);
    for (let i = 0; i < 50; i++) makeFile(join(dir, `sub/small-${String(i).padStart(2, "0")}`), (i * 977) % 5000, 100 + i);

    const hashes = new Set<string>();
    let first: Buffer | undefined;
    for (const workers of [0, 1, 2, 3, undefined]) {
      const out = join(work, `big-tree-${workers ?? "default"}.tar`);
      const { value: r, started } = await countingWorkers(() => packTree(dir, out, workers === undefined ? {} : { workers }));
      // the default count is the implementation's choice; it must start some
      if (workers === undefined) expect(started).toBeGreaterThanOrEqual(1);
      else expect({ workers, started }).toEqual({ workers, started: workers });
      const bytes = readFileSync(out);
      expect(bytes.length).toBe(r.bytes);
      expect({ workers, tarHash: r.tarHash }).toEqual({ workers, tarHash: b3sum(out) });
      hashes.add(r.tarHash);
      if (!first) first = bytes;
      else expect({ workers, same: bytes.equals(first) }).toEqual({ workers, same: true });
    }
    expect(hashes.size).toBe(1);
    console.log(`[pack-determinism] 47 MiB tree with 5 worker settings: ${seconds(t)}`);
  }, 120_000);

  // One file of size S makes an archive of 512 + S + 1024 bytes (S a multiple of 512).
  const cases: Array<{ label: string; archive: number; sparse: boolean }> = [
    { label: "exactly 4 MiB", archive: 4 * MiB, sparse: false },
    { label: "exactly 8 MiB", archive: 8 * MiB, sparse: false },
    { label: "4 MiB + 512", archive: 4 * MiB + 512, sparse: false },
    { label: "exactly 36 MiB (workers)", archive: 36 * MiB, sparse: false },
    { label: "36 MiB - 512 (workers)", archive: 36 * MiB - 512, sparse: false },
    { label: "exactly 40 MiB, mostly holes (workers)", archive: 40 * MiB, sparse: true },
  ];
  for (const c of cases) {
    test(`archive of ${c.label}: tarHash is b3sum with and without workers`, async () => {
      const dir = join(work, `unit-${c.archive}-${c.sparse}`);
      mkdirSync(dir);
      makeFile(join(dir, "f"), c.archive - 1536, c.archive % 1000, c.sparse);
      for (const workers of [0, 2]) {
        const out = join(dir + `-${workers}.tar`);
        const { value: r, started } = await countingWorkers(() => packTree(dir, out, { workers }));
        expect({ workers, started }).toEqual({ workers, started: c.archive - 1536 >= 32 * MiB ? workers : 0 });
        expect(r.bytes).toBe(c.archive);
        expect({ workers, tarHash: r.tarHash }).toEqual({ workers, tarHash: b3sum(out) });
      }
    }, 60_000);
  }
});
