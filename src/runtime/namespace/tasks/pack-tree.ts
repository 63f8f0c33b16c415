/** `pack-tree <dir> <tar-path> [--no-xattrs] [--overlay-upper]`, run as root of the user namespace, so subuid-owned files are readable. */
import { RuntimeError } from "../../../errors.ts";
import { packTree, type PackResult } from "../../../../wasm/pack.ts";

const FLAGS = new Set(["--no-xattrs", "--overlay-upper"]);

export async function run(args: readonly string[]): Promise<PackResult> {
  const [dir, tarPath, ...flags] = args;
  if (dir === undefined || tarPath === undefined || flags.some((f) => !FLAGS.has(f))) {
    throw new RuntimeError("pack-tree takes <dir> <tar-path> [--no-xattrs] [--overlay-upper]");
  }
  return packTree(dir, tarPath, { xattrs: !flags.includes("--no-xattrs"), overlayUpper: flags.includes("--overlay-upper") });
}
