import { describe, expect, test } from "bun:test";
import { identityInput } from "../../src/schema/identity.ts";
import { parseLock, renderLock } from "../../src/schema/lock-io.ts";
import { parseManifest } from "../../src/schema/manifest.ts";
import {
  checkAppName,
  checkContainerPath,
  checkHostPath,
  checkMountLabel,
  checkPackageName,
  checkResolvedToken,
} from "../../src/schema/rules.ts";
import { compareUtf8, rustTrim, sortedUnique } from "../../src/schema/text.ts";
import type { LockFile } from "../../src/schema/types.ts";
import { seededRandom } from "./helpers.ts";

const manifestWith = (packages: readonly string[]) =>
  `manifest_version = 1\n[base]\nimage = "debian/bookworm"\n[system]\npackages = ${JSON.stringify(packages)}\n`;

describe("real package names are accepted", () => {
  const real = [
    "g++",
    "libstdc++6",
    "python3.11",
    "ca-certificates",
    "lib32z1",
    "fonts-noto-cjk",
    "libc6:i386",
    "0ad",
    "r-base-core",
    "libreoffice-l10n-zh-tw",
    "xserver-xorg-video-amdgpu",
    "libgtk-3-0",
    "openssl-devel",
    "mesa-dri",
    "gcc-c++",
    "perl-Text-CSV_XS",
    "python3.12-venv",
  ];
  test(real.join(", "), () => {
    expect(parseManifest(manifestWith(real)).normalized.system_packages).toEqual(sortedUnique(real));
  });
});

describe("what the rules refuse, and why", () => {
  const refused: Array<[string, (value: string) => string | undefined, string, string]> = [
    ["package", checkPackageName, "git@2.39", "'@'"],
    ["package", checkPackageName, "git curl", "whitespace"],
    ["package", checkPackageName, "-o", "starts with '-'"],
    ["package", checkPackageName, "a\u0000b", "control character"],
    ["package", checkPackageName, "a\u200db", "invisible"],
    ["package", checkPackageName, "a\ud800", "unpaired surrogate"],
    ["app", checkAppName, "org:app", "':'"],
    ["mount label", checkMountLabel, "a:b", "':'"],
    ["host path", checkHostPath, "/a\u0085", "control character"],
    ["container path", checkContainerPath, "/a:ro", "':'"],
    ["container path", checkContainerPath, "relative", "absolute"],
    ["version", checkResolvedToken, "1.0app:x", "':' that does not follow a digit"],
    ["version", checkResolvedToken, "1@2", "'@'"],
    ["version", checkResolvedToken, "1 2", "whitespace"],
    ["digest", checkResolvedToken, "abcapp:abc", "':' that does not follow a digit"],
  ];
  for (const [kind, check, value, reason] of refused) {
    test(`${kind} ${JSON.stringify(value)}: ${reason}`, () => {
      expect(check(value)).toContain(reason);
    });
  }

  const allowed: Array<[string, (value: string) => string | undefined, string]> = [
    ["version with an epoch", checkResolvedToken, "1:2.39.2-1.1"],
    ["version with ~ and +", checkResolvedToken, "2.0~rc1+dfsg-1"],
    ["digest with an algorithm", checkResolvedToken, "sha256:abc123"],
    ["host path with spaces", checkHostPath, "/home/u/My Documents"],
    ["container path with spaces", checkContainerPath, "/mnt/my docs"],
    ["mount label with a space", checkMountLabel, "my docs"],
    ["app id", checkAppName, "org.mozilla.firefox"],
  ];
  for (const [what, check, value] of allowed) {
    test(`allowed: ${what} (${JSON.stringify(value)})`, () => {
      expect(check(value)).toBeUndefined();
    });
  }
});

/** A lock that differs from `base` only where given; used to build colliding pairs. */
function lock(fields: Partial<LockFile>): LockFile {
  return {
    lock_version: 2,
    env_id: "",
    short_id: "",
    base_image: "rolling",
    base_image_digest: "sha256:abc123",
    resolved_packages: [],
    resolved_apps: [],
    runtime_backend: "namespace",
    hardware_gpu: false,
    hardware_audio: false,
    network_isolation: false,
    mounts: [],
    cpu_shares: null,
    memory_limit_mb: null,
    ...fields,
  };
}

