/**
 * Resource limits: checked against the policy when the plan is made, and
 * enforced when the sandbox starts by a launcher prefix put in front of it.
 *
 * The mechanisms, best first, each probed rather than assumed:
 *   1. a transient systemd user scope (`systemd-run --user --scope`), which
 *      puts the whole sandbox in a delegated cgroup v2 with MemoryMax and
 *      CPUWeight: a real cap on the environment as a whole. The probe runs a
 *      scope with the same properties and reads its memory.max and
 *      cpu.weight back, so an undelegated controller is not mistaken for one
 *      that works.
 *   2. without it: an rlimit per process for memory (`prlimit --data`), and
 *      `nice` for CPU shares below the default. RLIMIT_DATA rather than the
 *      reference-era RLIMIT_AS: it counts the memory a process writes
 *      (heap, anonymous mappings) but not address space it merely reserves,
 *      so runtimes that reserve large arenas (JVMs, Go, JavaScript engines)
 *      keep working. Both are weaker: they bound each process, not the
 *      environment, and the plan's warnings say so.
 *   3. neither: a warning that the limit is not enforced.
 */
import { ManifestError, RuntimeError } from "../../errors.ts";
import type { NormalizedManifest } from "../../schema/types.ts";
import type { ResourceLimits } from "../sandbox-plan.ts";
import type { SecurityPolicy } from "./security-policy.ts";

/** The kernel's range for cgroup v1 cpu.shares, which the manifest's cpu_shares follows; 1024 is the default. */
export const CPU_SHARES_MIN = 2;
export const CPU_SHARES_MAX = 262_144;
export const CPU_SHARES_DEFAULT = 1024;

/** Validates the manifest's limits and the policy's maxima (the reference's validate_resource_limits). */
export function checkResourceLimits(manifest: NormalizedManifest, policy: SecurityPolicy): ResourceLimits {
  const cpu = manifest.cpu_shares;
  const mem = manifest.memory_limit_mb;
  if (cpu !== null && (cpu < CPU_SHARES_MIN || cpu > CPU_SHARES_MAX)) {
    throw new ManifestError(`runtime.resource_limits.cpu_shares = ${cpu} is out of range (${CPU_SHARES_MIN}..${CPU_SHARES_MAX}; ${CPU_SHARES_DEFAULT} is the default weight)`, {
      hint: "set cpu_shares between 2 and 262144, or remove it",
    });
  }
  if (mem !== null && mem < 1) {
    throw new ManifestError("runtime.resource_limits.memory_limit_mb = 0 would leave no memory at all", { hint: "set memory_limit_mb to a size in MiB, or remove it" });
  }
  if (cpu !== null && policy.maxCpuShares !== null && cpu > policy.maxCpuShares) {
    throw new RuntimeError(`requested CPU shares ${cpu} exceed the policy's maximum ${policy.maxCpuShares}`, { hint: `lower cpu_shares to at most ${policy.maxCpuShares}` });
  }
  if (mem !== null && policy.maxMemoryMb !== null && mem > policy.maxMemoryMb) {
    throw new RuntimeError(`requested memory ${mem} MiB exceeds the policy's maximum ${policy.maxMemoryMb} MiB`, { hint: `lower memory_limit_mb to at most ${policy.maxMemoryMb}` });
  }
  return { cpuShares: cpu, memoryLimitMb: mem };
}

/** cgroup v1 shares to cgroup v2 weight, the mapping crun and runc use (2 -> 1, 1024 -> 39, 262144 -> 10000). */
export function cpuSharesToWeight(shares: number): number {
  return Math.floor(1 + ((shares - 2) * 9999) / 262_142);
}

/**
 * The nice level whose scheduler weight matches `shares`: CFS gives nice 0
 * the weight 1024 and each step ~1.25x less, the same scale as cpu.shares.
 * Only lowering priority works without privileges, so shares above the
 * default have no nice equivalent (undefined).
 */
export function cpuSharesToNice(shares: number): number | undefined {
  if (shares > CPU_SHARES_DEFAULT) return undefined;
  return Math.min(19, Math.max(0, Math.round(Math.log(CPU_SHARES_DEFAULT / shares) / Math.log(1.25))));
}

export type LimitMechanism = "systemd-scope" | "rlimit" | "nice" | "none";

export interface LimitLauncher {
  /** argv to put in front of the sandbox command; each element execs the next. */
  prefix: string[];
  warnings: string[];
  /** How each limit is enforced, for doctor and tests. */
  memory: LimitMechanism;
  cpu: LimitMechanism;
}

export interface LauncherOptions {
  /** Where tools are looked up and the user manager is found (default: process.env). */
  env?: Record<string, string | undefined>;
  probeTimeoutMs?: number;
}

interface ScopeProbe {
  memory: boolean;
  cpu: boolean;
}

const MIB = 1024 * 1024;

