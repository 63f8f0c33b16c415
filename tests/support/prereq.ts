/**
 * Prerequisite checks for tests and benchmarks. A test whose prerequisite is missing
 * must fail with a message naming it (never skip), so every check here throws.
 */

/** Debian package that provides each tool we use, for the install hint. */
const APT_PACKAGE: Readonly<Record<string, string>> = {
  b3sum: "b3sum",
  busybox: "busybox-static",
  crun: "crun",
  debootstrap: "debootstrap",
  fish: "fish",
  "fuse-overlayfs": "fuse-overlayfs",
  git: "git",
  newgidmap: "uidmap",
  newuidmap: "uidmap",
  tar: "tar",
  time: "time",
  unshare: "util-linux",
  xargs: "findutils",
  find: "findutils",
  xz: "xz-utils",
  zsh: "zsh",
};

export class MissingPrerequisiteError extends Error {
  override readonly name = "MissingPrerequisiteError";
}

export function missingPrerequisite(what: string, aptPackage?: string): MissingPrerequisiteError {
  const hint = aptPackage === undefined ? "" : ` (install: apt-get install ${aptPackage})`;
  return new MissingPrerequisiteError(`missing prerequisite: ${what}${hint}`);
}

/** sbin directories are not on an unprivileged user's PATH on Debian, but debootstrap lives there. */
const SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin";

/** Absolute path of `name`, or a MissingPrerequisiteError naming the package to install. */
export function requireTool(name: string): string {
  // Bun.which() without options sees the PATH of process start, not later changes.
  const found = Bun.which(name, { PATH: process.env.PATH ?? "" }) ?? Bun.which(name, { PATH: SBIN_PATH });
  if (found === null) throw missingPrerequisite(name, APT_PACKAGE[name] ?? name);
  return found;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
