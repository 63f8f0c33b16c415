/** `remove-tree <path>...`, run as root of the user namespace, where subuid-owned files and 0700 directories are ours. */
import { RuntimeError } from "../../../errors.ts";
import { removeTree } from "../../../store/fsx.ts";

export async function run(args: readonly string[]): Promise<{ removed: number }> {
  if (args.length === 0) throw new RuntimeError("remove-tree takes at least one path");
  for (const path of args) {
    if (!path.startsWith("/")) throw new RuntimeError(`remove-tree: ${path} is not an absolute path`);
    removeTree(path);
  }
  return { removed: args.length };
}
