/**
 * The two ways a sandbox mounts its file systems (src/runtime/namespace/sandbox.ts):
 * the one-pass table, and the step-by-step path it falls back to. Run for real
 * as the unprivileged test user.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mountPlan } from "../../src/runtime/namespace/sandbox.ts";
import { giveToTestUser, runAsTestUser } from "../support/rootless.ts";
import { manifest, Scenario } from "./helpers.ts";

let s: Scenario;
let rootfs: string;
const CHILD = join(import.meta.dir, "children/launch-sandbox.ts");

beforeAll(async () => {
  s = new Scenario("mounts");
  rootfs = await s.busybox();
});

afterAll(() => s?.cleanup());

/** A fresh upper/work/merged/env dir set owned by the test user, work optionally elsewhere. */
function dirs(name: string, work?: string): { upper: string; work: string; merged: string; envDir: string } {
  const envDir = join(s.home, name);
  const d = { upper: join(envDir, "upper"), work: work ?? join(envDir, "work"), merged: join(envDir, "merged"), envDir };
  for (const p of [d.upper, d.work, d.merged]) mkdirSync(p, { recursive: true });
  giveToTestUser(envDir);
  if (work !== undefined) giveToTestUser(work);
  return d;
}

function launch(d: ReturnType<typeof dirs>, command: string[], onePassText?: string) {
  const request = { lower: rootfs, ...d, command, ...(onePassText === undefined ? {} : { onePassText }) };
  return runAsTestUser([process.execPath, CHILD, JSON.stringify(request)], { cwd: s.home });
}

describe("sandbox mounts", () => {
  test("a built environment's exec mounts in one pass: its table starts with the overlay", async () => {
    const project = s.project("bb", manifest(rootfs));
    expect((await s.kp(["build", "--name", "bb"], { cwd: project })).code).toBe(0);
    const r = await s.kp(["exec", "bb", "--", "sh", "-c", "cat /etc/hostname 2>/dev/null; hostname; test -f /etc/resolv.conf && echo resolv"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toBe("bb\nresolv\n");
    const envId = /env_id = "([0-9a-f]{64})"/.exec(readFileSync(join(project, "karapace.lock"), "utf8"))?.[1] ?? "";
    const mounts = join(s.store, "env", envId, "mounts");
    const tables = readdirSync(mounts).map((n) => readFileSync(join(mounts, n), "utf8"));
    expect(tables.some((t) => t.startsWith("overlay "))).toBe(true);
    expect(existsSync(join(mounts, "kernel-overlay-refused"))).toBe(false);
  });

  test("a one-pass table that fails part-way is undone and the step-by-step path runs the command", async () => {
    const d = dirs("partial");
    const good = mountPlan({ lower: rootfs, ...d, hostname: "x", binds: [], devices: [], isolateNetwork: true, innerPath: "/bin", workdir: "/", overlay: "auto", command: [] }, d.envDir);
    expect(good.onePass).toBeDefined();
    const failing = `${readFileSync(good.onePass as string, "utf8")}/nonexistent-source ${d.merged}/mnt none bind 0 0\n`;
    giveToTestUser(d.envDir); // the plan above was written as root
    const r = await launch(d, ["sh", "-c", "echo ran; awk '$5 == \"/\"' /proc/self/mountinfo | wc -l; awk '$5 == \"/proc\"' /proc/self/mountinfo | wc -l"], failing);
    expect(r.stderr).toBe("one-pass: yes\n");
    expect(r.code).toBe(0);
    // one root and one /proc: the step path's, with nothing left over from the one-pass try
    expect(r.stdout).toBe("ran\n1\n1\n");
  });

  test("when the kernel refuses the overlay, fuse-overlayfs takes over and later launches skip the one-pass table", async () => {
    // workdir and upperdir on different file systems: kernel overlayfs refuses, fuse-overlayfs does not mind
    const shm = "/dev/shm";
    expect(existsSync(shm)).toBe(true);
    const elsewhere = join(shm, `karapace-mounts-test-${process.pid}`);
    try {
      await refusedThenFuse(elsewhere);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  async function refusedThenFuse(elsewhere: string): Promise<void> {
    const d = dirs("refused", elsewhere);
    const first = await launch(d, ["sh", "-c", "echo first; grep -c fuse /proc/self/mountinfo"]);
    expect(first.stderr).toBe("one-pass: yes\n");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("first\n1\n");
    expect(existsSync(join(d.envDir, "mounts", "kernel-overlay-refused"))).toBe(true);
    const second = await launch(d, ["echo", "second"]);
    expect({ stderr: second.stderr, code: second.code, stdout: second.stdout }).toEqual({ stderr: "one-pass: no\n", code: 0, stdout: "second\n" });
  }

  test("the one-pass table is left out while the merged tree needs preparing or paths cannot be written unescaped", () => {
    const d = dirs("plan");
    const base = { lower: rootfs, ...d, hostname: "x", binds: [], devices: [], innerPath: "/bin", workdir: "/", command: [] };
    // the network is shared, so the host's resolv.conf is bound: busybox has none, so it must be made first
    expect(mountPlan({ ...base, isolateNetwork: false, overlay: "auto" }, d.envDir).onePass).toBeUndefined();
    mkdirSync(join(d.upper, "etc"), { recursive: true });
    writeFileSync(join(d.upper, "etc", "resolv.conf"), "");
    expect(mountPlan({ ...base, isolateNetwork: false, overlay: "auto" }, d.envDir).onePass).toBeDefined();
    const fileBind = { source: "/etc/hostname", target: "/srv/a-file", readOnly: true, file: true, reason: "test" };
    expect(mountPlan({ ...base, binds: [fileBind], isolateNetwork: true, overlay: "auto" }, d.envDir).onePass).toBeUndefined();
    expect(mountPlan({ ...base, isolateNetwork: true, overlay: "fuse" }, d.envDir).onePass).toBeUndefined();
    expect(mountPlan({ ...base, upper: `${d.upper} x`, isolateNetwork: true, overlay: "auto" }, d.envDir).onePass).toBeUndefined();
    const plan = mountPlan({ ...base, isolateNetwork: true, overlay: "auto" }, d.envDir);
    expect(readFileSync(plan.onePass as string, "utf8").split("\n")[0]).toBe(`overlay ${d.merged} overlay lowerdir=${rootfs},upperdir=${d.upper},workdir=${d.work} 0 0`);
  });
});
