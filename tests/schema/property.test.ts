import { describe, expect, test } from "bun:test";
import { LockError, ManifestError } from "../../src/errors.ts";
import { parseLock, renderLock } from "../../src/schema/lock-io.ts";
import { lockFromResolved, verifyIntegrity } from "../../src/schema/lock.ts";
import { parseManifest } from "../../src/schema/manifest.ts";
import { canonicalJson } from "../../src/schema/normalize.ts";
import { TEMPLATES } from "../../src/schema/templates.ts";
import { seededRandom } from "./helpers.ts";

const FULL = `manifest_version = 1

[base]
image = "debian/bookworm"

[system]
packages = ["git", "g++", "libstdc++6", "python3.11", "ca-certificates"]

[gui]
apps = ["code", "firefox"]

[hardware]
gpu = true
audio = false

[mounts]
workspace = "./:/workspace"
"my cache" = "~/.cache:/root/.cache"

[runtime]
backend = "oci"
network_isolation = true

[runtime.resource_limits]
cpu_shares = 1024
memory_limit_mb = 4096
`;

const SEEDS = [FULL, ...TEMPLATES.map((t) => t.manifest)];
/** Characters that matter to TOML, to our rules, or to UTF-8 handling. */
const ALPHABET = [..."[]{}=\"'.,:@#\\\n\t -_0123456789aZ+~/é😀", "\u0000", "\u0007", "\u200b", "\u3000", "\ufeff", '"""', "'''", "true", "1e999", "-1", "nan", "1979-05-27T00:00:00Z"];
const ITERATIONS = 3000;

type Mutation = (text: string, random: () => number) => string;

const at = (text: string, random: () => number) => Math.floor(random() * (text.length + 1));
const MUTATIONS: Mutation[] = [
  (t, r) => {
    const i = at(t, r);
    return t.slice(0, i) + t.slice(i + 1 + Math.floor(r() * 8));
  },
  (t, r) => {
    const i = at(t, r);
    return t.slice(0, i) + (ALPHABET[Math.floor(r() * ALPHABET.length)] ?? "") + t.slice(i);
  },
  (t, r) => {
    const i = at(t, r);
    return t.slice(0, i) + (ALPHABET[Math.floor(r() * ALPHABET.length)] ?? "") + t.slice(i + 1);
  },
  (t, r) => {
    const lines = t.split("\n");
    const i = Math.floor(r() * lines.length);
    lines.splice(i, 0, lines[Math.floor(r() * lines.length)] ?? "");
    return lines.join("\n");
  },
  (t, r) => {
    const lines = t.split("\n");
    const i = Math.floor(r() * lines.length);
    const j = Math.floor(r() * lines.length);
    [lines[i], lines[j]] = [lines[j] ?? "", lines[i] ?? ""];
    return lines.join("\n");
  },
  (t, r) => t.slice(0, at(t, r)),
  (t, r) => {
    // Replace a quoted value with a value of another type.
    const values = ["42", "true", "[]", "{}", '""', '"  "', "1.5", "-7", "[1, [2]]", '{ x = "y" }', "9999999999999999999"];
    return t.replace(/"[^"\n]*"/, () => values[Math.floor(r() * values.length)] ?? "");
  },
];

function mutate(text: string, random: () => number): string {
  let out = text;
  const rounds = 1 + Math.floor(random() * 4);
  for (let k = 0; k < rounds; k++) out = (MUTATIONS[Math.floor(random() * MUTATIONS.length)] as Mutation)(out, random);
  return out;
}

describe("property: random mutations never crash or hang the parser", () => {
  test(`${ITERATIONS} mutated manifests: parsed, or a one-line ManifestError`, () => {
    const random = seededRandom(20240601);
    let accepted = 0;
    let slowest = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const text = mutate(SEEDS[i % SEEDS.length] as string, random);
      const start = performance.now();
      try {
        const { normalized } = parseManifest(text, "mutant.toml");
        // Whatever parses must also normalize, serialize and hash.
        canonicalJson(normalized);
        const lock = lockFromResolved(normalized, {
          base_image_digest: "a".repeat(64),
          resolved_packages: normalized.system_packages.map((name) => ({ name, version: "1.0" })),
        });
        verifyIntegrity(parseLock(renderLock(lock), "mutant.lock"));
        accepted++;
      } catch (error) {
        if (!(error instanceof ManifestError)) throw new Error(`iteration ${i}: ${String(error)}\n--- input ---\n${text}`);
        expect(error.message).not.toContain("\n");
        expect(error.message).toStartWith("mutant.toml");
      }
      slowest = Math.max(slowest, performance.now() - start);
    }
    // Both branches must be exercised, or the mutations are too weak or too strong.
    expect(accepted).toBeGreaterThan(ITERATIONS / 20);
    expect(accepted).toBeLessThan(ITERATIONS);
    expect(slowest).toBeLessThan(250);
  });

  test(`${ITERATIONS} mutated locks: parsed, or a one-line LockError`, () => {
    const random = seededRandom(7);
    const { normalized } = parseManifest(FULL);
    const lock = renderLock(
      lockFromResolved(normalized, {
        base_image_digest: "0f".repeat(32),
        resolved_packages: normalized.system_packages.map((name) => ({ name, version: "1:2.0-1" })),
      }),
    );
    let intact = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const text = mutate(lock, random);
      try {
        verifyIntegrity(parseLock(text, "mutant.lock"));
        intact++;
      } catch (error) {
        if (!(error instanceof LockError)) throw new Error(`iteration ${i}: ${String(error)}\n--- input ---\n${text}`);
        expect(error.message).not.toContain("\n");
      }
    }
    // A mutation that still verifies must have left the hashed content alone (comments, layout).
    expect(intact).toBeLessThan(ITERATIONS / 2);
  });
});
