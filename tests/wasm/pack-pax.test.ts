/**
 * PAX records carry their own length in decimal, digits included, so record sizes
 * next to a power of ten (99/100/101, 999/1000/1001 bytes) are where an encoder
 * slips. This packs link targets, paths and xattr values whose records land on
 * those boundaries, plus the ustar/PAX switch-over lengths, and reads them back
 * with GNU tar and modern-tar.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTarDecoder } from "modern-tar";
import { packTree } from "../../wasm/index.ts";
import { requireTool } from "../support/prereq.ts";
import { b3sum, getXattr, listPaths, removeDir, run, setXattr, tempDir } from "./helpers.ts";

let work = "";

beforeAll(() => {
  requireTool("tar");
  requireTool("b3sum");
  work = tempDir("pack-pax");
});

afterAll(() => {
  if (work) removeDir(work);
});

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A relative path of exactly `len` bytes: 200-byte directories, then a file name. */
function pathOfLength(len: number, tag: string): string {
  const parts: string[] = [];
  let used = 0;
  while (len - used > 255) {
    parts.push(`${tag}${"d".repeat(199)}`);
    used += 201;
  }
  const last = len - used;
  parts.push(`${tag}${"f".repeat(last - 1)}`);
  const p = parts.join("/");
  if (Buffer.byteLength(p) !== len) throw new Error(`pathOfLength: built ${Buffer.byteLength(p)} bytes, wanted ${len}`);
  return p;
}

describe("PAX record lengths at digit boundaries", () => {
  test("link targets, paths and xattr values round-trip through GNU tar and modern-tar", async () => {
    const src = join(work, "src");
    mkdirSync(join(src, "links"), { recursive: true });
    mkdirSync(join(src, "x"));

    // "N linkpath=<L bytes>\n": 11 + L bytes plus the digits; 100 is the ustar limit.
    const targets = [...range(98, 103), ...range(984, 993)];
    for (const l of targets) symlinkSync("t".repeat(l), join(src, "links", `t-${l}`));
    // "N SCHILY.xattr.user.k=<V bytes>\n": 22 + V bytes plus the digits.
    const values = [0, 1, ...range(73, 79), ...range(973, 980)];
    for (const v of values) {
      writeFileSync(join(src, "x", `v-${String(v).padStart(4, "0")}`), `${v}\n`);
      setXattr(join(src, "x", `v-${String(v).padStart(4, "0")}`), "user.k", "v".repeat(v));
    }
    // "N path=<P bytes>\n": 7 + P bytes plus the digits.
    const paths = range(986, 995).map((p, i) => pathOfLength(p, String.fromCharCode(0x61 + i)));
    for (const p of paths) {
      mkdirSync(join(src, p, ".."), { recursive: true });
      writeFileSync(join(src, p), p.slice(-20));
    }

    const archive = join(work, "pax.tar");
    const r = await packTree(src, archive);
    expect(r.tarHash).toBe(b3sum(archive));

    // GNU tar: no complaints, every name and target intact.
    const list = run([requireTool("tar"), "--quoting-style=literal", "-tvf", archive], { LC_ALL: "C.UTF-8" });
    expect(list.stderr).toBe("");
    const text = list.stdout.toString();
    for (const l of targets) expect(text.includes(`links/t-${l} -> ${"t".repeat(l)}\n`)).toBe(true);
    for (const p of paths) expect(text.includes(` ${p}\n`)).toBe(true);

    const dst = join(work, "dst");
    mkdirSync(dst);
    const x = run([requireTool("tar"), "-xpf", archive, "--xattrs", "--xattrs-include=*", "-C", dst]);
    expect(x.stderr).toBe("");
    expect(listPaths(dst).sort()).toEqual(listPaths(src).sort());
    for (const l of targets) expect(readlinkSync(join(dst, "links", `t-${l}`))).toBe("t".repeat(l));
    for (const v of values) {
      const got = getXattr(join(dst, "x", `v-${String(v).padStart(4, "0")}`), "user.k");
      expect({ v, len: got?.length }).toEqual({ v, len: v });
    }

    // modern-tar (strict): same names, targets and xattr values.
    const seen = new Map<string, { linkname: string; xattr: string | undefined }>();
    for await (const e of Bun.file(archive).stream().pipeThrough(createTarDecoder({ strict: true }))) {
      seen.set(e.header.name, { linkname: e.header.linkname ?? "", xattr: e.header.pax?.["SCHILY.xattr.user.k"] });
      await e.body.cancel();
    }
    for (const l of targets) expect(seen.get(`links/t-${l}`)?.linkname).toBe("t".repeat(l));
    for (const v of values) expect({ v, len: seen.get(`x/v-${String(v).padStart(4, "0")}`)?.xattr?.length }).toEqual({ v, len: v });
    for (const p of paths) expect(seen.has(p)).toBe(true);
  });
});
