/** The launch argv: values travel as positional parameters, never inside the script text. */
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mountTable, SETUP_SCRIPT, sandboxArgv, writeMountTable } from "../../src/runtime/namespace/sandbox.ts";
import { INSTALL_SCRIPT, installWords, parseVersions, VERSION_MARKER } from "../../src/runtime/namespace/packages.ts";

const hostile = "/tmp/x'; touch /tmp/pwned; echo '$(id)`id`";

const launch = {
  lower: "/img/rootfs",
  upper: "/e/upper",
  work: "/e/work",
  merged: "/e/merged",
  hostname: "web",
  binds: [
    { source: hostile, target: "/mnt/a b", readOnly: true, file: false, reason: "test" },
    { source: "/run/user/1000/wayland-0", target: "/run/user/1000/wayland-0", readOnly: false, file: true, reason: "wayland socket" },
  ],
  devices: ["/dev/dri", "/opt/dev"],
  isolateNetwork: true,
  innerPath: "/usr/bin",
  workdir: "/",
  overlay: "auto" as const,
  command: ["sh", "-c", hostile],
};

test("every value is its own argv word after the constant script", () => {
  const argv = sandboxArgv(launch, { afterOverlay: "/e/mounts/t.fstab", onePass: undefined, refusedMarker: "/e/mounts/refused" });
  const at = argv.indexOf(SETUP_SCRIPT);
  expect(at).toBeGreaterThan(0);
  expect(argv.slice(0, at)).toContain("--net");
  // the hostile path is in the mount table, not the argv; the command keeps its words
  expect(argv.filter((w) => w === hostile)).toHaveLength(1);
  const rest = argv.slice(at + 1);
  expect(rest.slice(15, 18)).toEqual(["/e/mounts/t.fstab", "", "/e/mounts/refused"]);
  expect(rest[18]).toEndWith("umount");
  // file targets to create (a /dev entry arrives with the /dev bind), then the command
  const sep = rest.indexOf("--", 19);
  expect(rest.slice(19, sep)).toEqual(["/run/user/1000/wayland-0", "/opt/dev"]);
  expect(rest.slice(sep + 1)).toEqual(["sh", "-c", hostile]);
  expect(SETUP_SCRIPT).not.toContain("/img/rootfs");
});

test("the mount table escapes blanks and backslashes and keeps the plan's order", () => {
  const lines = mountTable({ ...launch, binds: [{ ...launch.binds[0]!, source: "/h/a\\b\tc d" }, launch.binds[1]!] }).trimEnd().split("\n");
  expect(lines).toEqual([
    "proc /e/merged/proc proc nosuid,nodev,noexec 0 0",
    "tmpfs /e/merged/tmp tmpfs mode=1777,nosuid,nodev 0 0",
    "/h/a\\134b\\011c\\040d /e/merged/mnt/a\\040b none rbind,X-mount.mkdir,ro 0 0",
    "/run/user/1000/wayland-0 /e/merged/run/user/1000/wayland-0 none bind 0 0",
    "/opt/dev /e/merged/opt/dev none bind 0 0",
    "/sys /e/merged/sys none rbind 0 0",
    "/dev /e/merged/dev none rbind 0 0",
  ]);
  // every line has exactly six blank-separated fields, whatever the paths hold
  for (const line of lines) expect(line.split(" ")).toHaveLength(6);
});

test("a mount table is written once per content", () => {
  const dir = mkdtempSync(join(tmpdir(), "karapace-fstab-"));
  try {
    const a = writeMountTable(dir, "proc /x proc defaults 0 0\n");
    expect(writeMountTable(dir, "proc /x proc defaults 0 0\n")).toBe(a);
    expect(readFileSync(a, "utf8")).toBe("proc /x proc defaults 0 0\n");
    expect(writeMountTable(dir, "proc /y proc defaults 0 0\n")).not.toBe(a);
    expect(readdirSync(join(dir, "mounts")).filter((n) => n.startsWith("."))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("locked versions become exact install words; the version lines parse back", () => {
  expect(installWords("apt", ["git", "curl"], [{ name: "git", version: "1:2.39.5-0+deb12u3" }])).toEqual(["git=1:2.39.5-0+deb12u3", "curl"]);
  expect(installWords("dnf", ["git"], [{ name: "git", version: "2.47.1-1.fc41" }])).toEqual(["git-2.47.1-1.fc41"]);
  const out = `${VERSION_MARKER}\tgit\t1:2.39.5-0+deb12u3\nnoise\n${VERSION_MARKER}\tcurl\t7.88.1-10\n`;
  expect([...parseVersions(out)]).toEqual([["git", "1:2.39.5-0+deb12u3"], ["curl", "7.88.1-10"]]);
  expect(INSTALL_SCRIPT).toContain("--no-install-recommends");
});