/** True when the lock passes the identity-safety rules (as a lock read from disk would be checked). */
function acceptedAsLock(l: LockFile): boolean {
  try {
    parseLock(renderLock({ ...l, env_id: "x", short_id: "x" }), "pair.lock");
    return true;
  } catch {
    return false;
  }
}

describe("without the rules, different locks would share an identity", () => {
  const pairs: Array<[string, LockFile, LockFile]> = [
    ["an app swallowing the gpu flag", lock({ resolved_apps: ["x"], hardware_gpu: true }), lock({ resolved_apps: ["xhw:gpu"] })],
    ["a version swallowing an app", lock({ resolved_packages: [{ name: "a", version: "1.0" }], resolved_apps: ["x"] }), lock({ resolved_packages: [{ name: "a", version: "1.0app:x" }] })],
    ["a version swallowing a package", lock({ resolved_packages: [{ name: "a", version: "1" }, { name: "b", version: "2" }] }), lock({ resolved_packages: [{ name: "a", version: "1pkg:b@2" }] })],
    ["a name/version split moved", lock({ resolved_packages: [{ name: "a@b", version: "1" }] }), lock({ resolved_packages: [{ name: "a", version: "b@1" }] })],
    ["the digest swallowing an app", lock({ base_image_digest: "abc", resolved_apps: ["abc"] }), lock({ base_image_digest: "abcapp:abc" })],
    [
      "a container path swallowing a mount",
      lock({ mounts: [{ label: "x", host_path: "/h", container_path: "/p" }, { label: "y", host_path: "/h2", container_path: "/q" }] }),
      lock({ mounts: [{ label: "x", host_path: "/h", container_path: "/pmount:y:/h2:/q" }] }),
    ],
    ["a label swallowing the host path", lock({ mounts: [{ label: "a:b", host_path: "/c", container_path: "/d" }] }), lock({ mounts: [{ label: "a", host_path: "b", container_path: "/c:/d" }] })],
  ];
  for (const [name, a, b] of pairs) {
    test(`${name}: same input, and the rules refuse one of them`, () => {
      expect(identityInput(a)).toBe(identityInput(b));
      expect(acceptedAsLock(a) && acceptedAsLock(b)).toBe(false);
    });
  }
});

// The decoding argument of docs/manifest.md, as code: if every lock the rules
// accept decodes back from its identity input, the encoding is injective on them.
const WORDS = ["base_digest", "pkg", "app", "hw", "mount", "backend", "net", "cpu", "mem"] as const;

function decode(s: string): Omit<LockFile, "lock_version" | "env_id" | "short_id" | "base_image"> {
  let pos = 0;
  const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
  const next = (digitColonInPayload: boolean): { payload: string; word: string | undefined } => {
    let i = pos;
    while (i < s.length && !(s[i] === ":" && !(digitColonInPayload && isDigit(s[i - 1])))) i++;
    if (i >= s.length) {
      const payload = s.slice(pos);
      pos = s.length;
      return { payload, word: undefined };
    }
    const text = s.slice(pos, i);
    const word = WORDS.find((w) => text.endsWith(w));
    if (word === undefined) throw new Error(`undecodable at ${pos}`);
    pos = i + 1;
    return { payload: text.slice(0, text.length - word.length), word };
  };
  const fixed = (literal: string) => {
    if (!s.startsWith(literal, pos)) throw new Error(`expected ${literal} at ${pos}`);
    pos += literal.length;
    const token = next(false);
    if (token.payload !== "") throw new Error(`unexpected ${token.payload}`);
    return token.word;
  };
  if (!s.startsWith("base_digest:")) throw new Error("no base_digest");
  pos = "base_digest:".length;
  const out: ReturnType<typeof decode> = {
    base_image_digest: "",
    resolved_packages: [],
    resolved_apps: [],
    hardware_gpu: false,
    hardware_audio: false,
    mounts: [],
    runtime_backend: "",
    network_isolation: false,
    cpu_shares: null,
    memory_limit_mb: null,
  };
  let token = next(true);
  out.base_image_digest = token.payload;
  let word = token.word;
  while (word === "pkg") {
    const at = s.indexOf("@", pos);
    const name = s.slice(pos, at);
    pos = at + 1;
    token = next(true);
    out.resolved_packages.push({ name, version: token.payload });
    word = token.word;
  }
  while (word === "app") {
    token = next(false);
    out.resolved_apps.push(token.payload);
    word = token.word;
  }
  if (word === "hw" && s.startsWith("gpu", pos)) {
    out.hardware_gpu = true;
    word = fixed("gpu");
  }
  if (word === "hw") {
    out.hardware_audio = true;
    word = fixed("audio");
  }
  while (word === "mount") {
    const labelEnd = s.indexOf(":", pos);
    const hostEnd = s.indexOf(":", labelEnd + 1);
    const label = s.slice(pos, labelEnd);
    const host = s.slice(labelEnd + 1, hostEnd);
    pos = hostEnd + 1;
    token = next(false);
    out.mounts.push({ label, host_path: host, container_path: token.payload });
    word = token.word;
  }
  if (word !== "backend") throw new Error("no backend");
  token = next(false);
  out.runtime_backend = token.payload;
  word = token.word;
  if (word === "net") {
    out.network_isolation = true;
    word = s.startsWith("isolated", pos) ? fixed("isolated") : undefined;
  }
  if (word === "cpu") {
    token = next(false);
    out.cpu_shares = Number(token.payload);
    word = token.word;
  }
  if (word === "mem") {
    token = next(false);
    out.memory_limit_mb = Number(token.payload);
  }
  return out;
}

