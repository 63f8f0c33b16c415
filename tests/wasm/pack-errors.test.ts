/**
 * packTree must leave neither a temp file nor an output file behind when it fails,
 * whether it fails before writing, in the middle, or at the final rename. Failures
 * are provoked in ways that work as root too (permissions would not stop root):
 *  - the output directory does not exist;
 *  - the source is not a directory / does not exist;
 *  - a file shrinks or grows after the walk (changed from the onProgress callback,
 *    which packTree calls between entries once 64 MiB of data went through);
 *  - the onProgress callback throws mid-pack;
 *  - the output path is an existing directory, so only the final rename fails.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { FileChangedError, NotADirectoryError, packTree } from "../../wasm/index.ts";
import { requireTool } from "../support/prereq.ts";
import { b3sum, pseudoRandomBytes, removeDir, tempDir } from "./helpers.ts";

const MiB = 2 ** 20;
let work = "";
let counter = 0;

beforeAll(() => {
  requireTool("b3sum");
  work = tempDir("pack-err");
});

afterAll(() => {
  if (work) removeDir(work);
});

/** A fresh, empty output directory. */
function outDir(): string {
  const d = join(work, `out-${counter++}`);
  mkdirSync(d);
  return d;
}

/**
 * "a-big": 70 MiB sparse (so onProgress fires right after it), then "b-victim":
 * 1 MiB of data that the callback changes, then "c-after".
 */
function progressTree(): { dir: string; victim: string; victimData: Uint8Array } {
  const dir = join(work, `src-${counter++}`);
  mkdirSync(dir);
  const fd = openSync(join(dir, "a-big"), "w");
  try {
    ftruncateSync(fd, 70 * MiB);
    writeSync(fd, Buffer.from("x"), 0, 1, 35 * MiB);
  } finally {
    closeSync(fd);
  }
  const victimData = pseudoRandomBytes(7, MiB);
  writeFileSync(join(dir, "b-victim"), victimData);
  writeFileSync(join(dir, "c-after"), "after\n");
  return { dir, victim: join(dir, "b-victim"), victimData };
}

describe("packTree cleans up when it fails", () => {
  test("output directory does not exist: rejects, creates nothing", async () => {
    const src = join(work, "small-src");
    mkdirSync(src);
    writeFileSync(join(src, "f"), "data\n");
    const missing = join(work, "no-such-dir");
    await expect(packTree(src, join(missing, "out.tar"))).rejects.toThrow(/ENOENT|no such file/i);
    expect(existsSync(missing)).toBe(false);
  });

  test("source is a file: rejects with NotADirectoryError, creates nothing", async () => {
    const file = join(work, "a-file");
    writeFileSync(file, "x");
    const out = outDir();
    await expect(packTree(file, join(out, "out.tar"))).rejects.toBeInstanceOf(NotADirectoryError);
    expect(readdirSync(out)).toEqual([]);
  });

  test("source does not exist: rejects, creates nothing", async () => {
    const out = outDir();
    await expect(packTree(join(work, "nothing-here"), join(out, "out.tar"))).rejects.toThrow(/ENOENT|no such file/i);
    expect(readdirSync(out)).toEqual([]);
  });

  test("a file that shrinks after the walk: FileChangedError, no temp file, no output", async () => {
    const { dir, victim } = progressTree();
    const out = outDir();
    const calls: number[] = [];
    const err = await packTree(dir, join(out, "out.tar"), {
      onProgress: (n) => {
        calls.push(n);
        if (calls.length === 1) truncateSync(victim, 1000);
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(calls.length).toBeGreaterThanOrEqual(1); // the hook really ran mid-pack
    expect(err).toBeInstanceOf(FileChangedError);
    expect((err as FileChangedError).path).toBe("b-victim");
    expect(readdirSync(out)).toEqual([]);
  });

  test("a file that grows after the walk: FileChangedError, no temp file, no output", async () => {
    const { dir, victim } = progressTree();
    const out = outDir();
    let called = false;
    const err = await packTree(dir, join(out, "out.tar"), {
      onProgress: () => {
        if (!called) appendFileSync(victim, "more");
        called = true;
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(called).toBe(true);
    expect(err).toBeInstanceOf(FileChangedError);
    expect((err as FileChangedError).path).toBe("b-victim");
    expect(readdirSync(out)).toEqual([]);
  });

  test("onProgress throws mid-pack: the error comes back, no temp file, no output; the next pack works", async () => {
    const { dir } = progressTree();
    const out = outDir();
    const boom = new Error("stop here");
    await expect(
      packTree(dir, join(out, "out.tar"), {
        onProgress: (n) => {
          if (n < 70 * MiB + 4096) throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(readdirSync(out)).toEqual([]);

    // The module state is intact after an aborted pack.
    const r = await packTree(dir, join(out, "out.tar"));
    expect(r.tarHash).toBe(b3sum(join(out, "out.tar")));
    expect(readdirSync(out)).toEqual(["out.tar"]);
  });

  test("output path is an existing directory: only the final rename fails; no temp file is left", async () => {
    const src = join(work, "rename-src");
    mkdirSync(src);
    writeFileSync(join(src, "f"), pseudoRandomBytes(3, 100_000));
    const out = outDir();
    const target = join(out, "out.tar");
    mkdirSync(target);
    await expect(packTree(src, target)).rejects.toThrow(/EISDIR|is a directory/i);
    expect(readdirSync(out)).toEqual(["out.tar"]);
    expect(readdirSync(target)).toEqual([]);
  });

  test("success leaves exactly the output file beside it", async () => {
    const { dir } = progressTree();
    const out = outDir();
    const r = await packTree(dir, join(out, "layer.tar"));
    expect(readdirSync(out)).toEqual(["layer.tar"]);
    expect(r.tarHash).toBe(b3sum(join(out, "layer.tar")));
  });
});
