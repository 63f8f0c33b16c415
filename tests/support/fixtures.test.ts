import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAtomically, busyboxRootfs, debianRootfs, debianRootfsTarXz, isStaticElf } from "./fixtures.ts";
import { requireTool } from "./prereq.ts";

const scratch = mkdtempSync(join(tmpdir(), "karapace-fixtures-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sh(argv: string[]): { code: number; out: string } {
  const proc = Bun.spawnSync(argv, { stderr: "pipe" });
  return { code: proc.exitCode, out: `${proc.stdout.toString()}${proc.stderr.toString()}` };
}

describe("busyboxRootfs", () => {
  const root = join(scratch, "busybox");
  const made = busyboxRootfs(root);
  made.catch(() => undefined); // each test awaits it and fails with its error

  test("has the layout, a static busybox and its applets", async () => {
    expect(await made).toBe(root);
    expect(isStaticElf(join(root, "bin/busybox"))).toBe(true);
    expect(readlinkSync(join(root, "bin/sh"))).toBe("busybox");
    expect(readlinkSync(join(root, "usr/bin/env"))).toBe("../../bin/busybox");
    for (const d of ["proc", "dev", "sys", "tmp"]) {
      expect(lstatSync(join(root, d)).isDirectory()).toBe(true);
      expect(readdirSync(join(root, d))).toEqual([]);
    }
    expect(statSync(join(root, "tmp")).mode & 0o7777).toBe(0o1777);
    expect(readFileSync(join(root, "etc/passwd"), "utf8")).toStartWith("root:x:0:0:");
    expect(readFileSync(join(root, "etc/group"), "utf8")).toStartWith("root:x:0:");
  });

  test("its busybox runs echo, directly and through an applet link", async () => {
    await made;
    expect(sh([join(root, "bin/busybox"), "echo", "hello"])).toEqual({ code: 0, out: "hello\n" });
    expect(sh([join(root, "bin/echo"), "via", "applet"])).toEqual({ code: 0, out: "via applet\n" });
  });

  test("is self-contained: a shell chrooted into it (user namespace) sees its own /etc", async () => {
    await made;
    const unshare = requireTool("unshare");
    const result = sh([unshare, "--user", "--map-root-user", `--root=${root}`, "/bin/sh", "-c", "echo $(id -u) $(head -n1 /etc/group)"]);
    expect(result).toEqual({ code: 0, out: "0 root:x:0:\n" });
  });

  test("refuses a non-empty directory", async () => {
    await made;
    await expect(busyboxRootfs(root)).rejects.toThrow(/is not empty/);
  });
});

describe("buildAtomically", () => {
  test("a failed build leaves neither the target nor a partial", async () => {
    const target = join(scratch, "atomic", "fixture");
    const failing = buildAtomically(target, async (partial) => {
      await busyboxRootfs(partial);
      throw new Error("interrupted");
    });
    await expect(failing).rejects.toThrow("interrupted");
    expect(readdirSync(join(scratch, "atomic"))).toEqual([]);
  });

  test("a successful build appears at once under its final name; stale partials are removed", async () => {
    const target = join(scratch, "atomic2", "fixture");
    const stale = join(scratch, "atomic2", ".fixture.partial-999999999"); // above pid_max: never alive
    await busyboxRootfs(stale);
    await buildAtomically(target, async (partial) => {
      await busyboxRootfs(partial);
    });
    expect(existsSync(join(target, "bin/busybox"))).toBe(true);
    expect(readdirSync(join(scratch, "atomic2"))).toEqual(["fixture"]);
  });
});

// Only the first run builds (about 30 s for debootstrap, 15 s for the tarball); later runs hit the cache.
const DEBOOTSTRAP_TIMEOUT_MS = 300_000;

describe("Debian fixtures (debootstrap once, cached outside the repo)", () => {
  test("debianRootfs is a bookworm minbase tree", async () => {
    const root = await debianRootfs();
    expect(readFileSync(join(root, "etc/debian_version"), "utf8")).toStartWith("12.");
    expect(existsSync(join(root, "usr/bin/dpkg"))).toBe(true);
    expect(existsSync(join(root, "usr/bin/apt-get"))).toBe(true);
  }, DEBOOTSTRAP_TIMEOUT_MS);

  test("debianRootfsTarXz holds the same tree with ./-relative names", async () => {
    const tarball = await debianRootfsTarXz();
    const listing = sh(["sh", "-c", `xz -dc '${tarball}' | tar -t | grep -x -e ./etc/debian_version -e ./usr/bin/dpkg -e './dev/null'`]);
    expect(listing.out.split("\n").filter((l) => l !== "").sort()).toEqual(["./etc/debian_version", "./usr/bin/dpkg"]);
  }, DEBOOTSTRAP_TIMEOUT_MS);
});
