/**
 * Writing a karapace.toml from values (for `karapace new`'s interactive
 * answers). Only the sections that differ from the defaults are written,
 * in the order the reference's examples use.
 */
import { tomlString } from "./toml-write.ts";
import type { ManifestDocument } from "./types.ts";

/** The manifest as `karapace new` edits it: plain values, defaults filled in. */
export interface ManifestDraft {
  image: string;
  packages: string[];
  apps: string[];
  gpu: boolean;
  audio: boolean;
  /** `[label, "host:container"]`, in the order to write them. */
  mounts: Array<[string, string]>;
  backend: string;
  networkIsolation: boolean;
  cpuShares: number | null;
  memoryLimitMb: number | null;
}

export function draftFromDocument(doc: ManifestDocument): ManifestDraft {
  const limits = doc.runtime?.resource_limits;
  return {
    image: doc.base.image,
    packages: [...(doc.system?.packages ?? [])],
    apps: [...(doc.gui?.apps ?? [])],
    gpu: doc.hardware?.gpu ?? false,
    audio: doc.hardware?.audio ?? false,
    mounts: Object.entries(doc.mounts ?? {}),
    backend: doc.runtime?.backend ?? "namespace",
    networkIsolation: doc.runtime?.network_isolation ?? false,
    cpuShares: limits?.cpu_shares === undefined ? null : Number(limits.cpu_shares),
    memoryLimitMb: limits?.memory_limit_mb === undefined ? null : Number(limits.memory_limit_mb),
  };
}

function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

function inlineArray(values: readonly string[]): string {
  return `[${values.map(tomlString).join(", ")}]`;
}

/** TOML text for `draft`, optionally under a comment header (each line gets `# `). */
export function renderManifest(draft: ManifestDraft, header?: string): string {
  const sections: string[] = [];
  if (header !== undefined) sections.push(header.split("\n").map((line) => (line === "" ? "#" : `# ${line}`)).join("\n"));
  sections.push("manifest_version = 1");
  sections.push(`[base]\nimage = ${tomlString(draft.image)}`);
  if (draft.packages.length > 0) sections.push(`[system]\npackages = ${inlineArray(draft.packages)}`);
  if (draft.apps.length > 0) sections.push(`[gui]\napps = ${inlineArray(draft.apps)}`);
  if (draft.gpu || draft.audio) sections.push(`[hardware]\ngpu = ${draft.gpu}\naudio = ${draft.audio}`);
  if (draft.mounts.length > 0) {
    sections.push(`[mounts]\n${draft.mounts.map(([label, spec]) => `${tomlKey(label)} = ${tomlString(spec)}`).join("\n")}`);
  }
  sections.push(`[runtime]\nbackend = ${tomlString(draft.backend)}\nnetwork_isolation = ${draft.networkIsolation}`);
  if (draft.cpuShares !== null || draft.memoryLimitMb !== null) {
    const lines = ["[runtime.resource_limits]"];
    if (draft.cpuShares !== null) lines.push(`cpu_shares = ${draft.cpuShares}`);
    if (draft.memoryLimitMb !== null) lines.push(`memory_limit_mb = ${draft.memoryLimitMb}`);
    sections.push(lines.join("\n"));
  }
  return `${sections.join("\n\n")}\n`;
}
