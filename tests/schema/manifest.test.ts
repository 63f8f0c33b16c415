import { describe, expect, test } from "bun:test";
import { ManifestError } from "../../src/errors.ts";
import { parseManifest } from "../../src/schema/manifest.ts";
import { canonicalJson } from "../../src/schema/normalize.ts";
import canonicalFixture from "./fixtures/canonical-json.json";

describe("parsing and defaults (the reference's manifest.rs tests)", () => {
  test("a full manifest", () => {
    const { document, normalized } = parseManifest(`
manifest_version = 1

[base]
image = "rolling"

[system]
packages = ["clang", "cmake", "git"]

[gui]
apps = ["ide", "debugger"]

[hardware]
gpu = true
audio = true

[mounts]
workspace = "./:/workspace"

[runtime]
backend = "oci"
network_isolation = true

[runtime.resource_limits]
cpu_shares = 1024
memory_limit_mb = 4096
`);
    expect(document.manifest_version).toBe(1n);
    expect(normalized).toEqual({
      manifest_version: 1,
      base_image: "rolling",
      system_packages: ["clang", "cmake", "git"],
      gui_apps: ["debugger", "ide"],
      hardware_gpu: true,
      hardware_audio: true,
      mounts: [{ label: "workspace", host_path: "./", container_path: "/workspace" }],
      runtime_backend: "oci",
      network_isolation: true,
      cpu_shares: 1024,
      memory_limit_mb: 4096,
    });
  });

  test("a minimal manifest takes the reference's defaults", () => {
    expect(parseManifest('manifest_version = 1\n[base]\nimage = "rolling"\n').normalized).toEqual({
      manifest_version: 1,
      base_image: "rolling",
      system_packages: [],
      gui_apps: [],
      hardware_gpu: false,
      hardware_audio: false,
      mounts: [],
      runtime_backend: "namespace",
      network_isolation: false,
      cpu_shares: null,
      memory_limit_mb: null,
    });
  });

  test("empty sections are fine, as with serde(default)", () => {
    const text = 'manifest_version = 1\n[base]\nimage = "x"\n[system]\n[gui]\n[hardware]\n[mounts]\n[runtime]\n[runtime.resource_limits]\n';
    expect(parseManifest(text).normalized.runtime_backend).toBe("namespace");
  });

  test("dotted keys and inline tables are the same TOML", () => {
    const a = parseManifest('manifest_version = 1\nbase.image = "x"\nruntime = { backend = "MOCK", resource_limits = { cpu_shares = 5 } }\n');
    const b = parseManifest('manifest_version = 1\n[base]\nimage = "x"\n[runtime]\nbackend = "mock"\n[runtime.resource_limits]\ncpu_shares = 5\n');
    expect(canonicalJson(a.normalized)).toBe(canonicalJson(b.normalized));
  });

  test("a UTF-8 byte order mark is ignored", () => {
    expect(parseManifest('\ufeffmanifest_version = 1\n[base]\nimage = "x"\n').normalized.base_image).toBe("x");
  });

  test("errors name the file given", () => {
    expect(() => parseManifest("manifest_version = 2\n[base]\nimage = 'x'\n", "/tmp/some/karapace.toml")).toThrow(
      new ManifestError("/tmp/some/karapace.toml:1:1: manifest_version: unsupported manifest_version 2, expected 1"),
    );
  });

  test("several problems: the first is reported, the rest counted", () => {
    expect(() => parseManifest('manifest_version = 1\n[base]\nimage = "x"\n[system]\npackages = ["a b", "c@d", ""]\n')).toThrow(
      "(and 2 more problems)",
    );
  });
});

describe("canonical JSON is byte-identical to the reference's", () => {
  // Expected values printed by the reference's NormalizedManifest::canonical_json(), recorded once from the reference.
  for (const [i, c] of canonicalFixture.cases.entries()) {
    test(`case ${i}: ${c.toml.split("\n").slice(2).join(" ").slice(0, 70)}`, () => {
      expect(canonicalJson(parseManifest(c.toml).normalized)).toBe(c.canonical_json);
    });
  }

  test("serde_json escaping: quotes and backslashes escaped; '/', DEL-free non-ASCII written as is", () => {
    const { normalized } = parseManifest('manifest_version = 1\n[base]\nimage = "a/b"\n[mounts]\nq = \'/x"y\\z:/ü/😀\'\n');
    expect(canonicalJson(normalized)).toContain('"base_image":"a/b"');
    expect(canonicalJson(normalized)).toContain('"host_path":"/x\\"y\\\\z","container_path":"/ü/😀"');
  });
});
