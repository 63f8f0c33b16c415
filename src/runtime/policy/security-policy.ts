/**
 * The security policy: which host paths may be mounted, which variables
 * cross into the sandbox, which devices may be bound, and upper bounds on
 * resource limits. The defaults follow the reference implementation
 * (docs/security.md lists them); a stricter policy can be passed to
 * planSandbox, which is how tests and future configuration narrow it.
 */
import type { NormalizedManifest } from "../../schema/types.ts";

export interface SecurityPolicy {
  /** Absolute host directories under which mounts may live (segment-wise: `/home` does not admit `/home-evil`). */
  allowedMountPrefixes: readonly string[];
  /** Host variables passed through as they are. */
  allowedEnv: readonly string[];
  /** Never passed, never forwarded (wins over every allow list and over host integration). */
  deniedEnv: readonly string[];
  allowGpu: boolean;
  allowAudio: boolean;
  maxCpuShares: number | null;
  maxMemoryMb: number | null;
}

export const DEFAULT_MOUNT_PREFIXES: readonly string[] = ["/home", "/tmp"];

/**
 * The reference's allow list plus the locale and editor variables its host
 * integration forwards. PATH is deliberately absent: the host's PATH names
 * host directories, so the sandbox gets a standard one (SANDBOX_PATH).
 */
export const DEFAULT_ALLOWED_ENV: readonly string[] = [
  "TERM",
  "COLORTERM",
  "LANG",
  "LANGUAGE",
  "LC_ALL",
  "LC_CTYPE",
  "LC_MESSAGES",
  "USER",
  "LOGNAME",
  "SHELL",
  "EDITOR",
  "VISUAL",
  "TZ",
  // Builds and tools inside need the same way out to the network as the host.
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
];

/** Secrets and handles to host services that must not leak into an environment. */
export const DEFAULT_DENIED_ENV: readonly string[] = ["SSH_AUTH_SOCK", "GPG_AGENT_INFO", "AWS_SECRET_ACCESS_KEY", "DOCKER_HOST"];

export const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** What the manifest asks for is what the default policy allows (the reference's `from_manifest`). */
export function policyForManifest(manifest: NormalizedManifest): SecurityPolicy {
  return {
    allowedMountPrefixes: DEFAULT_MOUNT_PREFIXES,
    allowedEnv: DEFAULT_ALLOWED_ENV,
    deniedEnv: DEFAULT_DENIED_ENV,
    allowGpu: manifest.hardware_gpu,
    allowAudio: manifest.hardware_audio,
    maxCpuShares: null,
    maxMemoryMb: null,
  };
}