describe("the identity input decodes uniquely for every lock the rules accept", () => {
  // Adversarial pieces: the contract's own words, digits, separators.
  const PIECES = ["pkg", "app", "hw", "gpu", "audio", "mount", "backend", "net", "isolated", "cpu", "mem", "1", "9", ":", "@", ".", "-", "+", "~", "/", " ", "é", "x"];

  test("2000 random valid locks round-trip through identityInput", () => {
    const random = seededRandom(99);
    const word = (max: number) => Array.from({ length: 1 + Math.floor(random() * max) }, () => PIECES[Math.floor(random() * PIECES.length)]).join("");
    const valid = (check: (v: string) => string | undefined) => {
      for (;;) {
        const candidate = word(5);
        if (check(candidate) === undefined) return candidate;
      }
    };
    let checked = 0;
    for (let i = 0; i < 2000; i++) {
      const l = lock({
        base_image_digest: valid(checkResolvedToken),
        resolved_packages: Array.from({ length: Math.floor(random() * 3) }, () => ({ name: valid(checkPackageName), version: valid(checkResolvedToken) })),
        resolved_apps: Array.from({ length: Math.floor(random() * 3) }, () => valid(checkAppName)),
        hardware_gpu: random() < 0.5,
        hardware_audio: random() < 0.5,
        mounts: Array.from({ length: Math.floor(random() * 3) }, () => ({
          label: valid(checkMountLabel),
          host_path: valid((v) => (v.includes(":") ? "colon" : checkHostPath(v))),
          container_path: `/${valid((v) => checkContainerPath(`/${v}`))}`,
        })),
        runtime_backend: (["namespace", "oci", "mock"] as const)[Math.floor(random() * 3)],
        network_isolation: random() < 0.5,
        cpu_shares: random() < 0.5 ? Math.floor(random() * 5000) : null,
        memory_limit_mb: random() < 0.5 ? Math.floor(random() * 5000) : null,
      });
      const { lock_version: _v, env_id: _e, short_id: _s, base_image: _b, ...fields } = l;
      expect(decode(identityInput(l))).toEqual(fields);
      checked++;
    }
    expect(checked).toBe(2000);
  });
});

describe("Rust-compatible string primitives", () => {
  test("compareUtf8 orders like UTF-8 bytes (Rust's Ord for String), unlike JS <", () => {
    const random = seededRandom(5);
    const alphabet = ["a", "Z", "é", "\uE000", "\uFFFD", "\u{1F600}", "\u{10FFFF}", "\u0000", "~"];
    for (let i = 0; i < 3000; i++) {
      const make = () => Array.from({ length: Math.floor(random() * 4) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      const a = make();
      const b = make();
      expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }
    expect("\u{1F600}" < "\uE000").toBe(true); // JavaScript's order...
    expect(compareUtf8("\u{1F600}", "\uE000")).toBeGreaterThan(0); // ...is not Rust's.
  });

  test("rustTrim strips Rust's whitespace set: U+0085 yes, U+FEFF no (JavaScript's trim does the opposite)", () => {
    expect(rustTrim("\u0085x\u3000")).toBe("x");
    expect(rustTrim("\ufeffx")).toBe("\ufeffx");
    expect("\u0085x".trim()).toBe("\u0085x");
    expect("\ufeffx".trim()).toBe("x");
  });
});
