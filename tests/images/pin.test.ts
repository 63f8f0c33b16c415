/**
 * `karapace pin`: the base.image value is rewritten to the exact URL of the
 * newest build and nothing else in the file changes; --check's exit codes;
 * --write-lock's lock file (on the mock backend, and rootless on the
 * namespace backend with the image really downloaded); all through the real
 * CLI against the local image server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { blake3 as hashWasmBlake3 } from "hash-wasm";
import { parse as parseToml } from "smol-toml";
import { findImageValue, rewriteBaseImage } from "../../src/images/pin.ts";
import { digestTree } from "../../wasm/digest.ts";
import { BIN, REPO, requireTool } from "../cli/helpers.ts";
import { expectedMockEnvId } from "../engine/helpers.ts";
import { manifest as namespaceManifest, Scenario } from "../runtime/helpers.ts";
import { type ImageServer, NEW_BUILD, OLD_BUILD, type ServedImage, standardImages, startImageServer } from "../support/image-server.ts";
import { cleanupTemp, tempDir } from "./helpers.ts";

let server: ImageServer;
let images: ServedImage[];

beforeAll(async () => {
  images = await standardImages({ debian: false });
  server = await startImageServer({ images });
});

afterAll(async () => {
  await server.stop();
  cleanupTemp();
});

const MANIFEST = `# my project
manifest_version = 1

[base]
# the distribution
image = "arch"   # rolling

[system]
packages = ["git"]  # image = "not this"

[runtime]
backend = "mock"
`;

function writeManifest(text: string): string {
  const dir = tempDir("pin");
  writeFileSync(join(dir, "karapace.toml"), text);
  return join(dir, "karapace.toml");
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI, spawned asynchronously: the image server runs in this process and must keep answering. */
async function karapace(args: string[], store = tempDir("pin-store")): Promise<Run> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", KARAPACE_LOG: undefined, KARAPACE_IMAGE_SERVER: server.url })) if (v !== undefined) env[k] = v;
  const proc = Bun.spawn([process.execPath, BIN, "--store", store, ...args], { cwd: REPO, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

function pin(args: string[], store?: string): Promise<Run> {
  return karapace(["pin", ...args], store);
}

interface LockFields {
  env_id: string;
  base_image: string;
  base_image_digest: string;
  runtime_backend: string;
  resolved_packages?: { name: string; version: string }[];
}

function readLock(manifestPath: string): LockFields {
  return parseToml(readFileSync(join(dirname(manifestPath), "karapace.lock"), "utf8")) as unknown as LockFields;
}

describe("rewriting base.image in TOML text", () => {
  test("a [base] table: only the value changes, comments and spacing stay", () => {
    const out = rewriteBaseImage(MANIFEST, "https://x/rootfs.tar.xz", "karapace.toml");
    expect(out).toBe(MANIFEST.replace('image = "arch"', 'image = "https://x/rootfs.tar.xz"'));
  });

  test("dotted keys, literal strings, and image keys of other tables", () => {
    const text = "manifest_version = 1\n[runtime]\nimage = 'no'\n[base]\nimage='debian'\n";
    expect(rewriteBaseImage(text, "https://u", "f")).toBe("manifest_version = 1\n[runtime]\nimage = 'no'\n[base]\nimage=\"https://u\"\n");
    const dotted = 'manifest_version = 1\nbase.image = "debian" # x\n[system]\npackages = []\n';
    expect(rewriteBaseImage(dotted, "https://u", "f")).toBe('manifest_version = 1\nbase.image = "https://u" # x\n[system]\npackages = []\n');
  });

  test("a multi-line string elsewhere that contains '[base]' is not mistaken for the table", () => {
    const text = 'notes = """\n[base]\nimage = "fake"\n"""\n[base]\nimage = "debian"\n';
    const span = findImageValue(text);
    expect(text.slice(span?.start, span?.end)).toBe('"debian"');
  });

  test("an inline table is not rewritten: the error says what to write", () => {
    expect(() => rewriteBaseImage('base = { image = "debian" }\n', "https://u", "karapace.toml")).toThrow(/cannot find a single-line base.image string/);
  });
});

describe("karapace pin (CLI)", () => {
  test("pins the newest build's URL, changing only the image line", async () => {
    const path = writeManifest(MANIFEST);
    const r = await pin([path]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const url = server.archiveUrl("archlinux", "current", NEW_BUILD);
    expect(r.stdout).toBe(`pinned base image in ${path}\nbase.image = ${url}\n`);
    const after = readFileSync(path, "utf8");
    expect(after).toBe(MANIFEST.replace('image = "arch"', `image = "${url}"`));
    const changed = after.split("\n").filter((line, i) => line !== MANIFEST.split("\n")[i]);
    expect(changed).toEqual([`image = "${url}"   # rolling`]);
  });

  test("--check: exit 1 when not pinned, 0 when pinned; it changes nothing", async () => {
    const path = writeManifest(MANIFEST);
    const unpinned = await pin([path, "--check"]);
    expect(unpinned.code).toBe(1);
    expect(unpinned.stderr).toContain("error: base.image is not pinned: 'arch'");
    expect(readFileSync(path, "utf8")).toBe(MANIFEST);
    expect((await pin([path])).code).toBe(0);
    const pinned = await pin([path, "--check", "--json"]);
    expect(pinned.code).toBe(0);
    expect(JSON.parse(pinned.stdout)).toMatchObject({ status: "pinned", manifest: path });
  });

  test("an already pinned manifest is left byte for byte", async () => {
    const text = MANIFEST.replace('"arch"', '"https://example.invalid/rootfs.tar.xz"');
    const path = writeManifest(text);
    const r = await pin([path, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "already_pinned", base_image: "https://example.invalid/rootfs.tar.xz" });
    expect(readFileSync(path, "utf8")).toBe(text);
  });

  test("a manifest error exits 2; an image the server does not have exits 1 and leaves the file alone", async () => {
    expect((await pin([writeManifest("manifest_version = 1\n[base]\nimage = 7\n")])).code).toBe(2);
    const text = MANIFEST.replace('"arch"', '"fedora/42"');
    const path = writeManifest(text);
    const r = await pin([path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: Fedora 42 is not on the image server");
    expect(readFileSync(path, "utf8")).toBe(text);
  });
});

describe("karapace pin --write-lock (mock backend)", () => {
  test("pins, builds, and writes a lock for the pinned URL; pin --check and build --locked then pass", async () => {
    const path = writeManifest(MANIFEST);
    const store = tempDir("pin-store");
    const r = await pin([path, "--write-lock", "--json"], store);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const url = server.archiveUrl("archlinux", "current", NEW_BUILD);
    const lockPath = join(dirname(path), "karapace.lock");
    expect(JSON.parse(r.stdout)).toEqual({ status: "pinned", manifest: path, previous: "arch", base_image: url, lock_file: lockPath, lock_written: true });

    // The lock names the pinned URL; the mock's digest and identity are computed here without the code under test.
    const lock = readLock(path);
    expect(lock.base_image).toBe(url);
    expect(lock.base_image_digest).toBe(await hashWasmBlake3(`mock-image:${url}`));
    expect(lock.env_id).toBe(await expectedMockEnvId(url, ["git"]));
    expect(lock.runtime_backend).toBe("mock");
    expect(lock.resolved_packages).toEqual([{ name: "git", version: "0.0.0-mock" }]);

    const check = await pin([path, "--check"], store);
    expect({ code: check.code, stdout: check.stdout, stderr: check.stderr }).toEqual({ code: 0, stdout: `base.image is pinned: ${url}\n`, stderr: "" });
    const locked = await karapace(["build", path, "--locked", "--json"], store);
    expect(locked.code).toBe(0);
    expect(JSON.parse(locked.stdout)).toMatchObject({ env_id: lock.env_id, status: "unchanged", lock_written: false });
  });

  test("again on a pinned manifest: nothing changes and it says the lock is up to date", async () => {
    const path = writeManifest(MANIFEST);
    const store = tempDir("pin-store");
    expect((await pin([path, "--write-lock"], store)).code).toBe(0);
    const lockPath = join(dirname(path), "karapace.lock");
    const [manifestBefore, lockBefore, lockMtime] = [readFileSync(path, "utf8"), readFileSync(lockPath, "utf8"), statSync(lockPath).mtimeMs];
    const again = await pin([path, "--write-lock"], store);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });
    expect(again.stdout).toBe(`base.image in ${path} is already pinned\nbase.image = ${readLock(path).base_image}\n${lockPath} is up to date\n`);
    expect([readFileSync(path, "utf8"), readFileSync(lockPath, "utf8"), statSync(lockPath).mtimeMs]).toEqual([manifestBefore, lockBefore, lockMtime]);
  });

  test("a stale lock from before the pin is replaced by one for the pinned image", async () => {
    const path = writeManifest(MANIFEST);
    const store = tempDir("pin-store");
    expect((await karapace(["build", path], store)).code).toBe(0);
    const before = readLock(path);
    expect(before.base_image).toBe("arch");
    const r = await pin([path, "--write-lock"], store);
    expect(r.code).toBe(0);
    const after = readLock(path);
    expect(after.base_image).toBe(server.archiveUrl("archlinux", "current", NEW_BUILD));
    expect(after.env_id).not.toBe(before.env_id);
    expect(r.stdout).toEndWith(`wrote ${join(dirname(path), "karapace.lock")}\n`);
  });

  test("--check and --write-lock together are refused (exit 2): --check changes nothing", async () => {
    const path = writeManifest(MANIFEST);
    const r = await pin([path, "--check", "--write-lock"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: --check and --write-lock cannot be combined");
    expect(readFileSync(path, "utf8")).toBe(MANIFEST);
    expect(existsSync(join(dirname(path), "karapace.lock"))).toBe(false);
  });

  test("a build the policy refuses: exit 1, and neither the manifest nor a lock is written", async () => {
    const text = `${MANIFEST}\n[mounts]\nsecrets = "/etc:/mnt/etc"\n`;
    const path = writeManifest(text);
    const r = await pin([path, "--write-lock"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: mount 'secrets': /etc is outside the allowed directories");
    expect(readFileSync(path, "utf8")).toBe(text);
    expect(existsSync(join(dirname(path), "karapace.lock"))).toBe(false);
  });
});

describe("karapace pin --write-lock (namespace backend, rootless)", () => {
  test("the image is downloaded from the server and the lock records its content digest", async () => {
    const s = new Scenario("pin");
    try {
      const dir = s.project("pinned", namespaceManifest("arch"));
      const path = join(dir, "karapace.toml");
      const env = { KARAPACE_IMAGE_SERVER: server.url };
      const r = await s.kp(["pin", "--write-lock", "--json"], { cwd: dir, env });
      expect({ code: r.code, stderr: r.stderr.split("\n").filter((l) => l.startsWith("error")) }).toEqual({ code: 0, stderr: [] });
      const url = server.archiveUrl("archlinux", "current", NEW_BUILD);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: "pinned", base_image: url, lock_written: true });

      // The digest is the tree digest of the newest build's rootfs as an image is unpacked (modes with u+rwX,
      // docs/images.md), computed here from the tree the archive was made of, with GNU cp and chmod.
      const newest = images.find((i) => i.distro === "archlinux")?.builds.find((b) => b.build === NEW_BUILD);
      if (newest === undefined) throw new Error("the image server serves no newest archlinux build");
      const copy = join(tempDir("pin-rootfs"), "rootfs");
      for (const argv of [[requireTool("cp"), "-a", join(dirname(newest.archive), "rootfs"), copy], [requireTool("chmod"), "-R", "u+rwX", copy]]) {
        const done = Bun.spawnSync(argv, { stderr: "pipe" });
        if (!done.success) throw new Error(`${argv.join(" ")} failed: ${done.stderr.toString()}`);
      }
      const expected = await digestTree(copy, { workers: 0 });
      const lock = readLock(path);
      expect({ base_image: lock.base_image, base_image_digest: lock.base_image_digest, runtime_backend: lock.runtime_backend }).toEqual({
        base_image: url,
        base_image_digest: expected.digest,
        runtime_backend: "namespace",
      });
      // Only the pinned (newest) build was fetched.
      const fetched = server.requests.filter((q) => q.path.endsWith("rootfs.tar.xz") && q.method === "GET").map((q) => q.path);
      expect(fetched.some((p) => p.includes(OLD_BUILD))).toBe(false);
      expect(readdirSync(join(s.store, "images")).filter((n) => !n.startsWith(".")).length).toBe(1);

      expect((await s.kp(["pin", "--check"], { cwd: dir, env })).code).toBe(0);
      const locked = await s.kp(["build", "--locked", "--json"], { cwd: dir, env });
      expect(locked.code).toBe(0);
      expect(JSON.parse(locked.stdout)).toMatchObject({ env_id: lock.env_id, status: "unchanged" });
      const inside = await s.kp(["exec", lock.env_id.slice(0, 12), "--", "sh", "-c", "test -e /etc/OLD-BUILD && echo old || echo new"], { env });
      expect(inside.stdout).toBe("new\n");
    } finally {
      s.cleanup();
    }
  }, 300_000);
});
