import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseManifest } from "../../src/schema/manifest.ts";
import { canonicalJson } from "../../src/schema/normalize.ts";
import { getTemplate, TEMPLATE_NAMES, TEMPLATES } from "../../src/schema/templates.ts";
import referenceTemplates from "./fixtures/reference-templates.json";

const EXAMPLES = join(import.meta.dir, "..", "..", "examples");

describe("templates", () => {
  test("the reference's five plus debian-dev", () => {
    expect([...TEMPLATE_NAMES]).toEqual(["minimal", "dev", "gui-dev", "rust-dev", "ubuntu-dev", "debian-dev"]);
  });

  test("examples/ holds exactly the templates, byte for byte", () => {
    expect(readdirSync(EXAMPLES).sort()).toEqual(TEMPLATE_NAMES.map((name) => `${name}.toml`).sort());
    for (const template of TEMPLATES) {
      expect({ name: template.name, text: readFileSync(join(EXAMPLES, `${template.name}.toml`), "utf8") }).toEqual({
        name: template.name,
        text: template.manifest,
      });
    }
  });

  for (const template of TEMPLATES) {
    test(`${template.name} is a valid manifest with a description`, () => {
      expect(template.description.length).toBeGreaterThan(0);
      expect(parseManifest(template.manifest, `${template.name}.toml`).normalized.manifest_version).toBe(1);
    });
  }

  for (const [name, expected] of Object.entries(referenceTemplates.templates)) {
    test(`${name} normalizes to the reference's examples/${name}.toml (canonical JSON by the reference)`, () => {
      expect(canonicalJson(parseManifest(getTemplate(name)?.manifest ?? "").normalized)).toBe(expected);
    });
  }

  test("debian-dev is Debian bookworm with real Debian package names", () => {
    const { normalized } = parseManifest(getTemplate("debian-dev")?.manifest ?? "");
    expect(normalized.base_image).toBe("debian/bookworm");
    expect(normalized.system_packages).toContain("build-essential");
    expect(normalized.mounts).toEqual([{ label: "workspace", host_path: "./", container_path: "/workspace" }]);
  });
});
