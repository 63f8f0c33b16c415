/**
 * What the Engine needs from a runtime: the reference's RuntimeBackend trait
 * (karapace-runtime/src/backend.rs), with one change of shape. The reference
 * resolves in a throw-away overlay and then installs again for the build; here
 * the Engine hands both calls the same scratch directory (`envDir`, in the
 * store's staging area), so a backend that must install packages to learn their
 * versions can do so once in `resolve` and finish in `build`. The Engine moves
 * the finished directory under env/<env_id> only after both have succeeded.
 *
 * Backends are loaded on demand (selectBackend imports only the one asked for).
 */
import { RuntimeError } from "../errors.ts";
import type { NormalizedManifest, ResolutionResult } from "../schema/types.ts";

/** What resolve() gets: the manifest and a scratch directory it may install into. */
export interface ResolveSpec {
  manifest: NormalizedManifest;
  /** Scratch env directory (upper/, work/, merged/ go inside); it may not exist yet. */
  envDir: string;
  storeRoot: string;
  offline: boolean;
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
}

export interface RuntimeStatus {
  envId: string;
  running: boolean;
  pid: number | null;
}

export interface ExecOutput {
  exitCode: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
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
  enter(spec: RuntimeSpec): Promise<void>;
  exec(spec: RuntimeSpec, command: readonly string[]): Promise<ExecOutput>;
  /** Releases runtime state (processes, mounts); the Engine removes the directory itself. */
  destroy(spec: RuntimeSpec): Promise<void>;
  status(envId: string): Promise<RuntimeStatus>;
}

/** The directories every backend creates in an environment directory. */
export const ENV_SUBDIRS = ["upper", "work", "merged"] as const;

/**
 * The backend a manifest names. Only `mock` exists so far; `namespace` and
 * `oci` are refused with a message saying so, rather than failing later in a
 * confusing way.
 */
export async function selectBackend(name: string): Promise<RuntimeBackend> {
  switch (name) {
    case "mock": {
      const { MockBackend } = await import("./mock.ts");
      return new MockBackend();
    }
    case "namespace":
    case "oci":
      throw new RuntimeError(`the ${name} runtime backend is not available in this version of karapace yet`, {
        hint: 'set backend = "mock" under [runtime] in karapace.toml to use the lifecycle commands until it lands',
      });
    default:
      throw new RuntimeError(`unknown runtime backend '${name}'`, { hint: "use one of: namespace, oci, mock" });
  }
}
