import { describe, expect, test } from "bun:test";
import { CliUsageError, ManifestError, RuntimeError } from "../../src/errors.ts";
import { exitCodeFor } from "../../src/cli/exit-codes.ts";
import {
  DEFAULT_DENIED_ENV,
  envKeyProblem,
  envValueProblem,
  planSandbox,
  SANDBOX_PATH,
} from "../../src/runtime/policy/index.ts";
import { context, hostWith, manifestOf, policyWith } from "./helpers.ts";

const HOST_ENV = {
  TERM: "xterm-256color",
  LANG: "de_DE.UTF-8",
  LC_ALL: "de_DE.UTF-8",
  EDITOR: "vim",
  USER: "alice",
  SHELL: "/bin/zsh",
  PATH: "/home/alice/.cargo/bin:/usr/bin",
  HOME: "/home/alice",
  SSH_AUTH_SOCK: "/run/user/1000/ssh-agent",
  GPG_AGENT_INFO: "/run/user/1000/gnupg/S.gpg-agent",
  AWS_SECRET_ACCESS_KEY: "hunter2",
  DOCKER_HOST: "unix:///run/docker.sock",
  GITHUB_TOKEN: "ghp_secret",
  LD_PRELOAD: "/tmp/evil.so",
  https_proxy: "http://proxy:3128",
};

describe("environment variables", () => {
  const plan = planSandbox(context(manifestOf(""), { hostEnv: HOST_ENV, home: "/home/alice" }));

  test("allowed host variables pass through", () => {
    for (const key of ["TERM", "LANG", "LC_ALL", "EDITOR", "USER", "SHELL", "https_proxy"] as const) {
      expect(plan.env[key]).toBe(HOST_ENV[key]);
    }
    expect(plan.env.HOME).toBe("/home/alice");
    expect(plan.env.KARAPACE_ENV).toBe("1");
  });

  test("denied and unlisted variables stay outside", () => {
    for (const key of [...DEFAULT_DENIED_ENV, "GITHUB_TOKEN", "LD_PRELOAD"]) expect(plan.env[key]).toBeUndefined();
  });

  test("PATH is the sandbox's own, not the host's", () => {
    expect(plan.env.PATH).toBe(SANDBOX_PATH);
  });

  test("deny wins even when a policy also allows the name", () => {
    const manifest = manifestOf("");
    const p = planSandbox(context(manifest, { hostEnv: HOST_ENV, policy: policyWith(manifest, { allowedEnv: ["SSH_AUTH_SOCK", "TERM"] }) }));
    expect(p.env.SSH_AUTH_SOCK).toBeUndefined();
    expect(p.env.TERM).toBe("xterm-256color");
  });

  test("a host value with a NUL byte is dropped with a warning", () => {
    const p = planSandbox(context(manifestOf(""), { hostEnv: { TERM: "xterm\0evil" } }));
    expect(p.env.TERM).toBeUndefined();
    expect(p.warnings.some((w) => w.includes("TERM") && w.includes("NUL"))).toBe(true);
  });

  test("keys are validated: letters, digits, '_', no leading digit", () => {
    expect(envKeyProblem("GOOD_NAME_1")).toBeUndefined();
    expect(envKeyProblem("_x")).toBeUndefined();
    for (const bad of ["1ABC", "A-B", "A=B", "A B", "", "Ä", "A\nB"]) expect(envKeyProblem(bad)).toBeDefined();
    expect(envKeyProblem("A\nB")).toContain("\\x0a");
    expect(envValueProblem("a\0b")).toContain("NUL");
  });

  test("explicit variables are refused, not dropped, when malformed or denied", () => {
    const manifest = manifestOf("");
    const ok = planSandbox(context(manifest, { extraEnv: { FOO: "bar baz" } }));
    expect(ok.env.FOO).toBe("bar baz");
    const extras: Record<string, string>[] = [{ "BAD-KEY": "x" }, { GOOD: "a\0b" }, { AWS_SECRET_ACCESS_KEY: "x" }];
    for (const extra of extras) {
      let error: unknown;
      try {
        planSandbox(context(manifest, { extraEnv: extra }));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CliUsageError);
    }
  });

  test("a build gets a minimal environment and the network", () => {
    const manifest = manifestOf(`[runtime]\nnetwork_isolation = true\n[runtime.resource_limits]\nmemory_limit_mb = 64\n`);
    const build = planSandbox(context(manifest, { hostEnv: HOST_ENV, purpose: "build" }));
    expect(build.env).toEqual({ HOME: "/root", PATH: SANDBOX_PATH, https_proxy: "http://proxy:3128" });
    expect(build.isolateNetwork).toBe(false);
    expect(build.limits).toEqual({ cpuShares: null, memoryLimitMb: null });
    const exec = planSandbox(context(manifest, { hostEnv: HOST_ENV, purpose: "enter" }));
    expect(exec.isolateNetwork).toBe(true);
    expect(exec.limits).toEqual({ cpuShares: null, memoryLimitMb: 64 });
  });
});

