import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

// Vendored fixtures must stay byte-identical to the upstream file SOURCE.md names.
test("tests/fixtures/blake3/test_vectors.json is the upstream blob named in SOURCE.md", () => {
  const bytes = readFileSync(new URL("../fixtures/blake3/test_vectors.json", import.meta.url));
  const blob = createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
  const source = readFileSync(new URL("../fixtures/blake3/SOURCE.md", import.meta.url), "utf8");
  expect(source).toContain(`git blob | \`${blob}\``);
});
