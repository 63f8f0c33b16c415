/**
 * The sandbox plan for one launch, from the security policy and host
 * integration (src/runtime/policy). The backend carries it out as given.
 */
import { homedir } from "node:os";
import type { NormalizedManifest } from "../../schema/types.ts";
import type { SandboxPlan } from "../sandbox-plan.ts";

export type Purpose = "build" | "exec" | "enter";

export async function sandboxPlan(manifest: NormalizedManifest, manifestDir: string, purpose: Purpose): Promise<SandboxPlan> {
  const { planSandbox } = await import("../policy/index.ts");
  return planSandbox({
    manifest,
    manifestDir,
    hostEnv: process.env,
    home: process.env.HOME !== undefined && process.env.HOME !== "" ? process.env.HOME : homedir(),
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    purpose,
  });
}

/** The argv prefix that applies the plan's resource limits (empty when there are none). */
export async function limitsPrefix(plan: SandboxPlan, warn: (line: string) => void): Promise<string[]> {
  if (plan.limits.cpuShares === null && plan.limits.memoryLimitMb === null) return [];
  const { resourceLimitLauncher } = await import("../policy/limits.ts");
  const launcher = await resourceLimitLauncher(plan.limits);
  for (const w of launcher.warnings) warn(w);
  return launcher.prefix;
}