describe("device policy", () => {
  const gpuHost = hostWith(
    { "/dev/dri": "dir", "/dev/snd": "dir", "/dev/nvidia0": "char-device", "/dev/nvidiactl": "char-device" },
    { "/dev": ["dri", "snd", "nvidia0", "nvidiactl", "null"] },
  );
  const bareHost = hostWith({ "/dev/dri": "missing", "/dev/snd": "missing" }, { "/dev": ["null"] });

  test("no device unless the manifest asks", () => {
    expect(planSandbox(context(manifestOf(""), { fs: gpuHost })).devices).toEqual([]);
  });

  test("hardware.gpu binds /dev/dri and the NVIDIA nodes; audio binds /dev/snd", () => {
    const plan = planSandbox(context(manifestOf(`[hardware]\ngpu = true\naudio = true\n`), { fs: gpuHost }));
    expect(plan.devices).toEqual(["/dev/dri", "/dev/nvidia0", "/dev/nvidiactl", "/dev/snd"]);
  });

  test("asked-for hardware the host lacks is a warning", () => {
    const plan = planSandbox(context(manifestOf(`[hardware]\ngpu = true\naudio = true\n`), { fs: bareHost }));
    expect(plan.devices).toEqual([]);
    expect(plan.warnings.some((w) => w.startsWith("hardware.gpu:") && w.includes("/dev/dri"))).toBe(true);
    expect(plan.warnings.some((w) => w.startsWith("hardware.audio:") && w.includes("/dev/snd"))).toBe(true);
  });

  test("a policy that denies the GPU refuses the manifest (exit 1, like the reference)", () => {
    const manifest = manifestOf(`[hardware]\ngpu = true\n`);
    let error: unknown;
    try {
      planSandbox(context(manifest, { fs: gpuHost, policy: policyWith(manifest, { allowGpu: false }) }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuntimeError);
    expect(exitCodeFor(error)).toBe(1);
    expect((error as RuntimeError).message).toContain("GPU");
  });
});

describe("resource limit validation", () => {
  test("out-of-range values are manifest errors", () => {
    for (const body of ["cpu_shares = 1", "cpu_shares = 262145", "memory_limit_mb = 0"]) {
      expect(() => planSandbox(context(manifestOf(`[runtime.resource_limits]\n${body}\n`)))).toThrow(ManifestError);
    }
  });

  test("limits above the policy's maxima are policy violations", () => {
    const manifest = manifestOf(`[runtime.resource_limits]\ncpu_shares = 2048\nmemory_limit_mb = 8192\n`);
    expect(planSandbox(context(manifest)).limits).toEqual({ cpuShares: 2048, memoryLimitMb: 8192 });
    expect(() => planSandbox(context(manifest, { policy: policyWith(manifest, { maxCpuShares: 1024 }) }))).toThrow(/CPU shares 2048 exceed/);
    expect(() => planSandbox(context(manifest, { policy: policyWith(manifest, { maxMemoryMb: 4096 }) }))).toThrow(RuntimeError);
  });
});
