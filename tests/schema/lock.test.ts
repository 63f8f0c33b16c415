import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LockError } from "../../src/errors.ts";
import { loadManifest, parseManifest } from "../../src/schema/manifest.ts";
import { parseLock, readLockFile, renderLock, writeLockFile } from "../../src/schema/lock-io.ts";
import { lockFromResolved, verifyIntegrity, verifyManifestIntent } from "../../src/schema/lock.ts";
import type { LockFile, NormalizedManifest } from "../../src/schema/types.ts";

const FIXTURES = join(import.meta.dir, "fixtures");
const REFERENCE_LOCKS = join(FIXTURES, "reference-locks");
const scratch = mkdtempSync(join(tmpdir(), "karapace-lock-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("locks written by the reference implementation", () => {
  // Produced by the reference's own LockFile::from_resolved + toml::to_string_pretty, recorded once from the reference.
  for (const name of readdirSync(REFERENCE_LOCKS).sort()) {
    const dir = join(REFERENCE_LOCKS, name);
    const text = readFileSync(join(dir, "karapace.lock"), "utf8");

    test(`${name}: parses, verifies, and matches its manifest`, () => {
      const lock = readLockFile(join(dir, "karapace.lock"));
      expect(verifyIntegrity(lock).env_id).toBe(lock.env_id);
      verifyManifestIntent(lock, loadManifest(join(dir, "karapace.toml")).normalized);
    });

    test(`${name}: we write the same bytes`, () => {
      expect(renderLock(parseLock(text, "karapace.lock"))).toBe(text);
    });

    test(`${name}: our lock from the same manifest and resolution is byte-identical`, () => {
      const reference = parseLock(text, "karapace.lock");
      const { normalized } = loadManifest(join(dir, "karapace.toml"));
      // Resolve in reverse order: the lock must sort packages itself.
      const ours = lockFromResolved(normalized, {
        base_image_digest: reference.base_image_digest,
        resolved_packages: [...reference.resolved_packages].reverse(),
      });
      expect(renderLock(ours)).toBe(text);
    });
  }

  test("a hand-written lock in the reference's layout verifies", () => {
    // Written by hand following lock.rs's serializer: values in struct order,
    // None omitted, empty arrays inline, [[resolved_packages]] then [[mounts]] after a blank line.
    const text = `lock_version = 2
env_id = "44f9547036b4f24f8fe32844f2672804020c6260e29b7f72e17fd29d441ebc27"
short_id = "44f9547036b4"
base_image = "rolling"
base_image_digest = "sha256:abc123"
resolved_apps = ["vlc"]
runtime_backend = "namespace"
hardware_gpu = true
hardware_audio = true
network_isolation = true
cpu_shares = 2048
memory_limit_mb = 8192

[[resolved_packages]]
name = "curl"
version = "7.88.1"

[[mounts]]
label = "data"
host_path = "/mnt/data"
container_path = "/data"
`;
    const lock = parseLock(text, "hand.lock");
    expect(verifyIntegrity(lock).short_id).toBe("44f9547036b4");
    expect(renderLock(lock)).toBe(text);
  });

  test("a reference lock with ':' in a container path is refused, naming the field", () => {
    const dir = join(FIXTURES, "reference-locks-rejected", "container-path-colon");
    const error = thrown(() => readLockFile(join(dir, "karapace.lock")));
    expect(error).toBeInstanceOf(LockError);
    expect(error.message).toContain("mounts[0].container_path");
    expect(error.message).toContain("contains ':'");
  });
});

describe("lock file shape", () => {
  const manifest = parseManifest(
    'manifest_version = 1\n[base]\nimage = "rolling"\n[system]\npackages = ["git", "clang"]\n',
  ).normalized;
  const lock = lockFromResolved(manifest, {
    base_image_digest: "a".repeat(64),
    resolved_packages: [
      { name: "git", version: "2.44.0-1" },
      { name: "clang", version: "17.0.6-1" },
    ],
  });

  test("fields in the reference's order, None omitted, arrays of tables last", () => {
    const keys = renderLock(lock)
      .split("\n")
      .filter((line) => line.includes(" = ") || line.startsWith("[["))
      .map((line) => (line.startsWith("[[") ? line : line.split(" = ")[0]));
    expect(keys).toEqual([
      "lock_version",
      "env_id",
      "short_id",
      "base_image",
      "base_image_digest",
      "resolved_apps",
      "runtime_backend",
      "hardware_gpu",
      "hardware_audio",
      "network_isolation",
      "mounts",
      "[[resolved_packages]]",
      "name",
      "version",
      "[[resolved_packages]]",
      "name",
      "version",
    ]);
  });

  test("atomic write: the file appears complete and no temporary file is left", () => {
    const path = join(scratch, "karapace.lock");
    writeFileSync(path, "old contents");
    writeLockFile(path, lock);
    expect(readFileSync(path, "utf8")).toBe(renderLock(lock));
    expect(readdirSync(scratch)).toEqual(["karapace.lock"]);
    expect(readLockFile(path)).toEqual(lock);
  });

  const edit = (from: string, to: string) => renderLock(lock).replace(from, to);
  const cases: Array<[string, string, string]> = [
    ["unknown key", edit("lock_version = 2", "lock_version = 2\nextra = 1"), "extra: unknown key"],
    ["unknown key in a package", edit('version = "2.44.0-1"', 'version = "2.44.0-1"\narch = "amd64"'), "resolved_packages[1].arch: unknown key; allowed in [resolved_packages[1]]: name, version"],
    ["lock_version 1", edit("lock_version = 2", "lock_version = 1"), "unsupported lock_version 1, expected 2"],
    ["missing env_id", edit(/env_id = .*\n/.exec(renderLock(lock))?.[0] ?? "", ""), "env_id: required key is missing"],
    ["wrong type", edit("hardware_gpu = false", 'hardware_gpu = "no"'), 'hardware_gpu: expected true or false, found string "no"'],
    ["'@' in a version", edit('"2.44.0-1"', '"2.44@0"'), "resolved_packages[1].version"],
    ["space in a name", edit('"clang"', '"cl ang"'), "contains whitespace"],
    ["bad backend", edit('"namespace"', '"docker"'), 'runtime_backend: expected one of namespace, oci, mock, found "docker"'],
    ["negative cpu", edit("mounts = []", "mounts = []\ncpu_shares = -1"), "cpu_shares: expected a non-negative integer"],
    ["syntax error", edit("lock_version = 2", "lock_version = "), "TOML syntax error"],
  ];
  for (const [name, text, expected] of cases) {
    test(`rejected: ${name}`, () => {
      const error = thrown(() => parseLock(text, "karapace.lock"));
      expect(error).toBeInstanceOf(LockError);
      expect(error.message).toContain(expected);
      expect(error.message).not.toContain("\n");
    });
  }
});

