import { afterAll, describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { findSubidRange, selfCommand, USERNS_TASK_COMMAND } from "../../src/runtime/userns.ts";
import { compiledKarapace, karapaceAsTestUser, removeRootlessDir, requireRootlessUser, rootlessWorkDir, runAsTestUser } from "../support/rootless.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeRootlessDir(d);
});

describe("subordinate id ranges", () => {
  test("the first range of the user, by name or uid", () => {
    const text = "alice:100000:65536\nbob:165536:65536\n1001:300000:1000\n";
    expect(findSubidRange(text, "bob", 1000)).toEqual({ start: 165536, count: 65536 });
    expect(findSubidRange(text, "carol", 1001)).toEqual({ start: 300000, count: 1000 });
    expect(findSubidRange(text, "carol", 1002)).toBeUndefined();
  });
});

describe("rootless user namespace tasks", () => {
  test("scenarios run as the unprivileged user", async () => {
    const user = requireRootlessUser();
    const r = await runAsTestUser(["id", "-u"]);
    expect(r.code).toBe(0);
    expect(Number(r.stdout.trim())).toBe(user.uid);
    expect(user.uid).not.toBe(0);
  });

  test("self re-execution from source names the entry script", () => {
    const argv = selfCommand();
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toBe(resolve(import.meta.dir, "../../bin/karapace.ts"));
  });

  test("a subuid-owned 0700 tree is unreadable outside, and packed and removed through the tasks", async () => {
    const work = rootlessWorkDir("userns");
    dirs.push(work);
    const r = await runAsTestUser([process.execPath, join(import.meta.dir, "children/subid-tree.ts"), work], { cwd: work });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
    expect(out.mapping).toBe("subid");
    expect(out.setup.exitCode).toBe(0);
    expect(out.setup.stdout.trim()).toBe("100");
    expect(out.outsideError).toBe("EACCES");
    // tree/, public, secret/, secret/partial minus the root itself
    expect(out.pack.entries).toBe(3);
    expect(out.pack.tarHash).toMatch(/^[0-9a-f]{64}$/);
    expect(out.tarExists).toBe(true);
    expect(out.treeGone).toBe(true);
  });

  test("the compiled binary runs a task and reports an unknown one as an error reply", async () => {
    const work = rootlessWorkDir("userns-bin");
    dirs.push(work);
    compiledKarapace();
    const bad = await karapaceAsTestUser([USERNS_TASK_COMMAND, "no-such-task"], { cwd: work });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error.message).toContain("unknown user-namespace task 'no-such-task'");
    const ok = await karapaceAsTestUser([USERNS_TASK_COMMAND, "remove-tree", join(work, "absent")], { cwd: work });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ ok: true, result: { removed: 1 } });
  });
});
