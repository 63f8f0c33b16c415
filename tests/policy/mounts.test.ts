import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ManifestError, RuntimeError } from "../../src/errors.ts";
import { exitCodeFor } from "../../src/cli/exit-codes.ts";
import { canonicalize, isWithin, planSandbox } from "../../src/runtime/policy/index.ts";
import { realHostFs } from "../../src/runtime/host/host-fs.ts";
import { context, manifestOf, policyWith, tempDir } from "./helpers.ts";

const { dir: root, cleanup } = tempDir("mounts");
afterAll(cleanup);

// A private stand-in for /home: the tests own everything under it.
const fakeHome = join(root, "home");
const project = join(fakeHome, "user", "project");
mkdirSync(join(project, "src"), { recursive: true });
mkdirSync(join(root, "home-evil"), { recursive: true });
mkdirSync(join(root, "outside"), { recursive: true });
writeFileSync(join(project, "notes.txt"), "x");
symlinkSync("/etc", join(fakeHome, "user", "etc-link"));
symlinkSync(join(root, "outside"), join(project, "escape"));
symlinkSync(join(project, "src"), join(fakeHome, "user", "src-link"));

function planMounts(mounts: Record<string, string>, over: Parameters<typeof context>[1] = {}) {
  const body = `[mounts]\n${Object.entries(mounts)
    .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
    .join("\n")}\n`;
  const manifest = manifestOf(body);
  return planSandbox(context(manifest, { manifestDir: project, policy: policyWith(manifest, { allowedMountPrefixes: [fakeHome] }), ...over }));
}

function refusal(fn: () => unknown): RuntimeError | ManifestError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RuntimeError || error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error("expected the plan to be refused");
}

describe("path helpers", () => {
  test("isWithin compares whole segments", () => {
    expect(isWithin("/home/u", "/home")).toBe(true);
    expect(isWithin("/home", "/home")).toBe(true);
    expect(isWithin("/home-evil", "/home")).toBe(false);
    expect(isWithin("/homeuser/x", "/home")).toBe(false);
  });

  test("canonicalize resolves symlinks of the existing prefix and keeps the missing rest", () => {
    expect(canonicalize(join(fakeHome, "user", "etc-link", "shadow"), realHostFs)).toBe("/etc/shadow");
    expect(canonicalize(join(fakeHome, "user", "src-link", "not", "yet"), realHostFs)).toBe(join(project, "src", "not", "yet"));
    expect(canonicalize("/../../etc/../tmp/./x/", realHostFs)).toBe(join(realHostFs.realpath("/tmp"), "x"));
  });
});

