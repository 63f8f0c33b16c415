/**
 * Packing and removing trees that may hold files owned by subordinate uids
 * (an environment's upper dir after a package install). Both run through the
 * user-namespace task when we are not root; root owns everything already.
 */
import type { PackResult } from "../../../wasm/pack.ts";
import { removeTree } from "../../store/fsx.ts";
import { detectMapping, runSelfTaskInUserns } from "../userns.ts";

export interface PackAsOwnerOptions {
  warn?: (line: string) => void;
  /** The tree is an overlay upper dir: whiteouts and opaque dirs in OCI layer form (see wasm/pack.ts). */
  overlayUpper?: boolean;
}

export async function packTreeAsOwner(dir: string, tarPath: string, options: PackAsOwnerOptions = {}): Promise<PackResult> {
  const overlayUpper = options.overlayUpper === true;
  if (detectMapping().kind === "root") {
    const { packTree } = await import("../../../wasm/pack.ts");
    return packTree(dir, tarPath, { overlayUpper });
  }
  return runSelfTaskInUserns<PackResult>("pack-tree", overlayUpper ? [dir, tarPath, "--overlay-upper"] : [dir, tarPath], { warn: options.warn });
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