export async function resourceLimitLauncher(limits: ResourceLimits, options: LauncherOptions = {}): Promise<LimitLauncher> {
  const result: LimitLauncher = { prefix: [], warnings: [], memory: "none", cpu: "none" };
  const mem = limits.memoryLimitMb;
  const cpu = limits.cpuShares;
  if (mem === null && cpu === null) return result;
  const env = options.env ?? process.env;
  const which = (tool: string): string | null => Bun.which(tool, { PATH: env.PATH ?? "" });

  const scope = await probeSystemdScope(limits, env, which, options.probeTimeoutMs ?? 3000);
  const scopeProps: string[] = [];
  if (mem !== null && scope.memory) {
    scopeProps.push("-p", `MemoryMax=${mem}M`);
    result.memory = "systemd-scope";
  }
  if (cpu !== null && scope.cpu) {
    scopeProps.push("-p", `CPUWeight=${cpuSharesToWeight(cpu)}`);
    result.cpu = "systemd-scope";
  }
  const systemdRun = which("systemd-run");
  if (scopeProps.length > 0 && systemdRun !== null) {
    result.prefix.push(systemdRun, "--user", "--scope", "--quiet", "--collect", ...scopeProps, "--");
  }

  const why = "no systemd user manager with cgroup delegation is reachable";
  if (mem !== null && result.memory === "none") {
    const prlimit = which("prlimit");
    if (prlimit !== null && (await runsOk([prlimit, `--data=${mem * MIB}`, "true"], env, options.probeTimeoutMs ?? 3000))) {
      result.prefix.push(prlimit, `--data=${mem * MIB}`);
      result.memory = "rlimit";
      result.warnings.push(
        `memory_limit_mb = ${mem} is enforced per process (RLIMIT_DATA), not for the environment as a whole: ${why}`,
      );
    } else {
      result.warnings.push(`memory_limit_mb = ${mem} is NOT enforced: ${why}, and prlimit (util-linux) is not available`);
    }
  }
  if (cpu !== null && result.cpu === "none") {
    const nice = cpuSharesToNice(cpu);
    const niceTool = which("nice");
    if (nice === 0) {
      result.cpu = "nice"; // the default weight: nothing to change
    } else if (nice !== undefined && niceTool !== null) {
      result.prefix.push(niceTool, "-n", String(nice));
      result.cpu = "nice";
      result.warnings.push(`cpu_shares = ${cpu} is approximated with nice ${nice} for each process: ${why}`);
    } else {
      result.warnings.push(`cpu_shares = ${cpu} is NOT enforced: ${why}${nice === undefined ? ", and a weight above the default 1024 needs one" : ""}`);
    }
  }
  return result;
}

/**
 * Runs a throw-away scope with the requested properties and reads back
 * what its cgroup got. Fails fast (and quietly) where there is no user bus.
 */
async function probeSystemdScope(
  limits: ResourceLimits,
  env: Record<string, string | undefined>,
  which: (tool: string) => string | null,
  timeoutMs: number,
): Promise<ScopeProbe> {
  const none = { memory: false, cpu: false };
  const systemdRun = which("systemd-run");
  if (systemdRun === null) return none;
  const props: string[] = [];
  if (limits.memoryLimitMb !== null) props.push("-p", `MemoryMax=${limits.memoryLimitMb}M`);
  if (limits.cpuShares !== null) props.push("-p", `CPUWeight=${cpuSharesToWeight(limits.cpuShares)}`);
  const script =
    'cg=$(sed -n "s/^0:://p" /proc/self/cgroup); ' +
    'echo "memory=$(cat "/sys/fs/cgroup$cg/memory.max" 2>/dev/null)"; ' +
    'echo "cpu=$(cat "/sys/fs/cgroup$cg/cpu.weight" 2>/dev/null)"';
  const out = await capture([systemdRun, "--user", "--scope", "--quiet", "--collect", ...props, "--", "/bin/sh", "-c", script], env, timeoutMs);
  if (out === undefined) return none;
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(out)?.[1]?.trim();
  return {
    memory: limits.memoryLimitMb !== null && value("memory") === String(limits.memoryLimitMb * MIB),
    cpu: limits.cpuShares !== null && value("cpu") === String(cpuSharesToWeight(limits.cpuShares)),
  };
}

function childEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** stdout of a successful run, undefined on failure or timeout. */
async function capture(argv: string[], env: Record<string, string | undefined>, timeoutMs: number): Promise<string | undefined> {
  try {
    const proc = Bun.spawn(argv, { env: childEnv(env), stdin: "ignore", stdout: "pipe", stderr: "ignore", timeout: timeoutMs, killSignal: "SIGKILL" });
    const [text, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    return code === 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

async function runsOk(argv: string[], env: Record<string, string | undefined>, timeoutMs: number): Promise<boolean> {
  return (await capture(argv, env, timeoutMs)) !== undefined;
}
