import { describe, expect, test } from "bun:test";
import { distroFromOsRelease, installHint } from "../../src/doctor/distro.ts";
import { userName } from "../../src/runtime/host-user.ts";
import { describeRanges, subidRanges } from "../../src/doctor/subid.ts";
import { sysctlBlockers } from "../../src/doctor/checks/userns.ts";
import { tempDir } from "../policy/helpers.ts";
import { join } from "node:path";
import { writeFileSync } from "node:fs";

describe("distribution detection", () => {
  const cases: [string, string, string][] = [
    ['ID=debian\nVERSION_ID="12"\n', "debian", "sudo apt install uidmap"],
    ["ID=ubuntu\nID_LIKE=debian\n", "debian", "sudo apt install uidmap"],
    ['ID=fedora\n', "fedora", "sudo dnf install shadow-utils"],
    ['ID="rocky"\nID_LIKE="rhel centos fedora"\n', "fedora", "sudo dnf install shadow-utils"],
    ['ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n', "opensuse", "sudo zypper install shadow"],
    ["ID=arch\n", "arch", "sudo pacman -S shadow"],
    ["ID=manjaro\nID_LIKE=arch\n", "arch", "sudo pacman -S shadow"],
  ];
  for (const [text, family, command] of cases) {
    test(`${text.split("\n")[0]} -> ${family}`, () => {
      const distro = distroFromOsRelease(text);
      expect(distro.family).toBe(family as typeof distro.family);
      expect(installHint(distro, "uidmap")).toBe(`install it: ${command}`);
    });
  }

  test("an unknown distribution gets every package manager's command", () => {
    const hint = installHint(distroFromOsRelease("ID=gentoo\n"), "fuse-overlayfs");
    for (const cmd of ["apt install fuse-overlayfs", "dnf install fuse-overlayfs", "zypper install fuse-overlayfs", "pacman -S fuse-overlayfs"]) expect(hint).toContain(cmd);
  });
});

describe("subordinate id files", () => {
  const text = "# comment\nalice:100000:65536\n1001:300000:1000\nbob:165536:65536\nbroken line\nalice:x:5\n";

  test("ranges are found by user name and by uid", () => {
    expect(subidRanges(text, "alice", 1000)).toEqual([{ start: 100000, count: 65536 }]);
    expect(subidRanges(text, "carol", 1001)).toEqual([{ start: 300000, count: 1000 }]);
    expect(subidRanges(text, "alice", 1001)).toEqual([
      { start: 100000, count: 65536 },
      { start: 300000, count: 1000 },
    ]);
    expect(subidRanges(text, "dave", 1002)).toEqual([]);
    expect(describeRanges(subidRanges(text, "bob", 1))).toBe("165536-231071 (65536)");
  });
});

describe("user namespace sysctls", () => {
  test("each known blocker is named with its fix", () => {
    const values: Record<string, string> = {
      "/proc/sys/kernel/unprivileged_userns_clone": "0",
      "/proc/sys/user/max_user_namespaces": "0",
      "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1",
    };
    const blockers = sysctlBlockers((p) => values[p]);
    expect(blockers.map((b) => b.problem)).toEqual([
      "kernel.unprivileged_userns_clone = 0",
      "user.max_user_namespaces = 0",
      "kernel.apparmor_restrict_unprivileged_userns = 1",
    ]);
    expect(blockers[0]?.fix).toBe("sudo sysctl -w kernel.unprivileged_userns_clone=1");
    expect(sysctlBlockers((p) => (p.endsWith("max_user_namespaces") ? "15000" : undefined))).toEqual([]);
  });
});

test("the user name comes from the passwd file, then $USER", () => {
  const { dir, cleanup } = tempDir("passwd");
  try {
    const passwd = join(dir, "passwd");
    writeFileSync(passwd, "root:x:0:0::/root:/bin/sh\nkarapace-test:x:1001:1001::/home/k:/bin/sh\n");
    expect(userName(1001, {}, passwd)).toBe("karapace-test");
    expect(userName(4242, { USER: "ghost" }, passwd)).toBe("ghost");
  } finally {
    cleanup();
  }
});
