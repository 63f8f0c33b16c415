import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realHostFs, type HostFs, type PathKind } from "../../src/runtime/host/host-fs.ts";
import { type PlanContext, policyForManifest, type SecurityPolicy } from "../../src/runtime/policy/index.ts";
import { parseManifest } from "../../src/schema/manifest.ts";
import type { NormalizedManifest } from "../../src/schema/types.ts";

export function manifestOf(body: string): NormalizedManifest {
  return parseManifest(`manifest_version = 1\n[base]\nimage = "debian/bookworm"\n${body}`).normalized;
}

/** A temp directory (canonical path), removed by the returned cleanup. */
export function tempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `karapace-${label}-`)));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The real filesystem with a few host paths described on top: how a test
 * shows planSandbox a GPU or an X server this CI machine does not have.
 */
export function hostWith(extra: Record<string, PathKind>, listings: Record<string, string[]> = {}): HostFs {
  return {
    kind: (path) => extra[path] ?? realHostFs.kind(path),
    realpath: (path) => (extra[path] !== undefined ? path : realHostFs.realpath(path)),
    list: (dir) => listings[dir] ?? realHostFs.list(dir),
  };
}

export function context(manifest: NormalizedManifest, over: Partial<PlanContext> = {}): PlanContext {
  return {
    manifest,
    manifestDir: over.manifestDir ?? "/nonexistent-project",
    hostEnv: {},
    home: "/nonexistent-home/user",
    uid: 1000,
    gid: 1000,
    purpose: "exec",
    ...over,
  };
}

export function policyWith(manifest: NormalizedManifest, over: Partial<SecurityPolicy>): SecurityPolicy {
  return { ...policyForManifest(manifest), ...over };
}
