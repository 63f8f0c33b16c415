/**
 * Normalization exactly as the reference's normalize.rs does it: trim, sort
 * by UTF-8 bytes and deduplicate packages and apps, split mounts at the first
 * ':' and sort them by label, lowercase the backend. On top of that, the
 * identity-safety rules of rules.ts, and no silent dropping of empty names
 * (the reference drops them; an empty entry is almost always a typo).
 */
import type { Issue } from "./diagnostics.ts";
import type { PathSegment } from "./locate.ts";
import {
  BACKENDS,
  checkAppName,
  checkContainerPath,
  checkHostPath,
  checkImageName,
  checkMountLabel,
  checkPackageName,
  isBackend,
} from "./rules.ts";
import { compareUtf8, quote, rustTrim, sortedUnique } from "./text.ts";
import type { ManifestDocument, NormalizedManifest, NormalizedMount } from "./types.ts";

const U32_MAX = 0xffff_ffffn;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** The reference's `u64` limits as a JS number can hold them exactly. */
export function toCount(value: bigint | undefined, path: PathSegment[], issues: Issue[]): number | null {
  if (value === undefined) return null;
  if (value < 0n) {
    issues.push({ path, message: `expected a non-negative integer, found integer ${value}` });
    return null;
  }
  if (value > SAFE_MAX) {
    issues.push({ path, message: `integer ${value} is too large (the limit is ${Number.MAX_SAFE_INTEGER})` });
    return null;
  }
  return Number(value);
}

function normalizeList(
  values: readonly string[] | undefined,
  path: PathSegment[],
  check: (name: string) => string | undefined,
  issues: Issue[],
): string[] {
  if (values === undefined) return [];
  const trimmed: string[] = [];
  values.forEach((value, index) => {
    const name = rustTrim(value);
    const problem = check(name);
    if (problem === undefined) trimmed.push(name);
    else issues.push({ path: [...path, index], message: `${quote(value)} ${problem}` });
  });
  return sortedUnique(trimmed);
}

function normalizeMounts(entries: Record<string, string> | undefined, issues: Issue[]): NormalizedMount[] {
  if (entries === undefined) return [];
  // The reference reads [mounts] into a BTreeMap, so entries are visited in key byte order.
  const labels = Object.keys(entries).sort(compareUtf8);
  const mounts: NormalizedMount[] = [];
  const seen = new Map<string, string>();
  for (const rawLabel of labels) {
    const spec = entries[rawLabel] ?? "";
    const path: PathSegment[] = ["mounts", rawLabel];
    const label = rustTrim(rawLabel);
    const labelProblem = checkMountLabel(label);
    if (labelProblem !== undefined) {
      issues.push({ path, message: `mount label ${quote(rawLabel)} ${labelProblem}` });
      continue;
    }
    const previous = seen.get(label);
    if (previous !== undefined) {
      issues.push({ path, message: `mount label ${quote(rawLabel)} is the same as ${quote(previous)} once trimmed` });
      continue;
    }
    seen.set(label, rawLabel);
    const colon = spec.indexOf(":");
    if (colon < 0) {
      issues.push({ path, message: `expected "<host>:<container>", found ${quote(spec)} (no ':')` });
      continue;
    }
    const host = rustTrim(spec.slice(0, colon));
    const container = rustTrim(spec.slice(colon + 1));
    const hostProblem = checkHostPath(host);
    const containerProblem = checkContainerPath(container);
    if (hostProblem !== undefined) issues.push({ path, message: `host path in ${quote(spec)} ${hostProblem}` });
    else if (containerProblem !== undefined) issues.push({ path, message: `container path in ${quote(spec)} ${containerProblem}` });
    else mounts.push({ label, host_path: host, container_path: container });
  }
  // Stable, like Rust's sort_by; labels are unique here, so the order is total.
  return mounts.sort((a, b) => compareUtf8(a.label, b.label));
}

export type NormalizeResult = { ok: true; manifest: NormalizedManifest } | { ok: false; issues: Issue[] };

