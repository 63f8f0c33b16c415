/**
 * planSandbox: every decision about what a sandbox gets, made in one place
 * that needs no namespaces to test. The namespace backend carries the plan
 * out as given (src/runtime/sandbox-plan.ts is the contract).
 *
 *   build   the manifest's mounts and limits are validated (a manifest that
 *           could never be entered fails before anything is built), but the
 *           package installation itself gets no mounts, no devices, no host
 *           integration, the network, and a minimal environment.
 *   exec,   the home directory, manifest mounts, devices, host integration,
 *   enter   the filtered host environment, network isolation and resource limits.
 */
import { resolve } from "node:path";
import type { NormalizedManifest } from "../../schema/types.ts";
import { type HostFs, realHostFs } from "../host/host-fs.ts";
import { computeHostIntegration } from "../host/integration.ts";
import type { BindMount, SandboxPlan } from "../sandbox-plan.ts";
import { planDevices, checkDevicePolicy } from "./devices.ts";
import { checkExplicitEnv, finalizeEnv, passThroughHostEnv } from "./env.ts";
import { checkResourceLimits } from "./limits.ts";
import { planManifestMounts } from "./mounts.ts";
import { policyForManifest, SANDBOX_PATH, type SecurityPolicy } from "./security-policy.ts";

export type SandboxPurpose = "build" | "exec" | "enter";

export interface PlanContext {
  manifest: NormalizedManifest;
  /** Directory of karapace.toml: relative mount paths are resolved against it. */
  manifestDir: string;
  hostEnv: Record<string, string | undefined>;
  /** The user's home directory (host path; also HOME inside for exec and enter). */
  home: string;
  uid: number;
  gid: number;
  purpose: SandboxPurpose;
  /** Variables the caller sets explicitly (e.g. from the command line); checked, never silently dropped. */
  extraEnv?: Record<string, string>;
  /** Default: what the manifest asks for (policyForManifest). */
  policy?: SecurityPolicy;
  /** Default: the real filesystem. */
  fs?: HostFs;
}

/** Parents before children, so a bind on /work/sub is not hidden by a later bind on /work. */
function mountOrder(binds: BindMount[]): BindMount[] {
  const depth = (b: BindMount) => b.target.split("/").length;
  return binds.map((b, i) => ({ b, i })).sort((x, y) => depth(x.b) - depth(y.b) || x.i - y.i).map(({ b }) => b);
}

export function planSandbox(ctx: PlanContext): SandboxPlan {
  const policy = ctx.policy ?? policyForManifest(ctx.manifest);
  const fs = ctx.fs ?? realHostFs;
  const manifest = ctx.manifest;
  const manifestDir = resolve(ctx.manifestDir);
  const limits = checkResourceLimits(manifest, policy);
  const mounts = planManifestMounts({ manifest, manifestDir, home: ctx.home, policy, fs });
  const extra = checkExplicitEnv(ctx.extraEnv ?? {}, policy);

  if (ctx.purpose === "build") {
    checkDevicePolicy(manifest, policy);
    return {
      binds: [],
      devices: [],
      env: finalizeEnv({ PATH: SANDBOX_PATH, HOME: "/root", ...pick(ctx.hostEnv, policy, PROXY_VARIABLES), ...extra }, policy),
      isolateNetwork: false,
      limits: { cpuShares: null, memoryLimitMb: null },
      warnings: [],
    };
  }

  const isolateNetwork = manifest.network_isolation;
  const devices = planDevices(manifest, policy, fs);
  const integration = computeHostIntegration({
    manifest,
    hostEnv: ctx.hostEnv,
    home: ctx.home,
    uid: ctx.uid,
    policy,
    fs,
    isolateNetwork,
    claimedTargets: new Set(mounts.binds.map((b) => b.target)),
  });
  const host = passThroughHostEnv(ctx.hostEnv, policy);
  const env = finalizeEnv({ PATH: SANDBOX_PATH, ...host.env, HOME: ctx.home, ...integration.env, KARAPACE_ENV: "1", ...extra }, policy);
  return {
    binds: mountOrder([...mounts.binds, ...integration.binds]),
    devices: devices.devices,
    env,
    isolateNetwork,
    limits,
    warnings: [...mounts.warnings, ...devices.warnings, ...integration.warnings, ...host.warnings],
  };
}

/**
 * The build-time check the reference makes before building (validate_mounts,
 * validate_devices, validate_resource_limits), for callers that build without
 * a sandbox plan (the mock backend): throws what planSandbox would throw.
 */
export function checkManifestPolicy(manifest: NormalizedManifest, manifestDir: string, home: string, policy?: SecurityPolicy): void {
  planSandbox({ manifest, manifestDir, hostEnv: {}, home, uid: 0, gid: 0, purpose: "build", policy });
}

const PROXY_VARIABLES = ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"];

/** The named host variables the policy allows (a build sees only these). */
function pick(hostEnv: Record<string, string | undefined>, policy: SecurityPolicy, names: readonly string[]): Record<string, string> {
  const allowed = passThroughHostEnv(hostEnv, { ...policy, allowedEnv: policy.allowedEnv.filter((k) => names.includes(k)) });
  return allowed.env;
}

export { checkDevicePolicy, planDevices } from "./devices.ts";
export { checkExplicitEnv, envKeyProblem, envValueProblem, finalizeEnv, passThroughHostEnv } from "./env.ts";
export {
  checkResourceLimits,
  cpuSharesToNice,
  cpuSharesToWeight,
  resourceLimitLauncher,
  type LauncherOptions,
  type LimitLauncher,
  type LimitMechanism,
} from "./limits.ts";
export { checkTarget, planManifestMounts, NEVER_MOUNTED_HOST_ROOTS, RESERVED_TARGETS } from "./mounts.ts";
export { canonicalize, expandHostPath, isWithin, normalizeAbsolute } from "./paths.ts";
export { DEFAULT_ALLOWED_ENV, DEFAULT_DENIED_ENV, DEFAULT_MOUNT_PREFIXES, policyForManifest, SANDBOX_PATH, type SecurityPolicy } from "./security-policy.ts";
