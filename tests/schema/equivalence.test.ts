import { describe, expect, test } from "bun:test";
import { lockFromResolved } from "../../src/schema/lock.ts";
import { parseManifest } from "../../src/schema/manifest.ts";
import { canonicalJson } from "../../src/schema/normalize.ts";
import type { NormalizedManifest } from "../../src/schema/types.ts";
import { seededRandom, shuffle } from "./helpers.ts";

const PACKAGES = ["git", "g++", "libstdc++6", "python3.11", "ca-certificates", "curl", "vim", "build-essential", "é-tool", "zsh"];
const APPS = ["firefox", "code", "org.gnome.Nautilus"];
const MOUNTS: Array<[string, string]> = [
  ["workspace", "./:/workspace"],
  ["cache", "~/.cache:/root/.cache"],
  ["data", "/srv/data:/data"],
];

/** Resolves every package to a fixed version, like the mock backend; order follows the input. */
function envId(manifest: NormalizedManifest): string {
  return lockFromResolved(manifest, {
    base_image_digest: "a".repeat(64),
    resolved_packages: shuffle(manifest.system_packages, seededRandom(1)).map((name) => ({ name, version: `${name.length}.0-1` })),
  }).env_id;
}

function render(packages: readonly string[], apps: readonly string[], mounts: ReadonlyArray<[string, string]>, pad: () => string, backend: string): string {
  const q = (value: string) => JSON.stringify(`${pad()}${value}${pad()}`);
  return [
    "manifest_version = 1",
    "[base]",
    `image = ${q("debian/bookworm")}`,
    "[system]",
    `packages = [${packages.map(q).join(", ")}]`,
    "[gui]",
    `apps = [${apps.map(q).join(",\n  ")}]`,
    "[mounts]",
    ...mounts.map(([label, spec]) => {
      const colon = spec.indexOf(":");
      return `${JSON.stringify(`${pad()}${label}${pad()}`)} = ${JSON.stringify(`${pad()}${spec.slice(0, colon)}${pad()}:${pad()}${spec.slice(colon + 1)}${pad()}`)}`;
    }),
    "[runtime]",
    `backend = ${q(backend)}`,
    "",
  ].join("\n");
}

describe("equivalent manifests give the same canonical JSON and env_id", () => {
  const reference = parseManifest(render(PACKAGES, APPS, MOUNTS, () => "", "namespace")).normalized;
  const expectedJson = canonicalJson(reference);
  const expectedId = envId(reference);

  test("the baseline is sorted and deduplicated", () => {
    expect(reference.system_packages).toEqual([...PACKAGES].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(reference.mounts.map((m) => m.label)).toEqual(["cache", "data", "workspace"]);
  });

  test("200 variants: shuffled, duplicated, padded with Unicode whitespace, backend in any case", () => {
    const random = seededRandom(42);
    const spaces = ["", " ", "\t", "  ", "\u00a0", "\u3000", "\u2003"];
    const pad = () => spaces[Math.floor(random() * spaces.length)] ?? "";
    for (let i = 0; i < 200; i++) {
      const packages = shuffle([...PACKAGES, ...PACKAGES.filter(() => random() < 0.3)], random);
      const apps = shuffle([...APPS, ...APPS.filter(() => random() < 0.5)], random);
      const mounts = shuffle(MOUNTS, random);
      const backend = ["namespace", "NAMESPACE", "NameSpace"][i % 3] ?? "namespace";
      const variant = parseManifest(render(packages, apps, mounts, pad, backend)).normalized;
      expect(canonicalJson(variant)).toBe(expectedJson);
      expect(envId(variant)).toBe(expectedId);
    }
  });

  test("...and a real difference changes both", () => {
    const other = parseManifest(render([...PACKAGES, "htop"], APPS, MOUNTS, () => "", "namespace")).normalized;
    expect(canonicalJson(other)).not.toBe(expectedJson);
    expect(envId(other)).not.toBe(expectedId);
  });
});
