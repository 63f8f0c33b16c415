import { describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { debianMirror, parseDeb822Sources, parseOneLineSources, readAptSources } from "./apt-sources.ts";

// Mirror hosts here are placeholders: the real one is only ever read from /etc/apt.
const DEB822 = `Types: deb
# a commented snapshot line: http://old.example/archive
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`;

describe("apt sources parsing", () => {
  test("deb822 stanzas", () => {
    const sources = parseDeb822Sources(DEB822);
    expect(sources).toHaveLength(2);
    expect(sources[0]).toEqual({
      types: ["deb"],
      uris: ["http://mirror.example/debian"],
      suites: ["bookworm", "bookworm-updates"],
      components: ["main"],
      enabled: true,
    });
    expect(sources[1]?.suites).toEqual(["bookworm-security"]);
  });

  test("deb822 continuation lines and Enabled: no", () => {
    const [source] = parseDeb822Sources("Types: deb deb-src\nURIs: http://a.example/debian\n  http://b.example/debian\nSuites: trixie\nEnabled: no\n");
    expect(source?.uris).toEqual(["http://a.example/debian", "http://b.example/debian"]);
    expect(source?.types).toEqual(["deb", "deb-src"]);
    expect(source?.enabled).toBe(false);
  });

  test("one-line format with options and comments", () => {
    const sources = parseOneLineSources(
      "# deb http://commented.example/debian bookworm main\n" +
        "deb-src http://src.example/debian bookworm main\n" +
        "deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://opt.example/debian bookworm main contrib # trailing\n",
    );
    expect(sources).toEqual([
      { types: ["deb-src"], uris: ["http://src.example/debian"], suites: ["bookworm"], components: ["main"], enabled: true },
      { types: ["deb"], uris: ["https://opt.example/debian"], suites: ["bookworm"], components: ["main", "contrib"], enabled: true },
    ]);
  });

  test("the mirror is the first enabled deb URI serving the suite", () => {
    const sources = [
      ...parseOneLineSources("deb https://vendor.example/apt cloud-sdk-bookworm main\ndeb-src http://src.example/debian bookworm main\n"),
      ...parseDeb822Sources("Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n"),
      ...parseDeb822Sources(DEB822),
    ];
    expect(debianMirror("bookworm", sources)).toBe("http://mirror.example/debian");
  });

  test("a Debian archive for another release is the fallback", () => {
    const sources = parseOneLineSources("deb http://vendor.example/apt nodistro main\ndeb http://mirror.example/debian/ trixie main\n");
    expect(debianMirror("bookworm", sources)).toBe("http://mirror.example/debian");
  });

  test("no Debian source is a missing prerequisite", () => {
    expect(() => debianMirror("bookworm", parseOneLineSources("deb http://vendor.example/apt nodistro main\n"))).toThrow(
      /^missing prerequisite: a Debian mirror for 'bookworm'/,
    );
  });

  test("reads sources.list then sources.list.d in name order, ignoring other files", () => {
    const etc = mkdtempSync(join(tmpdir(), "karapace-apt-"));
    mkdirSync(join(etc, "sources.list.d"));
    writeFileSync(join(etc, "sources.list"), "# nothing enabled here\n");
    writeFileSync(join(etc, "sources.list.d", "b.sources"), DEB822);
    writeFileSync(join(etc, "sources.list.d", "a.list"), "deb http://first.example/debian bookworm main\n");
    writeFileSync(join(etc, "sources.list.d", "c.list.disabled"), "deb http://disabled.example/debian bookworm main\n");
    const uris = readAptSources(etc).flatMap((s) => s.uris);
    expect(uris).toEqual(["http://first.example/debian", "http://mirror.example/debian", "http://mirror.example/debian-security"]);
  });

  test("this machine's apt configuration names a Debian mirror (debootstrap needs it)", () => {
    expect(debianMirror("bookworm")).toMatch(/^(https?|file):\/\/\S+$/);
  });
});