/** Normalizes a validated document; every problem found is returned, in file order. */
export function normalizeDocument(doc: ManifestDocument): NormalizeResult {
  const issues: Issue[] = [];

  let manifestVersion = 1;
  if (doc.manifest_version < 0n || doc.manifest_version > U32_MAX) {
    issues.push({ path: ["manifest_version"], message: `expected an unsigned 32-bit integer, found integer ${doc.manifest_version}` });
  } else if (doc.manifest_version !== 1n) {
    issues.push({ path: ["manifest_version"], message: `unsupported manifest_version ${doc.manifest_version}, expected 1` });
  } else manifestVersion = Number(doc.manifest_version);

  const baseImage = rustTrim(doc.base.image);
  const imageProblem = checkImageName(baseImage);
  if (imageProblem !== undefined) {
    issues.push({ path: ["base", "image"], message: doc.base.image === "" ? "must not be empty" : `${quote(doc.base.image)} ${imageProblem}` });
  }

  const systemPackages = normalizeList(doc.system?.packages, ["system", "packages"], checkPackageName, issues);
  const guiApps = normalizeList(doc.gui?.apps, ["gui", "apps"], checkAppName, issues);
  const mounts = normalizeMounts(doc.mounts, issues);

  const rawBackend = doc.runtime?.backend ?? "namespace";
  const backend = rustTrim(rawBackend).toLowerCase();
  if (!isBackend(backend)) {
    issues.push({ path: ["runtime", "backend"], message: `expected one of ${BACKENDS.join(", ")}, found ${quote(rawBackend)}` });
  }

  const limits = doc.runtime?.resource_limits;
  const cpuShares = toCount(limits?.cpu_shares, ["runtime", "resource_limits", "cpu_shares"], issues);
  const memoryLimit = toCount(limits?.memory_limit_mb, ["runtime", "resource_limits", "memory_limit_mb"], issues);

  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    manifest: {
      manifest_version: manifestVersion,
      base_image: baseImage,
      system_packages: systemPackages,
      gui_apps: guiApps,
      hardware_gpu: doc.hardware?.gpu ?? false,
      hardware_audio: doc.hardware?.audio ?? false,
      mounts,
      runtime_backend: backend,
      network_isolation: doc.runtime?.network_isolation ?? false,
      cpu_shares: cpuShares,
      memory_limit_mb: memoryLimit,
    },
  };
}

function jsonStrings(values: readonly string[]): string {
  return `[${values.map((value) => JSON.stringify(value)).join(",")}]`;
}

/**
 * serde_json's compact output of the reference's NormalizedManifest, byte for
 * byte: fields in declaration order, `null` for absent limits. For strings
 * without unpaired surrogates (which normalization guarantees), JSON.stringify
 * escapes exactly what serde_json does: `"`, `\`, and control characters as
 * \b \t \n \f \r or \u00xx; '/', DEL and non-ASCII are written as they are.
 */
export function canonicalJson(manifest: NormalizedManifest): string {
  const mounts = manifest.mounts
    .map(
      (m) =>
        `{"label":${JSON.stringify(m.label)},"host_path":${JSON.stringify(m.host_path)},"container_path":${JSON.stringify(m.container_path)}}`,
    )
    .join(",");
  return (
    `{"manifest_version":${manifest.manifest_version}` +
    `,"base_image":${JSON.stringify(manifest.base_image)}` +
    `,"system_packages":${jsonStrings(manifest.system_packages)}` +
    `,"gui_apps":${jsonStrings(manifest.gui_apps)}` +
    `,"hardware_gpu":${manifest.hardware_gpu}` +
    `,"hardware_audio":${manifest.hardware_audio}` +
    `,"mounts":[${mounts}]` +
    `,"runtime_backend":${JSON.stringify(manifest.runtime_backend)}` +
    `,"network_isolation":${manifest.network_isolation}` +
    `,"cpu_shares":${manifest.cpu_shares ?? "null"}` +
    `,"memory_limit_mb":${manifest.memory_limit_mb ?? "null"}}`
  );
}
