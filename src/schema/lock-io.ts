/**
 * Reading and writing karapace.lock in the reference's exact layout.
 *
 * The reference writes `toml::to_string_pretty(&LockFile)` (toml 0.8.23):
 * top-level values in struct order, `Option::None` omitted, an empty array
 * inline (`resolved_packages = []`), a non-empty array of tables moved after
 * all values as `[[resolved_packages]]` / `[[mounts]]` blocks, each preceded
 * by a blank line, and string arrays of two or more elements one per line.
 */
import { LockError } from "../errors.ts";
import { formatIssues, type Issue, typiaIssue } from "./diagnostics.ts";
import { validateLockDocument } from "./generated/validators.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { locate, type PathSegment } from "./locate.ts";
import { LOCK_VERSION } from "./lock.ts";
import { toCount } from "./normalize.ts";
import {
  BACKENDS,
  checkAppName,
  checkContainerPath,
  checkHostPath,
  checkImageName,
  checkMountLabel,
  checkPackageName,
  checkResolvedToken,
  isBackend,
} from "./rules.ts";
import { describeSourceProblem, readSourceFile } from "./source.ts";
import { quote } from "./text.ts";
import { parseToml } from "./toml-read.ts";
import { tomlString, tomlStringArray } from "./toml-write.ts";
import type { LockDocument, LockFile } from "./types.ts";

const LOCK_KEYS: ReadonlyMap<string, readonly string[]> = new Map([
  [
    "",
    [
      "lock_version",
      "env_id",
      "short_id",
      "base_image",
      "base_image_digest",
      "resolved_packages",
      "resolved_apps",
      "runtime_backend",
      "hardware_gpu",
      "hardware_audio",
      "network_isolation",
      "mounts",
      "cpu_shares",
      "memory_limit_mb",
    ],
  ],
]);
const PACKAGE_KEYS = ["name", "version"];
const MOUNT_KEYS = ["label", "host_path", "container_path"];

function allowedKeys(path: string): readonly string[] | undefined {
  if (/^resolved_packages\[\d+\]$/.test(path)) return PACKAGE_KEYS;
  if (/^mounts\[\d+\]$/.test(path)) return MOUNT_KEYS;
  return LOCK_KEYS.get(path);
}

function check(issues: Issue[], path: PathSegment[], value: string, problem: string | undefined): void {
  if (problem !== undefined) issues.push({ path, message: value === "" ? problem : `${quote(value)} ${problem}` });
}

/** The identity-safety rules applied to what a lock records (it may have been edited by hand). */
function checkLockValues(doc: LockDocument, issues: Issue[]): void {
  if (doc.lock_version !== BigInt(LOCK_VERSION)) {
    issues.push({ path: ["lock_version"], message: `unsupported lock_version ${doc.lock_version}, expected ${LOCK_VERSION}` });
  }
  check(issues, ["base_image"], doc.base_image, checkImageName(doc.base_image));
  check(issues, ["base_image_digest"], doc.base_image_digest, checkResolvedToken(doc.base_image_digest));
  doc.resolved_packages.forEach((pkg, i) => {
    check(issues, ["resolved_packages", i, "name"], pkg.name, checkPackageName(pkg.name));
    check(issues, ["resolved_packages", i, "version"], pkg.version, checkResolvedToken(pkg.version));
  });
  doc.resolved_apps.forEach((app, i) => check(issues, ["resolved_apps", i], app, checkAppName(app)));
  if (!isBackend(doc.runtime_backend)) {
    issues.push({ path: ["runtime_backend"], message: `expected one of ${BACKENDS.join(", ")}, found ${quote(doc.runtime_backend)}` });
  }
  (doc.mounts ?? []).forEach((m, i) => {
    check(issues, ["mounts", i, "label"], m.label, checkMountLabel(m.label));
    const hostProblem = m.host_path.includes(":") ? "contains ':', which separates fields in the environment identity" : checkHostPath(m.host_path);
    check(issues, ["mounts", i, "host_path"], m.host_path, hostProblem);
    check(issues, ["mounts", i, "container_path"], m.container_path, checkContainerPath(m.container_path));
  });
}

