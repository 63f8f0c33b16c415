import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exitCodeFor } from "../../src/cli/exit-codes.ts";
import { StoreError } from "../../src/errors.ts";
import { defaultStoreRoot, NoStoreError, openStore } from "../../src/store/index.ts";
import { newStore, removeRoot, tempRoot } from "./helpers.ts";

const roots: string[] = [];
const fresh = (): string => {
  const r = tempRoot("layout");
  roots.push(r);
  return r;
};
afterAll(() => {
  for (const r of roots) removeRoot(r);
});

function openError(root: string): StoreError {
  try {
    openStore(root).close();
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error("openStore succeeded");
}

test("a new store has the reference's layout and version file, byte for byte", () => {
  const root = fresh();
  newStore(root).close();
  for (const dir of ["store/objects", "store/layers", "store/staging", "env", "images"]) expect(statSync(join(root, dir)).isDirectory()).toBe(true);
  expect(readFileSync(join(root, "store/version"), "utf8")).toBe('{\n  "format_version": 2\n}');
  expect(existsSync(join(root, "store/karapace.db"))).toBe(true);
  // Reopening without create works and does not rewrite anything.
  openStore(root).close();
});

describe("the version is checked on every open", () => {
  const cases: Array<[string, (root: string) => void, RegExp]> = [
    ["an older version", (r) => writeFileSync(join(r, "store/version"), '{"format_version": 1}'), /store format version 1 is not supported/],
    ["a newer version", (r) => writeFileSync(join(r, "store/version"), '{"format_version": 3}'), /store format version 3 is not supported/],
    ["a file that is not JSON", (r) => writeFileSync(join(r, "store/version"), "garbage"), /not valid JSON/],
    ["a file without format_version", (r) => writeFileSync(join(r, "store/version"), '{"version": 2}'), /no valid format_version/],
    ["no version file", (r) => rmSync(join(r, "store/version")), /has no version file/],
    [
      "an unreadable version file",
      (r) => {
        rmSync(join(r, "store/version"));
        mkdirSync(join(r, "store/version"));
      },
      /cannot read the store version file/,
    ],
  ];
  for (const [what, damage, message] of cases) {
    test(`${what}: a store error (exit 3) whose hint names karapace migrate`, () => {
      const root = fresh();
      newStore(root).close();
      damage(root);
      const error = openError(root);
      expect(error.message).toMatch(message);
      expect(error.hint).toContain("karapace migrate");
      expect(exitCodeFor(error)).toBe(3);
    });
  }
});

test("the reference's JSON metadata, not imported yet, blocks open with the migrate hint", () => {
  const root = fresh();
  newStore(root).close();
  mkdirSync(join(root, "store/metadata"));
  writeFileSync(join(root, "store/metadata", "a".repeat(64)), "{}");
  const error = openError(root);
  expect(error.message).toContain("not imported yet");
  expect(error.hint).toBe("run 'karapace migrate' to import it");
});

test("no store: NoStoreError unless asked to create one", () => {
  const root = join(fresh(), "nested", "store-root");
  expect(() => openStore(root)).toThrow(NoStoreError);
  expect(existsSync(root)).toBe(false);
  openStore(root, { create: true }).close();
  expect(existsSync(join(root, "store/version"))).toBe(true);
});

test("default root honours XDG_DATA_HOME (absolute only), else ~/.local/share", () => {
  expect(defaultStoreRoot({ XDG_DATA_HOME: "/x/data", HOME: "/home/u" })).toBe("/x/data/karapace");
  expect(defaultStoreRoot({ XDG_DATA_HOME: "relative", HOME: "/home/u" })).toBe("/home/u/.local/share/karapace");
  expect(defaultStoreRoot({ HOME: "/home/u" })).toBe("/home/u/.local/share/karapace");
});

test("eight processes creating and writing one new store at once all succeed", async () => {
  const root = join(fresh(), "shared");
  const { child } = await import("./helpers.ts");
  const procs = Array.from({ length: 8 }, (_, i) => child("open-store.ts", [root, String(i)]));
  const results = await Promise.all(procs.map(async (p) => ({ code: await p.exited, out: await new Response(p.stdout).text(), err: await new Response(p.stderr).text() })));
  expect(results.map((r) => r.code)).toEqual(Array(8).fill(0));
  expect(results.map((r) => r.err)).toEqual(Array(8).fill(""));
  const store = openStore(root);
  expect(store.metadata.list().map((m) => m.name).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `env-${i}`).sort());
  const migrations = store.db.query("SELECT COUNT(*) AS n FROM schema_migrations").get() as { n: number };
  expect(migrations.n).toBe(1);
  expect(readFileSync(join(root, "store/version"), "utf8")).toBe('{\n  "format_version": 2\n}');
  store.close();
});
