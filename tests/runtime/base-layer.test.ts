/**
 * The base layer of a namespace build keeps what the package install deleted.
 * The busybox image gets a stand-in `apt-get` (a shell script) whose "install"
 * removes a base-image file and replaces a base-image directory, as package
 * upgrades do; the real overlay turns that into a whiteout (0:0 character
 * device) and an opaque directory in the upper dir. The layer the build stores
 * must carry both in OCI layer form (`.wh.<name>`, `.wh..wh..opq`), and
 * unpacking it must give back an upper dir that hides the same paths.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unpackLayer } from "../../src/snapshots/unpack.ts";
import { requireTool } from "../support/prereq.ts";
import { giveToTestUser } from "../support/rootless.ts";
import { manifest, Scenario } from "./helpers.ts";

/** Replaces busybox's applet (if any) at `rel` with a shell script. */
function script(rootfs: string, rel: string, body: string): void {
  const path = join(rootfs, rel);
  rmSync(path, { force: true });
  writeFileSync(path, `#!/bin/sh\n${body}`);
  chmodSync(path, 0o755);
}

/**
 * A busybox rootfs that looks like an apt image to karapace: package lists
 * present (so no `apt-get update`), an `apt-get` whose install deletes
 * /etc/motd, replaces /opt/old and installs /usr/share/fake/<pkg>, and a
 * `dpkg-query` that reports version 1.0-fake.
 */
function fakeAptImage(rootfs: string): void {
  writeFileSync(join(rootfs, "etc/motd"), "welcome\n");
  mkdirSync(join(rootfs, "opt/old"), { recursive: true });
  writeFileSync(join(rootfs, "opt/old/stale"), "from the image\n");
  mkdirSync(join(rootfs, "var/lib/apt/lists"), { recursive: true });
  writeFileSync(join(rootfs, "var/lib/apt/lists/fake_Packages"), "");
  script(
    rootfs,
    "usr/bin/apt-get",
    `case "$1" in
install)
  shift; for a in "$@"; do case "$a" in -*) ;; *) pkg=\${a%%=*} ;; esac; done
  rm /etc/motd
  rm -r /opt/old && mkdir /opt/old && echo fresh > /opt/old/new
  mkdir -p /usr/share/fake && echo "$pkg" > "/usr/share/fake/$pkg" ;;
clean) ;;
*) echo "fake apt-get: $*" >&2; exit 1 ;;
esac
`,
  );
  script(rootfs, "usr/bin/dpkg-query", `for n; do :; done\ntest -e "/usr/share/fake/$n" && printf 1.0-fake\n`);
}

let s: Scenario;
let project: string;
let envId: string;
let tarPath: string;

beforeAll(async () => {
  s = new Scenario("base-layer");
  const rootfs = await s.busybox();
  fakeAptImage(rootfs);
  giveToTestUser(rootfs);
  project = s.project("wh", `${manifest(rootfs)}\n[system]\npackages = ["hello"]\n`);
  const r = await s.kp(["build", "--name", "wh", "--json"], { cwd: project });
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  envId = (JSON.parse(r.stdout) as { env_id: string }).env_id;
  const inspect = await s.kp(["inspect", "wh", "--json"]);
  const baseLayer = (JSON.parse(inspect.stdout) as { base_layer: string }).base_layer;
  const layer = JSON.parse(readFileSync(join(s.store, "store", "layers", baseLayer), "utf8")) as { kind: string; tar_hash: string };
  expect(layer.kind).toBe("Base");
  tarPath = join(s.store, "store", "objects", layer.tar_hash);
}, 300_000);

afterAll(() => s?.cleanup());

describe("base layer of a build that deleted base-image files", () => {
  test("the install ran: the lock has the fake version, the paths are gone inside", async () => {
    expect(readFileSync(join(project, "karapace.lock"), "utf8")).toContain('version = "1.0-fake"');
    const r = await s.kp(["exec", "wh", "--", "sh", "-c", "test -e /etc/motd && echo motd; ls /opt/old; cat /usr/share/fake/hello"]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: "new\nhello\n" });
  });

  test("the upper dir holds a real whiteout for /etc/motd", () => {
    const st = lstatSync(join(s.store, "env", envId, "upper", "etc", "motd"));
    expect({ chardev: st.isCharacterDevice(), rdev: st.rdev }).toEqual({ chardev: true, rdev: 0 });
  });

  test("the layer tar carries the whiteout and the opaque directory in OCI form", () => {
    const listing = Bun.spawnSync([requireTool("tar"), "-tvf", tarPath], { stderr: "pipe" });
    expect(listing.stderr.toString()).toBe("");
    const lines = listing.stdout.toString().trimEnd().split("\n");
    const byName = new Map(lines.map((l) => [l.split(/\s+/).slice(5).join(" "), l]));
    expect(byName.get("etc/.wh.motd")).toStartWith("-rw-r--r-- 0/0");
    expect(byName.has("etc/motd")).toBe(false);
    expect([...byName.keys()].filter((n) => n.startsWith("opt/"))).toEqual(["opt/", "opt/old/", "opt/old/.wh..wh..opq", "opt/old/new"]);
    expect(byName.has("usr/share/fake/hello")).toBe(true);
    // Overlay bookkeeping (user.overlay.* on the opaque dir) stays out of the layer.
    const xattrs = Bun.spawnSync([requireTool("tar"), "--xattrs", "--xattrs-include=*", "-tvvf", tarPath], { stderr: "pipe" });
    expect(xattrs.stdout.toString()).not.toContain("overlay.");
  });

  test("unpacked again, the layer is an upper dir that hides the same paths", async () => {
    const dest = join(mkdtempSync(join(tmpdir(), "karapace-base-unpack-")), "upper");
    try {
      const r = await unpackLayer(Bun.file(tarPath).stream(), dest, { whiteouts: "device", overlayXattrs: "user" });
      expect({ whiteouts: r.whiteouts, opaqueDirs: r.opaqueDirs }).toEqual({ whiteouts: 1, opaqueDirs: 1 });
      const motd = lstatSync(join(dest, "etc", "motd"));
      expect({ chardev: motd.isCharacterDevice(), rdev: motd.rdev }).toEqual({ chardev: true, rdev: 0 });
      expect(readFileSync(join(dest, "opt", "old", "new"), "utf8")).toBe("fresh\n");
    } finally {
      rmSync(join(dest, ".."), { recursive: true, force: true });
    }
  });
});
