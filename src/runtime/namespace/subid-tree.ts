/**
 * Packing and removing trees that may hold files owned by subordinate uids
 * (an environment's upper dir after a package install). Both run through the
 * user-namespace task when we are not root; root owns everything already.
 */
import type { PackResult } from "../../../wasm/pack.ts";
import { removeTree } from "../../store/fsx.ts";
import { detectMapping, runSelfTaskInUserns } from "../userns.ts";

export async function packTreeAsOwner(dir: string, tarPath: string, warn?: (line: string) => void): Promise<PackResult> {
  if (detectMapping().kind === "root") {
    const { packTree } = await import("../../../wasm/pack.ts");
    return packTree(dir, tarPath);
  }
  return runSelfTaskInUserns<PackResult>("pack-tree", [dir, tarPath], { warn });
}

/** removeTree, falling back to the user-namespace task when the tree holds files we cannot delete from outside. */
export async function removeTreeAsOwner(path: string): Promise<void> {
  try {
    removeTree(path);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") throw error;
  }
  await runSelfTaskInUserns("remove-tree", [path]);
}
