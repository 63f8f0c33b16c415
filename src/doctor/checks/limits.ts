import { check, type CheckResult, type DoctorContext } from "../types.ts";

/** Which mechanism would enforce `[runtime.resource_limits]` here (see src/runtime/policy/limits.ts). */
export async function checkResourceLimits(ctx: DoctorContext): Promise<CheckResult> {
  const c = check("resource_limits", "resource limits", false);
  const { resourceLimitLauncher } = await import("../../runtime/policy/limits.ts");
  const launcher = await resourceLimitLauncher({ cpuShares: 512, memoryLimitMb: 1024 }, { env: ctx.env });
  if (launcher.memory === "systemd-scope") return c.pass(`enforced for the whole environment by a systemd user scope (cgroup v2; cpu: ${launcher.cpu})`);
  const hint = "a systemd user session with cgroup v2 delegation (loginctl enable-linger, or a desktop login) caps the environment as a whole";
  if (launcher.memory === "rlimit") return c.info(`memory_limit_mb is enforced per process (rlimit), cpu_shares with nice; no systemd user scope is available`, hint);
  return c.warn("memory_limit_mb and cpu_shares cannot be enforced here (no systemd user scope, no prlimit)", hint);
}
