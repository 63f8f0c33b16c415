/**
 * The shapes of karapace.toml and karapace.lock. Field names are snake_case on
 * purpose: they are the on-disk keys and the canonical-JSON keys of the
 * reference (crates/karapace-schema), and keeping them verbatim means no
 * mapping layer can drift from the formats.
 *
 * The `*Document` types describe a freshly parsed TOML file and are what the
 * typia validators (generated ahead of time, see typia-input/) check: every
 * table is closed, so an unknown key anywhere except [mounts] is an error, as
 * with serde's `deny_unknown_fields` in the reference. TOML integers arrive as
 * `bigint` (the parser is told to keep them exact), which also tells them
 * apart from floats: `cpu_shares = 1024.0` is a type error, as in the reference.
 */

/** karapace.toml, version 1, as parsed. Optional sections take the reference's defaults. */
export interface ManifestDocument {
  manifest_version: bigint;
  base: BaseSection;
  system?: SystemSection;
  gui?: GuiSection;
  hardware?: HardwareSection;
  /** Free-form `label = "host:container"`; the only open table. */
  mounts?: Record<string, string>;
  runtime?: RuntimeSection;
}

export interface BaseSection {
  image: string;
}

export interface SystemSection {
  packages?: string[];
}

export interface GuiSection {
  apps?: string[];
}

export interface HardwareSection {
  gpu?: boolean;
  audio?: boolean;
}

export interface RuntimeSection {
  backend?: string;
  network_isolation?: boolean;
  resource_limits?: ResourceLimitsSection;
}

export interface ResourceLimitsSection {
  cpu_shares?: bigint;
  memory_limit_mb?: bigint;
}

/** karapace.lock, version 2, as parsed (the reference's `LockFile`). */
export interface LockDocument {
  lock_version: bigint;
  env_id: string;
  short_id: string;
  base_image: string;
  base_image_digest: string;
  resolved_packages: ResolvedPackage[];
  resolved_apps: string[];
  runtime_backend: string;
  hardware_gpu: boolean;
  hardware_audio: boolean;
  network_isolation: boolean;
  mounts?: NormalizedMount[];
  cpu_shares?: bigint;
  memory_limit_mb?: bigint;
}

/** A package pinned to the version the resolver found. */
export interface ResolvedPackage {
  name: string;
  version: string;
}

/** One `[mounts]` entry after normalization. */
export interface NormalizedMount {
  label: string;
  host_path: string;
  container_path: string;
}

/**
 * The reference's `NormalizedManifest`: defaults resolved, strings trimmed,
 * lists sorted and deduplicated. Property order is the canonical-JSON order.
 */
export interface NormalizedManifest {
  manifest_version: number;
  base_image: string;
  system_packages: string[];
  gui_apps: string[];
  hardware_gpu: boolean;
  hardware_audio: boolean;
  mounts: NormalizedMount[];
  runtime_backend: string;
  network_isolation: boolean;
  cpu_shares: number | null;
  memory_limit_mb: number | null;
}

/** A validated karapace.lock. Property order is the reference's serialization order. */
export interface LockFile {
  lock_version: number;
  env_id: string;
  short_id: string;
  base_image: string;
  base_image_digest: string;
  resolved_packages: ResolvedPackage[];
  resolved_apps: string[];
  runtime_backend: string;
  hardware_gpu: boolean;
  hardware_audio: boolean;
  network_isolation: boolean;
  mounts: NormalizedMount[];
  cpu_shares: number | null;
  memory_limit_mb: number | null;
}

/** What dependency resolution against a base image produced. */
export interface ResolutionResult {
  /** Content digest of the base image. */
  base_image_digest: string;
  /** Every declared package with the version installed. */
  resolved_packages: ResolvedPackage[];
}

/** An environment's identity: the 64-hex blake3 and its first 12 characters. */
export interface EnvIdentity {
  env_id: string;
  short_id: string;
}
