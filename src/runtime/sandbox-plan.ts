/**
 * The contract between host integration / security policy (src/runtime/host/,
 * src/runtime/policy/) and the namespace backend (src/runtime/namespace/).
 * Policy decides *what* the sandbox gets; the backend only carries it out, in
 * the order given, so every mount and variable is decided (and refused) in one
 * place that can be tested without namespaces.
 */

/** A host path bound into the environment. */
export interface BindMount {
  /** Absolute, canonical host path (symlinks resolved, no `..`). */
  source: string;
  /** Absolute path inside the environment. */
  target: string;
  readOnly: boolean;
  /** The source is a file or socket, not a directory (the target is created as a file). */
  file: boolean;
  /** Why it is there, for `--verbose` and error messages: "mount 'work'", "wayland socket", ... */
  reason: string;
}

export interface ResourceLimits {
  cpuShares: number | null;
  memoryLimitMb: number | null;
}

export interface SandboxPlan {
  /** Manifest mounts and host integration binds, in mount order. */
  binds: BindMount[];
  /** Device nodes (or directories of them, e.g. /dev/dri) bound from the host. */
  devices: string[];
  /** The environment variables the process inside starts with (already filtered). */
  env: Record<string, string>;
  /** true: a fresh network namespace with only `lo`. */
  isolateNetwork: boolean;
  limits: ResourceLimits;
  /** Things asked for that this host cannot give, each one line, shown as warnings. */
  warnings: string[];
}
