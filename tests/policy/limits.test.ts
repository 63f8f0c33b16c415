import { describe, expect, test } from "bun:test";
import { requireTool } from "../support/prereq.ts";
import { cpuSharesToNice, cpuSharesToWeight, resourceLimitLauncher } from "../../src/runtime/policy/index.ts";
import { tempDir } from "./helpers.ts";

/** Whether this host really has a systemd user manager that can run a scope (CI machines usually do not). */
async function userScopeWorks(): Promise<boolean> {
  const systemdRun = Bun.which("systemd-run");
  if (systemdRun === null) return false;
  const proc = Bun.spawn([systemdRun, "--user", "--scope", "--quiet", "true"], { stdout: "ignore", stderr: "ignore", timeout: 3000 });
  return (await proc.exited) === 0;
}

function run(argv: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString().trim(), stderr: r.stderr.toString() };
}

/** Builds a string of `bytes` bytes in a busybox shell: the shell itself has to hold it. */
function allocate(busybox: string, bytes: number): string[] {
  return [busybox, "sh", "-c", `x=$(head -c ${bytes} /dev/zero | tr '\\0' a); echo \${#x}`];
}

describe("resource limit launcher", () => {
  test("no limits: no prefix, no probing, no warnings", async () => {
    expect(await resourceLimitLauncher({ cpuShares: null, memoryLimitMb: null })).toEqual({ prefix: [], warnings: [], memory: "none", cpu: "none" });
  });

  test("shares map to cgroup v2 weights and nice levels on the kernel's scales", () => {
    expect([cpuSharesToWeight(2), cpuSharesToWeight(1024), cpuSharesToWeight(262144)]).toEqual([1, 39, 10000]);
    expect([cpuSharesToNice(1024), cpuSharesToNice(512), cpuSharesToNice(256), cpuSharesToNice(2), cpuSharesToNice(2048)]).toEqual([0, 3, 6, 19, undefined]);
  });

  test("a memory limit is enforced here: a process allocating beyond it dies, one below it lives", async () => {
    const busybox = requireTool("busybox");
    const scope = await userScopeWorks();
    const launcher = await resourceLimitLauncher({ cpuShares: null, memoryLimitMb: 64 });
    if (scope) {
      expect(launcher.memory).toBe("systemd-scope");
      expect(launcher.prefix).toContain("MemoryMax=64M");
    } else {
      // No user manager on this machine (CI): the rlimit fallback, said out loud.
      requireTool("prlimit");
      expect(launcher.memory).toBe("rlimit");
      expect(launcher.prefix.some((a) => a === `--data=${64 * 1024 * 1024}`)).toBe(true);
      expect(launcher.warnings.join("\n")).toContain("memory_limit_mb = 64 is enforced per process");
    }
    const small = run([...launcher.prefix, ...allocate(busybox, 1_000_000)]);
    expect(small.stdout).toBe("1000000");
    expect(small.code).toBe(0);
    const big = run([...launcher.prefix, ...allocate(busybox, 200_000_000)]);
    expect(big.code).not.toBe(0);
    expect(big.stdout).not.toBe("200000000");
  });

  test("cpu shares below the default lower the priority of what runs", async () => {
    const launcher = await resourceLimitLauncher({ cpuShares: 256, memoryLimitMb: null });
    if (launcher.cpu === "systemd-scope") {
      expect(launcher.prefix).toContain(`CPUWeight=${cpuSharesToWeight(256)}`);
      return;
    }
    expect(launcher.cpu).toBe("nice");
    expect(launcher.warnings.join("\n")).toContain("cpu_shares = 256 is approximated with nice 6");
    // `nice` without arguments prints the niceness it runs at.
    expect(run([...launcher.prefix, requireTool("nice")]).stdout).toBe("6");
  });

  test("with no mechanism at all, every limit is reported as not enforced", async () => {
    const { dir, cleanup } = tempDir("empty-path");
    try {
      const launcher = await resourceLimitLauncher({ cpuShares: 4096, memoryLimitMb: 128 }, { env: { PATH: dir } });
      expect(launcher.prefix).toEqual([]);
      expect(launcher.memory).toBe("none");
      expect(launcher.cpu).toBe("none");
      expect(launcher.warnings).toHaveLength(2);
      expect(launcher.warnings[0]).toContain("memory_limit_mb = 128 is NOT enforced");
      expect(launcher.warnings[1]).toContain("cpu_shares = 4096 is NOT enforced");
    } finally {
      cleanup();
    }
  });
});
