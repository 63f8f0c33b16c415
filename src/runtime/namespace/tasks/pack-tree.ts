/** `pack-tree <dir> <tar-path> [--no-xattrs]`, run as root of the user namespace, so subuid-owned files are readable. */
import { RuntimeError } from "../../../errors.ts";
import { packTree, type PackResult } from "../../../../wasm/pack.ts";

export async function run(args: readonly string[]): Promise<PackResult> {
  const [dir, tarPath, ...flags] = args;
  if (dir === undefined || tarPath === undefined || flags.some((f) => f !== "--no-xattrs")) {
    throw new RuntimeError("pack-tree takes <dir> <tar-path> [--no-xattrs]");
  }
  return packTree(dir, tarPath, { xattrs: !flags.includes("--no-xattrs") });
}