/** Parses and validates lock text; `file` is only used in messages. */
export function parseLock(text: string, file: string): LockFile {
  const fail = (issues: readonly Issue[]): never => {
    throw new LockError(formatIssues(file, issues, (issue) => locate(text, issue.path)), {
      hint: "run 'karapace build' to write a fresh karapace.lock",
    });
  };
  const toml = parseToml(text);
  if (!toml.ok) return fail([toml.issue]);
  const validation = validateLockDocument(toml.value);
  if (!validation.success) return fail(validation.errors.map((error) => typiaIssue(error, allowedKeys)));
  const doc = validation.data;
  const issues: Issue[] = [];
  checkLockValues(doc, issues);
  const cpuShares = toCount(doc.cpu_shares, ["cpu_shares"], issues);
  const memoryLimit = toCount(doc.memory_limit_mb, ["memory_limit_mb"], issues);
  if (issues.length > 0) return fail(issues);
  return {
    lock_version: LOCK_VERSION,
    env_id: doc.env_id,
    short_id: doc.short_id,
    base_image: doc.base_image,
    base_image_digest: doc.base_image_digest,
    resolved_packages: doc.resolved_packages.map((p) => ({ name: p.name, version: p.version })),
    resolved_apps: [...doc.resolved_apps],
    runtime_backend: doc.runtime_backend,
    hardware_gpu: doc.hardware_gpu,
    hardware_audio: doc.hardware_audio,
    network_isolation: doc.network_isolation,
    mounts: (doc.mounts ?? []).map((m) => ({ label: m.label, host_path: m.host_path, container_path: m.container_path })),
    cpu_shares: cpuShares,
    memory_limit_mb: memoryLimit,
  };
}

/** Reads and validates a lock file (at most 1 MiB). */
export function readLockFile(path: string): LockFile {
  const source = readSourceFile(path);
  if (!source.ok) throw new LockError(describeSourceProblem(path, "lock file", source.problem));
  return parseLock(source.text, path);
}

/** The lock as the reference's `toml::to_string_pretty` writes it, byte for byte. */
export function renderLock(lock: LockFile): string {
  const lines = [
    `lock_version = ${lock.lock_version}`,
    `env_id = ${tomlString(lock.env_id)}`,
    `short_id = ${tomlString(lock.short_id)}`,
    `base_image = ${tomlString(lock.base_image)}`,
    `base_image_digest = ${tomlString(lock.base_image_digest)}`,
  ];
  if (lock.resolved_packages.length === 0) lines.push("resolved_packages = []");
  lines.push(
    `resolved_apps = ${tomlStringArray(lock.resolved_apps)}`,
    `runtime_backend = ${tomlString(lock.runtime_backend)}`,
    `hardware_gpu = ${lock.hardware_gpu}`,
    `hardware_audio = ${lock.hardware_audio}`,
    `network_isolation = ${lock.network_isolation}`,
  );
  if (lock.mounts.length === 0) lines.push("mounts = []");
  if (lock.cpu_shares !== null) lines.push(`cpu_shares = ${lock.cpu_shares}`);
  if (lock.memory_limit_mb !== null) lines.push(`memory_limit_mb = ${lock.memory_limit_mb}`);
  for (const pkg of lock.resolved_packages) {
    lines.push("", "[[resolved_packages]]", `name = ${tomlString(pkg.name)}`, `version = ${tomlString(pkg.version)}`);
  }
  for (const m of lock.mounts) {
    lines.push(
      "",
      "[[mounts]]",
      `label = ${tomlString(m.label)}`,
      `host_path = ${tomlString(m.host_path)}`,
      `container_path = ${tomlString(m.container_path)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Writes the lock atomically (temp file, fsync, rename, fsync of the directory). */
export function writeLockFile(path: string, lock: LockFile): void {
  writeFileAtomic(path, renderLock(lock));
}
