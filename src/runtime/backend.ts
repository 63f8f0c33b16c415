/**
 * What the Engine needs from a runtime: the reference's RuntimeBackend trait
 * (karapace-runtime/src/backend.rs), with one change of shape. The reference
 * resolves in a throw-away overlay and then installs again for the build; here
 * the Engine hands both calls the same scratch directory (`envDir`, in the
 * store's staging area), so a backend that must install packages to learn their
 * versions can do so once in `resolve` and finish in `build`. The Engine moves
 * the finished directory under env/<env_id> only after both have succeeded.
 *
 * exec and enter stream: the command's output goes straight to our stdout
 * and stderr, and its exit code comes back.
 *
 * Backends are loaded on demand (selectBackend imports only the one asked for).
 */
import { RuntimeError } from "../errors.ts";
import type { NormalizedManifest, ResolutionResult, ResolvedPackage } from "../schema/types.ts";

/** What resolve() gets: the manifest and a scratch directory it may install into. */
export interface ResolveSpec {
  manifest: NormalizedManifest;
  /** Scratch env directory (upper/, work/, merged/ go inside); it may not exist yet. */
  envDir: string;
  storeRoot: string;
  offline: boolean;
  /** The manifest's directory (relative mount paths are resolved against it). */
  manifestDir?: string;
  /** --locked: install exactly these versions. */
  locked?: readonly ResolvedPackage[];
}

/** What build() gets: the same, plus the identity the resolution produced. */
export interface BuildSpec extends ResolveSpec {
  envId: string;
  resolution: ResolutionResult;
}

/** An environment that exists (for enter, exec, destroy). */
export interface RuntimeSpec {
  envId: string;
  envDir: string;
  storeRoot: string;
  manifest: NormalizedManifest;
  offline: boolean;
  /** The environment's name, if it has one (the sandbox's hostname). */
  name?: string | null;
}

export interface RuntimeStatus {
  envId: string;
  running: boolean;
  pid: number | null;
}

/**
 * How a command inside is wired: its stdout and stderr are always ours
 * (streamed, never buffered); stdin is ours unless told otherwise.
 */
export interface ExecIO {
  stdin?: "inherit" | "ignore";
  /** Called once the sandbox process exists, with its pid (what `stop` signals). */
  onStart?: (pid: number) => void;
}

export interface ExecResult {
  /** The command's exit code (128 + N when signal N ended it). */
  exitCode: number;
}

export interface RuntimeBackend {
  readonly name: string;
  available(): Promise<boolean>;
  /**
   * The base image's content digest and the exact version of every declared
   * package. Deterministic for a given manifest and package universe: this is
   * what the environment's identity is computed from.
   */
  resolve(spec: ResolveSpec): Promise<ResolutionResult>;
  /** Makes `spec.envDir` a complete environment (at least `upper/`, which becomes the base layer). */
  build(spec: BuildSpec): Promise<void>;
  /** An interactive login shell on our terminal. */
  enter(spec: RuntimeSpec, io?: ExecIO): Promise<ExecResult>;
  /** Runs `command` inside, streaming its output; resolves when it ends. */
  exec(spec: RuntimeSpec, command: readonly string[], io?: ExecIO): Promise<ExecResult>;
  /** Releases runtime state (processes, mounts); the Engine removes the directory itself. */
  destroy(spec: RuntimeSpec): Promise<void>;
  /** `envDir` lets a backend that keeps its state there answer. */
  status(envId: string, envDir?: string): Promise<RuntimeStatus>;
}

/** The directories every backend creates in an environment directory. */
export const ENV_SUBDIRS = ["upper", "work", "merged"] as const;

export interface BackendOptions {
  /** Warnings (one line each, no prefix). */
  warn?: (line: string) => void;
  /** Progress notes (image download, package install). */
  log?: (line: string) => void;
}

/**
 * The backend a manifest names. `oci` is refused with a message saying so,
 * rather than failing later in a confusing way.
 */
export async function selectBackend(name: string, options: BackendOptions = {}): Promise<RuntimeBackend> {
  switch (name) {
    case "mock": {
      const { MockBackend } = await import("./mock.ts");
      return new MockBackend();
    }
    case "namespace": {
      const { NamespaceBackend } = await import("./namespace/backend.ts");
      return new NamespaceBackend(options);
    }
    case "oci":
      throw new RuntimeError(`the ${name} runtime backend is not available in this version of karapace yet`, {
        hint: 'set backend = "namespace" under [runtime] in karapace.toml',
      });
    default:
      throw new RuntimeError(`unknown runtime backend '${name}'`, { hint: "use one of: namespace, oci, mock" });
  }
}