describe("manifest mounts", () => {
  test("an absolute path under an allowed prefix becomes a canonical bind", () => {
    const plan = planMounts({ work: `${project}/src:/work`, notes: `${project}/./notes.txt:/notes.txt` });
    const work = plan.binds.find((b) => b.reason === "mount 'work'");
    expect(work).toEqual({ source: join(project, "src"), target: "/work", readOnly: false, file: false, reason: "mount 'work'" });
    expect(plan.binds.find((b) => b.reason === "mount 'notes'")?.file).toBe(true);
  });

  test("relative paths resolve under the manifest's directory", () => {
    const plan = planMounts({ ws: "./:/workspace", src: "src:/src" });
    expect(plan.binds.map((b) => [b.source, b.target])).toEqual([
      [join(project, "src"), "/src"],
      [project, "/workspace"],
    ]);
  });

  test("a relative path may not climb out of the manifest's directory to a place the policy does not allow", () => {
    const policyPrefixOnlyProject = { allowedMountPrefixes: [join(root, "nowhere")] };
    const manifest = manifestOf(`[mounts]\nup = "../../../outside:/o"\n`);
    const error = refusal(() =>
      planSandbox(context(manifest, { manifestDir: project, policy: policyWith(manifest, policyPrefixOnlyProject) })),
    );
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.message).toContain("mount 'up'");
    expect(error.message).toContain(join(root, "outside"));
  });

  test("a symlink inside the project that points outside is an escape", () => {
    const manifest = manifestOf(`[mounts]\nesc = "./escape:/e"\n`);
    const error = refusal(() => planSandbox(context(manifest, { manifestDir: project, policy: policyWith(manifest, { allowedMountPrefixes: [fakeHome] }) })));
    expect(error.message).toContain(`resolves to ${join(root, "outside")}`);
  });

  test("'..' through an allowed prefix is resolved before the check (/home/../etc/passwd)", () => {
    const error = refusal(() => planMounts({ bad: `${fakeHome}/../../../../etc/passwd:/data` }));
    expect(error).toBeInstanceOf(RuntimeError);
    expect(exitCodeFor(error)).toBe(1);
    expect(error.message).toContain("/etc/passwd");
  });

  test("a symlink escape out of an allowed prefix is refused", () => {
    const error = refusal(() => planMounts({ sneaky: `${fakeHome}/user/etc-link:/etc-host` }));
    expect(error.message).toContain("mount 'sneaky'");
    expect(error.message).toContain("resolves to /etc");
    expect(error.message).toContain(fakeHome);
    expect(error.hint).toBeDefined();
  });

  test("a sibling that shares the prefix's spelling (/home-evil) is not under /home", () => {
    const error = refusal(() => planMounts({ evil: `${root}/home-evil:/x` }));
    expect(error.message).toContain("outside the allowed directories");
    // and with the default policy, against the real /home:
    const manifest = manifestOf(`[mounts]\nevil = "/home-evil/x:/x"\n`);
    expect(() => planSandbox(context(manifest))).toThrow(/outside the allowed directories \(\/home, \/tmp/);
  });

  test("/, /etc/shadow and /proc are refused by the default policy", () => {
    for (const [label, spec] of [
      ["root", "/:/rootfs"],
      ["shadow", "/etc/shadow:/shadow"],
      ["proc", "/proc/self/root:/escape"],
      ["dotdot", "/../etc/shadow:/secrets"],
    ] as const) {
      const manifest = manifestOf(`[mounts]\n${label} = "${spec}"\n`);
      const error = refusal(() => planSandbox(context(manifest)));
      expect(error).toBeInstanceOf(RuntimeError);
      expect(error.message).toContain(`mount '${label}'`);
    }
  });

  test("/proc, /sys and /dev stay refused even when a policy allows everything", () => {
    for (const source of ["/proc/1", "/sys/kernel", "/dev/null"]) {
      const manifest = manifestOf(`[mounts]\nx = "${source}:/x"\n`);
      const error = refusal(() => planSandbox(context(manifest, { policy: policyWith(manifest, { allowedMountPrefixes: ["/"] }) })));
      expect(error.message).toContain("never mounted");
    }
  });

  test("nothing may be bound over the sandbox's own /, /proc, /dev, /sys", () => {
    for (const target of ["/", "/proc", "/dev/shm", "/sys/fs", "/work/../proc"]) {
      const error = refusal(() => planMounts({ t: `${project}:${target}` }));
      expect(error).toBeInstanceOf(RuntimeError);
      expect(error.message).toContain("mount 't'");
    }
  });

  test("container paths are normalized; two mounts on one target are a manifest error", () => {
    const plan = planMounts({ a: `${project}/src:/work//./src/` });
    expect(plan.binds[0]?.target).toBe("/work/src");
    const error = refusal(() => planMounts({ a: `${project}/src:/w`, b: `${project}:/x/../w` }));
    expect(error).toBeInstanceOf(ManifestError);
    expect(exitCodeFor(error)).toBe(2);
  });

  test("a missing source is a warning, not an error, and is not bound", () => {
    const plan = planMounts({ later: `${project}/not-yet:/later` });
    expect(plan.binds.some((b) => b.target === "/later")).toBe(false);
    expect(plan.warnings).toContain(`mount 'later': ${project}/not-yet does not exist; not mounted`);
  });

  test("~ expands to the user's home, which is allowed", () => {
    const manifest = manifestOf(`[mounts]\nh = "~/project:/p"\n`);
    const plan = planSandbox(context(manifest, { home: join(fakeHome, "user"), policy: policyWith(manifest, { allowedMountPrefixes: [] }) }));
    expect(plan.binds[0]?.source).toBe(project);
  });

  test("parents are mounted before children whatever the label order", () => {
    const plan = planMounts({ a_child: `${project}/src:/work/src`, z_parent: `${project}:/work` });
    expect(plan.binds.map((b) => b.target)).toEqual(["/work", "/work/src"]);
  });

  test("a build validates mounts but binds none", () => {
    expect(() => planMounts({ bad: "/etc:/etc-host" }, { purpose: "build" })).toThrow(RuntimeError);
    const plan = planMounts({ ok: `${project}:/w` }, { purpose: "build" });
    expect(plan.binds).toEqual([]);
  });
});

test("checkManifestPolicy refuses what a plan would refuse, for backends that build without one", async () => {
  const { checkManifestPolicy } = await import("../../src/runtime/policy/index.ts");
  expect(() => checkManifestPolicy(manifestOf(`[mounts]\nbad = "/etc:/e"\n`), project, fakeHome)).toThrow(RuntimeError);
  expect(() => checkManifestPolicy(manifestOf(`[runtime.resource_limits]\ncpu_shares = 0\n`), project, fakeHome)).toThrow(ManifestError);
  expect(() => checkManifestPolicy(manifestOf(`[mounts]\nok = "./src:/src"\n`), project, fakeHome)).not.toThrow();
});
