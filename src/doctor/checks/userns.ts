/**
 * Can this user create user namespaces? The sysctls that commonly forbid it
 * are read for the hint, but the verdict comes from trying it.
 */
import { readFileSync } from "node:fs";
import { installHint } from "../distro.ts";
import { lastLine, probe, which } from "../spawn.ts";
import { check, type CheckResult, type DoctorContext } from "../types.ts";

function sysctl(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Why the kernel's settings would refuse, with the command that changes them. */
export function sysctlBlockers(read: (path: string) => string | undefined = sysctl): { problem: string; fix: string }[] {
  const out: { problem: string; fix: string }[] = [];
  if (read("/proc/sys/kernel/unprivileged_userns_clone") === "0") {
    out.push({ problem: "kernel.unprivileged_userns_clone = 0", fix: "sudo sysctl -w kernel.unprivileged_userns_clone=1" });
  }
  if (read("/proc/sys/user/max_user_namespaces") === "0") {
    out.push({ problem: "user.max_user_namespaces = 0", fix: "sudo sysctl -w user.max_user_namespaces=15000" });
  }
  if (read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") === "1") {
    out.push({
      problem: "kernel.apparmor_restrict_unprivileged_userns = 1",
      fix: "allow it for karapace with an AppArmor profile, or: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
    });
  }
  return out;
}

export async function checkUserNamespaces(ctx: DoctorContext): Promise<CheckResult> {
  const c = check("user_namespaces", "user namespaces", true);
  const unshare = which("unshare", ctx.env);
  if (unshare === null) return c.fail("unshare is not installed", installHint(ctx.distro, "util-linux"));
  const blockers = sysctlBlockers();
  const run = await probe([unshare, "--user", "--map-root-user", "true"], ctx.env);
  if (run.ok) {
    const note = blockers.length > 0 ? ` (despite ${blockers.map((b) => b.problem).join(", ")})` : "";
    return c.pass(`unprivileged user namespaces work${note}`);
  }
  const why = lastLine(run.stderr) || `exit ${run.code}`;
  if (blockers.length > 0) {
    return c.fail(`cannot create a user namespace: ${why}; ${blockers.map((b) => b.problem).join(", ")}`, blockers.map((b) => b.fix).join("; "));
  }
  return c.fail(`cannot create a user namespace: ${why}`, "the kernel needs CONFIG_USER_NS=y; inside a container, the container runtime must allow nested user namespaces");
}
