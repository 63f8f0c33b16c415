/**
 * karapace.lock (lock_version 2): creating it from a normalized manifest and a
 * resolution, and checking it. The format and the checks are the reference's
 * (karapace-schema/src/lock.rs); lock-io.ts reads and writes the file.
 */
import { LockError } from "../errors.ts";
import { computeIdentity } from "./identity.ts";
import { compareUtf8, quote } from "./text.ts";
import type {
  EnvIdentity,
  LockFile,
  NormalizedManifest,
  NormalizedMount,
  ResolutionResult,
  ResolvedPackage,
} from "./types.ts";

export const LOCK_VERSION = 2;
export const LOCK_FILE = "karapace.lock";

/** The reference's derived `Ord` for ResolvedPackage: by name, then version, as UTF-8 bytes. */
export function compareResolvedPackages(a: ResolvedPackage, b: ResolvedPackage): number {
  return compareUtf8(a.name, b.name) || compareUtf8(a.version, b.version);
}

/** Sorted like the reference's `Vec::sort`; resolvers usually return them sorted already, so check first. */
function sortPackages(packages: ResolvedPackage[]): ResolvedPackage[] {
  for (let i = 1; i < packages.length; i++) {
    if (compareResolvedPackages(packages[i - 1] as ResolvedPackage, packages[i] as ResolvedPackage) > 0) {
      return packages.sort(compareResolvedPackages);
    }
  }
  return packages;
}

/** A lock for `manifest` as resolved by `resolution`; packages are sorted, the identity computed. */
export function lockFromResolved(manifest: NormalizedManifest, resolution: ResolutionResult): LockFile {
  const lock: LockFile = {
    lock_version: LOCK_VERSION,
    env_id: "",
    short_id: "",
    base_image: manifest.base_image,
    base_image_digest: resolution.base_image_digest,
    resolved_packages: sortPackages(resolution.resolved_packages.map((p) => ({ name: p.name, version: p.version }))),
    resolved_apps: [...manifest.gui_apps],
    runtime_backend: manifest.runtime_backend,
    hardware_gpu: manifest.hardware_gpu,
    hardware_audio: manifest.hardware_audio,
    network_isolation: manifest.network_isolation,
    mounts: manifest.mounts.map((m) => ({ ...m })),
    cpu_shares: manifest.cpu_shares,
    memory_limit_mb: manifest.memory_limit_mb,
  };
  const identity = computeIdentity(lock);
  return { ...lock, env_id: identity.env_id, short_id: identity.short_id };
}

const REBUILD_HINT =
  "run 'karapace build' to re-resolve and rewrite karapace.lock ('karapace rebuild' if an environment was built from the old lock)";

/**
 * The lock agrees with itself: its env_id is the identity of its contents
 * (the reference's `verify_integrity`), and short_id is env_id's prefix.
 */
export function verifyIntegrity(lock: LockFile, file: string = LOCK_FILE): EnvIdentity {
  const identity = computeIdentity(lock);
  if (lock.env_id !== identity.env_id) {
    throw new LockError(
      `${file}: env_id mismatch: the lock says '${lock.env_id}' but its contents hash to '${identity.env_id}'; the lock was edited or corrupted`,
      { hint: REBUILD_HINT },
    );
  }
  if (lock.short_id !== identity.short_id) {
    throw new LockError(`${file}: short_id '${lock.short_id}' is not the first 12 characters of env_id '${lock.env_id}'`, {
      hint: REBUILD_HINT,
    });
  }
  return identity;
}

function drift(file: string, what: string): never {
  throw new LockError(`${file}: manifest drift: ${what}`, { hint: REBUILD_HINT });
}

function describeMounts(mounts: readonly NormalizedMount[]): string {
  if (mounts.length === 0) return "none";
  return mounts.map((m) => `${m.label} = ${quote(`${m.host_path}:${m.container_path}`)}`).join(", ");
}

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((x, i) => same(x, b[i] as T));
}

function describeLimit(value: number | null): string {
  return value === null ? "unset" : String(value);
}

/**
 * The manifest still asks for what the lock records. First the reference's
 * `verify_manifest_intent` checks, in its order: base image, backend, every
 * declared package present in the lock, hardware policy. Then the rest of the
 * policy the identity covers, which the reference does not compare (so a
 * stale lock could build an environment the manifest no longer describes):
 * packages dropped from the manifest, apps, mounts, network isolation and
 * resource limits.
 */
export function verifyManifestIntent(lock: LockFile, manifest: NormalizedManifest, file: string = LOCK_FILE): void {
  if (lock.base_image !== manifest.base_image) {
    drift(file, `base image changed: lock has ${quote(lock.base_image)}, manifest has ${quote(manifest.base_image)}`);
  }
  if (lock.runtime_backend !== manifest.runtime_backend) {
    drift(file, `runtime backend changed: lock has ${quote(lock.runtime_backend)}, manifest has ${quote(manifest.runtime_backend)}`);
  }
  const locked = new Set(lock.resolved_packages.map((p) => p.name));
  for (const name of manifest.system_packages) {
    if (!locked.has(name)) drift(file, `package ${quote(name)} is in the manifest but not in the lock file`);
  }
  if (lock.hardware_gpu !== manifest.hardware_gpu || lock.hardware_audio !== manifest.hardware_audio) {
    drift(
      file,
      `hardware policy changed: lock has gpu=${lock.hardware_gpu} audio=${lock.hardware_audio}, manifest has gpu=${manifest.hardware_gpu} audio=${manifest.hardware_audio}`,
    );
  }
  const declared = new Set(manifest.system_packages);
  for (const pkg of lock.resolved_packages) {
    if (!declared.has(pkg.name)) drift(file, `package ${quote(pkg.name)} is in the lock file but no longer in the manifest`);
  }
  const lockApps = [...lock.resolved_apps].sort(compareUtf8);
  if (!sameList(lockApps, manifest.gui_apps, (a, b) => a === b)) {
    drift(file, `gui apps changed: lock has [${lockApps.map(quote).join(", ")}], manifest has [${manifest.gui_apps.map(quote).join(", ")}]`);
  }
  const lockMounts = [...lock.mounts].sort((a, b) => compareUtf8(a.label, b.label));
  const sameMount = (a: NormalizedMount, b: NormalizedMount) =>
    a.label === b.label && a.host_path === b.host_path && a.container_path === b.container_path;
  if (!sameList(lockMounts, manifest.mounts, sameMount)) {
    drift(file, `mounts changed: lock has ${describeMounts(lockMounts)}, manifest has ${describeMounts(manifest.mounts)}`);
  }
  if (lock.network_isolation !== manifest.network_isolation) {
    drift(file, `network isolation changed: lock has ${lock.network_isolation}, manifest has ${manifest.network_isolation}`);
  }
  if (lock.cpu_shares !== manifest.cpu_shares) {
    drift(file, `cpu_shares changed: lock has ${describeLimit(lock.cpu_shares)}, manifest has ${describeLimit(manifest.cpu_shares)}`);
  }
  if (lock.memory_limit_mb !== manifest.memory_limit_mb) {
    drift(
      file,
      `memory_limit_mb changed: lock has ${describeLimit(lock.memory_limit_mb)}, manifest has ${describeLimit(manifest.memory_limit_mb)}`,
    );
  }
}