describe("verifyIntegrity", () => {
  const manifest = parseManifest('manifest_version = 1\n[base]\nimage = "rolling"\n[system]\npackages = ["git"]\n').normalized;
  const lock = lockFromResolved(manifest, { base_image_digest: "a".repeat(64), resolved_packages: [{ name: "git", version: "2.44.0-1" }] });

  test("a tampered env_id is reported with both ids and what to run", () => {
    const error = thrown(() => verifyIntegrity({ ...lock, env_id: "tampered" }, "karapace.lock")) as LockError;
    expect(error).toBeInstanceOf(LockError);
    expect(error.message).toContain("env_id mismatch");
    expect(error.message).toContain("'tampered'");
    expect(error.message).toContain(lock.env_id);
    expect(error.hint).toContain("karapace build");
  });

  test("a changed version no longer matches the recorded env_id", () => {
    const edited = parseLock(renderLock(lock).replace("2.44.0-1", "2.45.0-1"), "karapace.lock");
    expect(() => verifyIntegrity(edited)).toThrow("env_id mismatch");
  });

  test("short_id must be env_id's first 12 characters", () => {
    expect(() => verifyIntegrity({ ...lock, short_id: "000000000000" })).toThrow("short_id");
  });
});

describe("verifyManifestIntent", () => {
  const text = `manifest_version = 1
[base]
image = "rolling"
[system]
packages = ["git", "clang"]
[gui]
apps = ["code"]
[hardware]
gpu = true
[mounts]
work = "./:/workspace"
[runtime]
backend = "namespace"
[runtime.resource_limits]
cpu_shares = 100
`;
  const manifest = parseManifest(text).normalized;
  const lock = lockFromResolved(manifest, {
    base_image_digest: "a".repeat(64),
    resolved_packages: manifest.system_packages.map((name) => ({ name, version: "1.0" })),
  });
  const drifted = (change: Partial<NormalizedManifest>) => thrown(() => verifyManifestIntent(lock, { ...manifest, ...change }));

  test("the manifest the lock was made from passes", () => {
    verifyManifestIntent(lock, manifest);
  });

  const cases: Array<[string, Partial<NormalizedManifest>, string]> = [
    ["base image (reference check)", { base_image: "ubuntu/24.04" }, `base image changed: lock has "rolling", manifest has "ubuntu/24.04"`],
    ["backend (reference check)", { runtime_backend: "oci" }, `runtime backend changed: lock has "namespace", manifest has "oci"`],
    ["added package (reference check)", { system_packages: ["clang", "curl", "git"] }, `package "curl" is in the manifest but not in the lock file`],
    ["hardware (reference check)", { hardware_audio: true }, "hardware policy changed: lock has gpu=true audio=false, manifest has gpu=true audio=true"],
    ["removed package", { system_packages: ["git"] }, `package "clang" is in the lock file but no longer in the manifest`],
    ["apps", { gui_apps: [] }, `gui apps changed: lock has ["code"], manifest has []`],
    ["mounts", { mounts: [{ label: "work", host_path: "./", container_path: "/w" }] }, "mounts changed"],
    ["network isolation", { network_isolation: true }, "network isolation changed: lock has false, manifest has true"],
    ["cpu_shares", { cpu_shares: null }, "cpu_shares changed: lock has 100, manifest has unset"],
    ["memory_limit_mb", { memory_limit_mb: 1 }, "memory_limit_mb changed: lock has unset, manifest has 1"],
  ];
  for (const [name, change, expected] of cases) {
    test(`drift: ${name}`, () => {
      const error = drifted(change) as LockError;
      expect(error).toBeInstanceOf(LockError);
      expect(error.message).toContain("manifest drift: ");
      expect(error.message).toContain(expected);
      expect(error.hint).toContain("karapace build");
      expect(error.hint).toContain("karapace rebuild");
    });
  }

  test("a lock whose lists are in another order still matches (the reference compares names, not order)", () => {
    const shuffled: LockFile = { ...lock, resolved_packages: [...lock.resolved_packages].reverse() };
    verifyManifestIntent(shuffled, manifest);
  });
});
