/**
 * The fuse-overlayfs path of the namespace backend, forced with
 * KARAPACE_OVERLAY=fuse (where kernel overlayfs is refused, auto mode takes
 * the same path): a busybox environment built and run as the unprivileged
 * test user, the overlay mounted by fuse-overlayfs inside the user namespace.
 *
 * Needs fuse-overlayfs and a /dev/fuse the test user may open (distributions
 * ship it 0666; .ci/run makes it so where a VM does not).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { missingPrerequisite, requireTool } from "../support/prereq.ts";
import { asTestUser } from "../support/rootless.ts";
import { manifest, Scenario, until } from "./helpers.ts";

/** /dev/fuse must be openable read-write by the test user, not only by us. */
function requireUserFuse(): void {
  requireTool("fuse-overlayfs");
  if (!existsSync("/dev/fuse")) throw missingPrerequisite("/dev/fuse (the fuse kernel module)");
  const probe = Bun.spawnSync(asTestUser(["sh", "-c", "exec 3<>/dev/fuse"]), { stderr: "pipe" });
  if (!probe.success) {
    throw missingPrerequisite(`a /dev/fuse the unprivileged test user can open (chmod 0666 /dev/fuse; it is ${(lstatSync("/dev/fuse").mode & 0o777).toString(8)} here)`);
  }
}

const FUSE = { KARAPACE_OVERLAY: "fuse" };
let s: Scenario;
let envId: string;

beforeAll(async () => {
  requireUserFuse();
  s = new Scenario("fuse");
  const rootfs = await s.busybox();
  const project = s.project("fz", manifest(rootfs));
  const r = await s.kp(["build", "--name", "fz", "--json"], { cwd: project, env: FUSE });
  if (r.code !== 0) throw new Error(`build with fuse-overlayfs failed (${r.code}): ${r.stderr}`);
  envId = (JSON.parse(r.stdout) as { env_id: string }).env_id;
}, 300_000);

afterAll(() => s?.cleanup());

/** The filesystem type of the environment's root as the sandbox itself sees it. */
async function rootFsType(env: Record<string, string>): Promise<string> {
  const r = await s.kp(["exec", "fz", "--", "sh", "-c", "while read -r dev dir type rest; do [ \"$dir\" = / ] && t=$type; done < /proc/mounts; echo \"$t\""], { env });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return r.stdout.trim();
}

describe("namespace backend over fuse-overlayfs", () => {
  test("the environment's root is a fuse-overlayfs mount", async () => {
    expect(await rootFsType(FUSE)).toBe("fuse.fuse-overlayfs");
    // The control: without the override this kernel mounts its own overlayfs.
    expect(await rootFsType({})).toBe("overlay");
  });

  test("a file written in one exec is there in the next, and in the upper dir", async () => {
    const write = await s.kp(["exec", "fz", "--", "sh", "-c", "echo kept-by-fuse > /root/note"], { env: FUSE });
    expect({ code: write.code, stderr: write.stderr }).toEqual({ code: 0, stderr: "" });
    const read = await s.kp(["exec", "fz", "--", "cat", "/root/note"], { env: FUSE });
    expect({ code: read.code, stdout: read.stdout }).toEqual({ code: 0, stdout: "kept-by-fuse\n" });
    expect(existsSync(join(s.store, "env", envId, "upper", "root", "note"))).toBe(true);
  });

  test("a deleted base file stays deleted, and kernel overlayfs agrees on the upper dir fuse wrote", async () => {
    const rm = await s.kp(["exec", "fz", "--", "rm", "/etc/group"], { env: FUSE });
    expect({ code: rm.code, stderr: rm.stderr }).toEqual({ code: 0, stderr: "" });
    const probe = ["exec", "fz", "--", "sh", "-c", "test -e /etc/group && echo present || echo gone; cat /root/note"];
    expect((await s.kp(probe, { env: FUSE })).stdout).toBe("gone\nkept-by-fuse\n");
    expect((await s.kp(probe)).stdout).toBe("gone\nkept-by-fuse\n");
  });

  test("the fuse daemon does not outlive the command, and the state returns to built", async () => {
    const upper = join(s.store, "env", envId, "upper");
    const daemons = (): string[] =>
      readdirSync("/proc").filter((pid) => {
        if (!/^\d+$/.test(pid)) return false;
        try {
          const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
          return (argv[0] ?? "").endsWith("fuse-overlayfs") && argv.some((a) => a.includes(`upperdir=${upper},`));
        } catch {
          return false; // gone meanwhile
        }
      });
    const sleeping = (): boolean =>
      readdirSync("/proc").some((pid) => {
        try {
          return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, "utf8") === "sleep\u000030.5\u0000";
        } catch {
          return false;
        }
      });
    const running = s.spawn(["exec", "fz", "--", "sleep", "30.5"], { env: FUSE });
    await until("the fuse-overlayfs daemon of the exec", () => daemons().length === 1);
    // Stopped during its setup the sandbox would end by SIGTERM; the point here is the daemon after the command.
    await until("the command to run", sleeping);
    // Ended by stop's SIGTERM, or by its SIGKILL a second later if the command ignores SIGTERM.
    expect((await s.kp(["stop", "fz", "--timeout", "1"])).code).toBe(0);
    expect([128 + 15, 128 + 9]).toContain(await running.exited);
    // The daemon is in the sandbox's pid namespace: it ends with the command's sandbox.
    await until("the fuse-overlayfs daemon to end", () => daemons().length === 0, 10_000);
    expect(await s.state("fz")).toBe("Built");
  }, 60_000);
});
