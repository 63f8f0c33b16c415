/**
 * `karapace pin`: the base.image value is rewritten to the exact URL of the
 * newest build and nothing else in the file changes; --check's exit codes;
 * all through the real CLI against the local image server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findImageValue, rewriteBaseImage } from "../../src/images/pin.ts";
import { BIN, REPO } from "../cli/helpers.ts";
import { type ImageServer, NEW_BUILD, standardImages, startImageServer } from "../support/image-server.ts";
import { cleanupTemp, tempDir } from "./helpers.ts";

let server: ImageServer;

beforeAll(async () => {
  server = await startImageServer({ images: await standardImages({ debian: false }) });
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
async function pin(args: string[]): Promise<Run> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", KARAPACE_LOG: undefined, KARAPACE_IMAGE_SERVER: server.url })) if (v !== undefined) env[k] = v;
  const proc = Bun.spawn([process.execPath, BIN, "--store", tempDir("pin-store"), "pin", ...args], { cwd: REPO, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
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
