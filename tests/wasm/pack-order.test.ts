import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packTree } from "../../wasm/index.ts";

const work = mkdtempSync(join(tmpdir(), "kp-pack-order-"));
// The unprivileged extractor must be able to reach the archive and the destination.
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function need(tool: string): string {
  const path = Bun.which(tool, { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` });
  if (!path) throw new Error(`missing prerequisite: ${tool} (apt-get install ${tool === "setpriv" ? "util-linux" : tool})`);
  return path;
}

test("a read-only directory with a sibling that sorts between it and its children extracts as an unprivileged user", async () => {
  // "a-b" sorts between "a/" and "a/c" when whole paths are compared as bytes;
  // depth-first order keeps a/'s contents together so tar can apply 0555 after them.
  const src = join(work, "src");
  mkdirSync(join(src, "a"), { recursive: true });
  writeFileSync(join(src, "a", "c"), "inside\n");
  writeFileSync(join(src, "a-b"), "beside\n");
  chmodSync(join(src, "a"), 0o555);
  const archive = join(work, "order.tar");
  await packTree(src, archive);
  chmodSync(archive, 0o644);

  const list = Bun.spawnSync([need("tar"), "-tf", archive]);
  expect(list.stdout.toString().split("\n").filter(Boolean)).toEqual(["a/", "a/c", "a-b"]);

  const dst = join(work, "dst");
  mkdirSync(dst, { mode: 0o777 });
  chmodSync(dst, 0o777);
  const asNobody = Bun.spawnSync([need("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups", need("tar"), "-xf", archive, "-C", dst]);
  expect({ code: asNobody.exitCode, stderr: asNobody.stderr.toString() }).toEqual({ code: 0, stderr: "" });
  expect(await Bun.file(join(dst, "a", "c")).text()).toBe("inside\n");
  chmodSync(join(dst, "a"), 0o755);
});
