/**
 * End to end as an unprivileged user (karapace-test when the suite runs as
 * root) with the compiled binary: a busybox environment on the namespace
 * backend is changed by exec, committed, changed again, restored, and exec
 * then shows exactly the committed state (deleted base file still hidden,
 * hardlink still one inode). The snapshot tasks run in the user namespace.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { manifest, Scenario } from "../runtime/helpers.ts";
import { requireTool } from "../support/prereq.ts";

let s: Scenario;

beforeAll(async () => {
  requireTool("tar");
  s = new Scenario("snap");
  const rootfs = await s.busybox();
  const project = s.project("bb", manifest(rootfs));
  const r = await s.kp(["build", "--name", "bb"], { cwd: project });
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
});

afterAll(() => s?.cleanup());

async function exec(script: string): Promise<string> {
  const r = await s.kp(["exec", "bb", "--", "sh", "-c", script]);
  if (r.code !== 0) throw new Error(`exec failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function json<T>(args: string[]): Promise<T> {
  const r = await s.kp([...args, "--json"]);
  if (r.code !== 0) throw new Error(`karapace ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

test("exec, commit, exec, restore: exec sees the committed state", async () => {
  await exec("echo one > /root/a && ln /root/a /root/a2 && rm /etc/group && mkdir -p /srv/x && echo x > /srv/x/f");
  const diff = await json<{ added: string[]; removed: string[]; base_dir: string | null }>(["diff", "bb"]);
  expect(diff.base_dir).not.toBeNull();
  expect(diff.added).toEqual(expect.arrayContaining(["root/a", "root/a2", "srv", "srv/x", "srv/x/f"]));
  expect(diff.removed).toEqual(["etc/group"]);

  const commit = await json<{ snapshot_hash: string; whiteouts: number }>(["commit", "bb"]);
  expect(commit.whiteouts).toBe(1);
  const listed = await json<{ snapshots: Array<{ restore_hash: string }> }>(["snapshots", "bb"]);
  expect(listed.snapshots.map((x) => x.restore_hash)).toEqual([commit.snapshot_hash]);

  await exec("echo two > /root/a && rm -r /srv && echo later > /root/b && echo 'g:x:1:' > /etc/group");
  expect(await exec("cat /root/a; ls /root; cat /etc/group")).toBe("two\na\na2\nb\ng:x:1:\n");

  const restored = await json<{ restored_snapshot: string }>(["restore", "bb", commit.snapshot_hash.slice(0, 12)]);
  expect(restored.restored_snapshot).toBe(commit.snapshot_hash);
  const out = await exec("cat /root/a; ls /root; test -e /etc/group && echo group || echo no-group; cat /srv/x/f; [ $(stat -c %i /root/a) = $(stat -c %i /root/a2) ] && echo same-inode");
  expect(out).toBe("one\na\na2\nno-group\nx\nsame-inode\n");

  const file = join(s.home, "bb-export.tar");
  const exported = await json<{ output: string; whiteouts: number }>(["export", "bb", "-o", file]);
  expect(exported.whiteouts).toBe(1);
  const list = Bun.spawnSync([requireTool("tar"), "-tf", file]).stdout.toString().split("\n");
  expect(list).toContain("etc/.wh.group");
  expect(list).toContain("root/a2");
  const verify = await s.kp(["verify-store"]);
  expect(verify.code).toBe(0);
}, 300_000);
