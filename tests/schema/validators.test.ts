import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { generateValidators } from "../../src/schema/generate-validators.ts";
import { validateLockDocument, validateManifestDocument } from "../../src/schema/generated/validators.ts";
import { REPO, run } from "../cli/helpers.ts";

const GENERATED = join(REPO, "src", "schema", "generated", "validators.ts");
const toml = (text: string) => parse(text, { integersAsBigInt: true });

describe("typia validators generated ahead of time", () => {
  test("the committed output is what `bun run generate:validators` produces", () => {
    const result = run([process.execPath, "run", "generate:validators", "--check"]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  });

  test("generation is deterministic", async () => {
    const [a, b] = [await generateValidators(), await generateValidators()];
    expect([...a.entries()]).toEqual([...b.entries()]);
    expect(a.get("validators.ts")).toBe(readFileSync(GENERATED, "utf8"));
  });

  test("the generated module needs no typia transform at run time: only typia's small internal helpers", () => {
    const source = readFileSync(GENERATED, "utf8");
    const imports = [...source.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    for (const spec of imports) expect(spec).toMatch(/^(typia\/lib\/internal\/_\w+\.js|\.\.\/types\.ts)$/);
    expect(source).not.toContain("typia.createValidate");
  });

  test("unknown keys are rejected at every level of the manifest, and [mounts] stays open", () => {
    const base = 'manifest_version = 1\n[base]\nimage = "x"\n';
    expect(validateManifestDocument(toml(`${base}[mounts]\nanything = "a:/b"\n`)).success).toBe(true);
    for (const extra of ["x = 1\n" + base, `${base}x = 1\n`, `${base}[system]\nx = 1\n`, `${base}[gui]\nx = 1\n`, `${base}[hardware]\nx = 1\n`, `${base}[runtime]\nx = 1\n`, `${base}[runtime.resource_limits]\nx = 1\n`]) {
      const result = validateManifestDocument(toml(extra));
      expect(result.success).toBe(false);
      if (!result.success) expect(result.errors[0]?.expected).toBe("undefined");
    }
  });

  test("unknown keys are rejected in the lock and in its tables", () => {
    const lock = `lock_version = 2\nenv_id = "a"\nshort_id = "a"\nbase_image = "x"\nbase_image_digest = "d"\nresolved_apps = []\nruntime_backend = "mock"\nhardware_gpu = false\nhardware_audio = false\nnetwork_isolation = false\n`;
    expect(validateLockDocument(toml(`${lock}resolved_packages = []\n`)).success).toBe(true);
    expect(validateLockDocument(toml(`${lock}resolved_packages = []\nx = 1\n`)).success).toBe(false);
    expect(validateLockDocument(toml(`${lock}\n[[resolved_packages]]\nname = "a"\nversion = "1"\nx = 1\n`)).success).toBe(false);
    expect(validateLockDocument(toml(`${lock}resolved_packages = []\n\n[[mounts]]\nlabel = "a"\nhost_path = "/a"\ncontainer_path = "/b"\nx = 1\n`)).success).toBe(false);
  });
});
