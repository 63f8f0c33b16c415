/** The launch argv: values travel as positional parameters, never inside the script text. */
import { expect, test } from "bun:test";
import { SETUP_SCRIPT, sandboxArgv } from "../../src/runtime/namespace/sandbox.ts";
import { INSTALL_SCRIPT, installWords, parseVersions, VERSION_MARKER } from "../../src/runtime/namespace/packages.ts";

const hostile = "/tmp/x'; touch /tmp/pwned; echo '$(id)`id`";

test("every value is its own argv word after the constant script", () => {
  const argv = sandboxArgv({
    lower: "/img/rootfs",
    upper: "/e/upper",
    work: "/e/work",
    merged: "/e/merged",
    hostname: "web",
    binds: [{ source: hostile, target: "/mnt/a b", readOnly: true, file: false, reason: "test" }],
    devices: ["/dev/dri", "/opt/dev"],
    isolateNetwork: true,
    innerPath: "/usr/bin",
    workdir: "/",
    overlay: "auto",
    command: ["sh", "-c", hostile],
  });
  const at = argv.indexOf(SETUP_SCRIPT);
  expect(at).toBeGreaterThan(0);
  expect(argv.slice(0, at)).toContain("--net");
  expect(argv.filter((w) => w === hostile)).toHaveLength(2);
  const rest = argv.slice(at + 1);
  // bind groups: kind, ro, source, target; /dev entries are already there via the /dev bind
  const sep = rest.indexOf("--", 15);
  expect(rest.slice(15, sep)).toEqual(["dir", "1", hostile, "/mnt/a b", "file", "0", "/opt/dev", "/opt/dev"]);
  expect(rest.slice(sep + 1)).toEqual(["sh", "-c", hostile]);
  expect(SETUP_SCRIPT).not.toContain("/img/rootfs");
});

test("locked versions become exact install words; the version lines parse back", () => {
  expect(installWords("apt", ["git", "curl"], [{ name: "git", version: "1:2.39.5-0+deb12u3" }])).toEqual(["git=1:2.39.5-0+deb12u3", "curl"]);
  expect(installWords("dnf", ["git"], [{ name: "git", version: "2.47.1-1.fc41" }])).toEqual(["git-2.47.1-1.fc41"]);
  const out = `${VERSION_MARKER}\tgit\t1:2.39.5-0+deb12u3\nnoise\n${VERSION_MARKER}\tcurl\t7.88.1-10\n`;
  expect([...parseVersions(out)]).toEqual([["git", "1:2.39.5-0+deb12u3"], ["curl", "7.88.1-10"]]);
  expect(INSTALL_SCRIPT).toContain("--no-install-recommends");
});
