/**
 * What a name, path or resolved token may contain so that the identity input
 * stays unambiguous. The identity concatenates `pkg:<name>@<version>`,
 * `app:<name>`, `mount:<label>:<host>:<container>` and friends WITHOUT
 * separators (docs/manifest.md, "Why some characters are refused", has the
 * argument in full). In short, every token starts with a lowercase word and a
 * ':' (`pkg:`, `app:`, `hw:`, `mount:`, `backend:`, `net:`, `cpu:`, `mem:`),
 * none of these words is a suffix of another, so a reader can find where one
 * token ends as long as:
 *   - package names contain no '@' (the name ends at the first '@');
 *   - app names, mount labels and mount paths contain no ':' (their ':'s are
 *     all structural);
 *   - versions and the base digest use ':' only right after a digit (an epoch
 *     `1:2.39`, an algorithm `sha256:...`); a token's ':' always follows a letter.
 * Each check returns a problem description, or undefined when the value is fine.
 */
import { describeChar, hasLoneSurrogate, isControl, isInvisibleFormat, isRustWhitespace } from "./text.ts";

export const BACKENDS = ["namespace", "oci", "mock"] as const;
export type Backend = (typeof BACKENDS)[number];

export function isBackend(value: string): value is Backend {
  return (BACKENDS as readonly string[]).includes(value);
}

interface CharPolicy {
  /** Whitespace inside the value (after trimming) is refused. */
  noWhitespace: boolean;
  /** Invisible formatting characters are refused. */
  noInvisible: boolean;
  /** Characters refused outright, with the reason. */
  forbidden?: Readonly<Record<string, string>>;
  /** ':' allowed only immediately after an ASCII digit. */
  colonAfterDigitOnly?: boolean;
}

const SEPARATES_NAME_AND_VERSION = "which separates name and version in the environment identity";
const SEPARATES_FIELDS = "which separates fields in the environment identity";

// Printable ASCII (with or without the space): nothing but the forbidden characters can be wrong.
const PLAIN = /^[\x21-\x7e]*$/;
const PLAIN_WITH_SPACE = /^[\x20-\x7e]*$/;

function colonProblem(value: string, policy: CharPolicy): string | undefined {
  if (policy.colonAfterDigitOnly !== true) return undefined;
  for (let i = value.indexOf(":"); i >= 0; i = value.indexOf(":", i + 1)) {
    const previous = value.charCodeAt(i - 1);
    if (!(previous >= 0x30 && previous <= 0x39)) {
      return "contains ':' that does not follow a digit (only an epoch like '1:2.0' or an algorithm like 'sha256:' may use ':')";
    }
  }
  return undefined;
}

function scan(value: string, policy: CharPolicy): string | undefined {
  // Fast path for the common case; it matters when a manifest lists thousands of packages.
  if ((policy.noWhitespace ? PLAIN : PLAIN_WITH_SPACE).test(value)) {
    for (const ch in policy.forbidden) {
      if (value.includes(ch)) return `contains '${ch}', ${policy.forbidden[ch]}`;
    }
    return colonProblem(value, policy);
  }
  return scanSlowly(value, policy);
}

function scanSlowly(value: string, policy: CharPolicy): string | undefined {
  if (hasLoneSurrogate(value)) return "is not valid Unicode (unpaired surrogate)";
  for (let i = 0; i < value.length; i++) {
    const code = value.codePointAt(i) ?? 0;
    if (code > 0xffff) {
      i++;
      continue;
    }
    const ch = value[i] ?? "";
    if (isControl(code)) return `contains the control character ${describeChar(code)}`;
    if (policy.noWhitespace && isRustWhitespace(code)) return `contains whitespace (${describeChar(code)}); write one name per entry`;
    if (policy.noInvisible && isInvisibleFormat(code)) return `contains the invisible character ${describeChar(code)}`;
    const reason = policy.forbidden?.[ch];
    if (reason !== undefined) return `contains '${ch}', ${reason}`;
  }
  return colonProblem(value, policy);
}

const PACKAGE_POLICY: CharPolicy = { noWhitespace: true, noInvisible: true, forbidden: { "@": SEPARATES_NAME_AND_VERSION } };
const APP_POLICY: CharPolicy = { noWhitespace: true, noInvisible: true, forbidden: { ":": SEPARATES_FIELDS } };
const LABEL_POLICY: CharPolicy = { noWhitespace: false, noInvisible: true, forbidden: { ":": SEPARATES_FIELDS } };
const HOST_POLICY: CharPolicy = { noWhitespace: false, noInvisible: true };
const CONTAINER_POLICY: CharPolicy = { noWhitespace: false, noInvisible: true, forbidden: { ":": SEPARATES_FIELDS } };
const TOKEN_POLICY: CharPolicy = {
  noWhitespace: true,
  noInvisible: true,
  forbidden: { "@": SEPARATES_NAME_AND_VERSION },
  colonAfterDigitOnly: true,
};
const IMAGE_POLICY: CharPolicy = { noWhitespace: true, noInvisible: true };

function notAnOption(value: string): string | undefined {
  // Names reach package managers' argv; a leading '-' would be read as an option.
  return value.startsWith("-") ? "starts with '-', which a package manager would read as an option" : undefined;
}

/** A system package name, trimmed. ':' stays allowed for Debian's `libc6:i386`. */
export function checkPackageName(name: string): string | undefined {
  if (name === "") return "is empty";
  return scan(name, PACKAGE_POLICY) ?? notAnOption(name);
}

/** A GUI app name, trimmed. */
export function checkAppName(name: string): string | undefined {
  if (name === "") return "is empty";
  return scan(name, APP_POLICY) ?? notAnOption(name);
}

/** A mount label (the key in [mounts]), trimmed. Inner spaces are harmless here: a label is never an argument. */
export function checkMountLabel(label: string): string | undefined {
  if (label === "") return "is empty";
  return scan(label, LABEL_POLICY);
}

/** The host side of a mount, trimmed; it cannot hold ':' because the spec is split at the first one. */
export function checkHostPath(path: string): string | undefined {
  if (path === "") return "is empty";
  return scan(path, HOST_POLICY);
}

/** The container side of a mount, trimmed. Spaces are fine inside paths; ':' is not. */
export function checkContainerPath(path: string): string | undefined {
  if (path === "") return "is empty";
  const problem = scan(path, CONTAINER_POLICY);
  if (problem !== undefined) return problem;
  // A relative path inside the container has no meaning the runtime could agree on.
  return path.startsWith("/") ? undefined : "is not an absolute path (it must start with '/')";
}

/** A resolved version or the base image digest: opaque, but with ':' only after a digit. */
export function checkResolvedToken(token: string): string | undefined {
  if (token === "") return "is empty";
  return scan(token, TOKEN_POLICY);
}

/** The base image name; not part of the identity, but written to the lock and shown everywhere. */
export function checkImageName(image: string): string | undefined {
  if (image === "") return "is empty";
  return scan(image, IMAGE_POLICY);
}
