import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManifestError } from "../../src/errors.ts";
import { loadManifest } from "../../src/schema/manifest.ts";
import { runCli } from "../cli/helpers.ts";
import { seededRandom } from "./helpers.ts";

const CORPUS = join(import.meta.dir, "fixtures", "bad-manifests");
const scratch = mkdtempSync(join(tmpdir(), "karapace-bad-manifests-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Case {
  name: string;
  path: string;
  expect: string;
}

/** Committed files; the first line of each says `# expect: <part of the message>`. */
const corpus: Case[] = readdirSync(CORPUS)
  .filter((file) => file.endsWith(".toml"))
  .sort()
  .map((file) => {
    const path = join(CORPUS, file);
    const first = readFileSync(path, "utf8").split("\n")[0] ?? "";
    return { name: file, path, expect: first.replace(/^# expect: /, "") };
  });

function generated(name: string, contents: string | Uint8Array, expected: string): Case {
  const path = join(scratch, name);
  writeFileSync(path, contents);
  return { name, path, expect: expected };
}

const random = seededRandom(0xbad);
const garbage = new Uint8Array(4096).map(() => Math.floor(random() * 256));
garbage[0] = 0xff; // never valid UTF-8, whatever the rest is

const generatedCases: Case[] = [
  generated("binary-garbage.toml", garbage, ":1:1: manifest is not UTF-8 text (byte 0xff)"),
  generated("fifty-megabytes.toml", new Uint8Array(50 * 1024 * 1024).fill(0x61), "manifest is larger than 1.0 MiB"),
  generated("deep-inline-arrays.toml", `a = ${"[".repeat(500_000)}`, "TOML syntax error"),
  generated("deep-inline-tables.toml", `a = ${"{b = ".repeat(100_000)}1${"}".repeat(100_000)}`, "TOML syntax error"),
  generated("deep-table-header.toml", `manifest_version = 1\n[base]\nimage = "x"\n[${Array(300_000).fill("a").join(".")}]\n`, "a: unknown key; allowed at the top level"),
  generated("empty.toml", "", "manifest_version: required key is missing"),
  generated("nul-bytes.toml", new Uint8Array(64), "TOML syntax error"),
  generated("utf16.toml", Buffer.from("\ufeffmanifest_version = 1\n", "utf16le"), "manifest is not UTF-8 text (byte 0xff)"),
  (() => {
    const dir = join(scratch, "a-directory.toml");
    mkdirSync(dir);
    return { name: "a-directory.toml", path: dir, expect: "cannot read manifest: is a directory, not a file" };
  })(),
  { name: "missing.toml", path: join(scratch, "missing.toml"), expect: "missing.toml: cannot read manifest: no such file" },
  { name: "/dev/zero", path: "/dev/zero", expect: "/dev/zero: manifest is larger than 1.0 MiB" },
];

const cases = [...corpus, ...generatedCases];

describe("bad manifests", () => {
  test("the corpus has at least 40 files, and every file says what to expect", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    for (const c of corpus) expect({ file: c.name, expect: c.expect.length > 0 }).toEqual({ file: c.name, expect: true });
  });

  for (const c of cases) {
    test(`${c.name}: ManifestError, one line naming the problem, quickly`, () => {
      const start = performance.now();
      let error: unknown;
      try {
        loadManifest(c.path);
      } catch (caught) {
        error = caught;
      }
      const elapsed = performance.now() - start;
      expect(error).toBeInstanceOf(ManifestError);
      const message = (error as ManifestError).message;
      expect(message).toContain(c.expect);
      expect(message).toStartWith(c.path);
      expect(message).not.toContain("\n");
      expect(elapsed).toBeLessThan(2000);
    });
  }
});

describe("bad manifests through the CLI (karapace debug validate)", () => {
  for (const c of cases) {
    test(`${c.name}: exit 2 and exactly one error line`, () => {
      const result = runCli(["debug", "validate", c.path], { cwd: scratch });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      const lines = result.stderr.split("\n").filter((line) => line !== "");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toStartWith("error: ");
      expect(lines[0]).toContain(c.expect);
      expect(result.stderr).not.toContain("    at ");
    });
  }

  test("with --trace the same error carries a stack trace (so the default really hides it)", () => {
    const result = runCli(["debug", "validate", join(CORPUS, corpus[0]?.name ?? ""), "--trace"], { cwd: scratch });
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n").length).toBeGreaterThan(2);
  });
});
