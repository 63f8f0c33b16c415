/**
 * The manifest's [mounts] checked against the policy and turned into binds.
 *
 * A host path is allowed when its canonical form lies inside one of:
 *   - the policy's prefixes (default /home and /tmp), each also in its own
 *     canonical form (on hosts where /home is a symlink to /var/home);
 *   - the user's home directory;
 *   - for a path written relative to the manifest, the manifest's directory.
 * Whatever the policy says, `/`, /proc, /sys and /dev are never bound (a
 * device reaches a sandbox only through the device policy), nor is a device
 * node. Inside the sandbox, nothing may be bound over `/`, /proc, /dev or
 * /sys, which the sandbox mounts for itself.
 *
 * Refusals are RuntimeErrors (exit 1), as the reference's MountDenied is;
 * a manifest that contradicts itself (two mounts on one target) is a
 * ManifestError (exit 2).
 */
import { ManifestError, RuntimeError } from "../../errors.ts";
import type { NormalizedManifest } from "../../schema/types.ts";
import type { HostFs } from "../host/host-fs.ts";
import type { BindMount } from "../sandbox-plan.ts";
import { printable } from "./env.ts";
import { canonicalize, expandHostPath, isWithin, normalizeAbsolute } from "./paths.ts";
import type { SecurityPolicy } from "./security-policy.ts";

/** Host trees no mount may expose, whatever the prefixes allow. */
export const NEVER_MOUNTED_HOST_ROOTS: readonly string[] = ["/proc", "/sys", "/dev"];

/** Paths inside the sandbox that belong to the sandbox itself. */
export const RESERVED_TARGETS: readonly string[] = ["/proc", "/dev", "/sys"];

export interface MountContext {
  manifest: NormalizedManifest;
  manifestDir: string;
  home: string;
  policy: SecurityPolicy;
  fs: HostFs;
}

export interface MountPlan {
  binds: BindMount[];
  warnings: string[];
}

interface AllowedRoot {
  root: string;
  /** Shown in messages: the prefix as configured. */
  shown: string;
}

function allowedRoots(ctx: MountContext): AllowedRoot[] {
  const roots: AllowedRoot[] = [];
  const add = (path: string, shown: string): void => {
    const normal = normalizeAbsolute(path);
    const canonical = canonicalize(normal, ctx.fs);
    // A home of "/" (some service accounts) must not open the whole host.
    for (const root of new Set([normal, canonical])) if (root !== "/") roots.push({ root, shown });
  };
  for (const prefix of ctx.policy.allowedMountPrefixes) add(prefix, prefix);
  if (ctx.home.startsWith("/")) add(ctx.home, `${ctx.home} (your home)`);
  return roots;
}

function describeRoots(roots: readonly AllowedRoot[]): string {
  return [...new Set(roots.map((r) => r.shown))].join(", ");
}

/** Checks every manifest mount; returns the binds (missing sources become warnings). */
export function planManifestMounts(ctx: MountContext): MountPlan {
  const roots = allowedRoots(ctx);
  const manifestDir = canonicalize(ctx.manifestDir, ctx.fs);
  const binds: BindMount[] = [];
  const warnings: string[] = [];
  const targets = new Map<string, string>();

  for (const mount of ctx.manifest.mounts) {
    const what = `mount '${printable(mount.label)}'`;
    const target = checkTarget(mount.container_path, what);
    const other = targets.get(target);
    if (other !== undefined) {
      throw new ManifestError(`${what} and mount '${printable(other)}' both bind to ${target}`, {
        hint: "give each mount its own container path in [mounts]",
      });
    }
    targets.set(target, mount.label);

    const expanded = expandHostPath(mount.host_path, manifestDir, ctx.home);
    const source = canonicalize(expanded.path, ctx.fs);
    const shownSource = source === expanded.path ? source : `${expanded.path} (resolves to ${source})`;
    const denied = source === "/" ? "/" : NEVER_MOUNTED_HOST_ROOTS.find((root) => isWithin(source, root));
    if (denied !== undefined) {
      throw new RuntimeError(`${what}: ${shownSource} is never mounted into an environment (${denied === "/" ? "the host's root" : `${denied} belongs to the host`})`, {
        hint: "bind a directory of your own under one of the allowed directories instead; GPUs and sound cards come from [hardware]",
      });
    }
    const insideManifestDir = expanded.relative && isWithin(source, manifestDir);
    if (!insideManifestDir && !roots.some((r) => isWithin(source, r.root))) {
      throw new RuntimeError(`${what}: ${shownSource} is outside the allowed directories (${describeRoots(roots)})`, {
        hint: `move what you want to share under ${describeRoots(roots)}, or use a path relative to the manifest's directory (${manifestDir})`,
      });
    }

    const kind = ctx.fs.kind(source);
    if (kind === "missing") {
      warnings.push(`${what}: ${source} does not exist; not mounted`);
      continue;
    }
    if (kind === "char-device" || kind === "block-device") {
      throw new RuntimeError(`${what}: ${shownSource} is a device node, which only the device policy may bind`, {
        hint: "set hardware.gpu or hardware.audio in the manifest for GPU or sound devices",
      });
    }
    binds.push({ source, target, readOnly: false, file: kind !== "dir", reason: what });
  }
  return { binds, warnings };
}

/** A container path, absolute and normalized, refused if it covers what the sandbox mounts itself. */
export function checkTarget(containerPath: string, what: string): string {
  if (!containerPath.startsWith("/")) {
    throw new ManifestError(`${what}: container path '${printable(containerPath)}' is not absolute`, { hint: "write it from the root, e.g. /workspace" });
  }
  const target = normalizeAbsolute(containerPath);
  if (target === "/") {
    throw new RuntimeError(`${what}: cannot bind over the environment's root directory`, { hint: "choose a directory such as /workspace" });
  }
  const reserved = RESERVED_TARGETS.find((root) => isWithin(target, root));
  if (reserved !== undefined) {
    throw new RuntimeError(`${what}: ${target} is inside ${reserved}, which the sandbox mounts for itself`, {
      hint: "choose a container path outside /proc, /dev and /sys",
    });
  }
  return target;
}
