/**
 * The snapshot operations that read or write an upper dir, run where the
 * upper dir's files are ours. After a package install an upper dir holds
 * files owned by subordinate uids (and 0700 directories of theirs) that an
 * unprivileged user can neither read nor remove, so for such a user these run
 * as `karapace __userns-task snapshot-*` inside a user namespace where those
 * uids are mapped (src/runtime/userns.ts). Root owns everything already and
 * runs them in-process.
 */
import type { PackResult } from "../../wasm/pack.ts";
import type { UpperDrift } from "./drift.ts";
import type { UnpackOptions, UnpackResult } from "./unpack.ts";

async function inProcess(): Promise<boolean> {
  const { detectMapping } = await import("../runtime/userns.ts");
  return detectMapping().kind === "root";
}

async function task<T>(name: string, args: readonly string[], warn?: (line: string) => void): Promise<T> {
  const { runSelfTaskInUserns } = await import("../runtime/userns.ts");
  return runSelfTaskInUserns<T>(name, args, { warn });
}

/** packTree of an upper dir in OCI layer form (whiteouts, opaque dirs). */
export async function packUpper(upper: string, tarPath: string, warn?: (line: string) => void): Promise<PackResult> {
  if (await inProcess()) {
    const { packTree } = await import("../../wasm/pack.ts");
    return packTree(upper, tarPath, { overlayUpper: true });
  }
  return task<PackResult>("snapshot-pack", [upper, tarPath], warn);
}

/** Unpacks the store object `tarHash` (verified while it is read) into `dest`, which must not exist. */
export async function unpackObject(storeRoot: string, tarHash: string, dest: string, options: UnpackOptions = {}, warn?: (line: string) => void): Promise<UnpackResult> {
  if (await inProcess()) {
    const { unpackStoreObject } = await import("./tasks/unpack.ts");
    return unpackStoreObject(storeRoot, tarHash, dest, options);
  }
  const args = [storeRoot, tarHash, dest, `--whiteouts=${options.whiteouts ?? "auto"}`, `--xattrs=${options.overlayXattrs ?? "user"}`];
  return task<UnpackResult>("snapshot-unpack", args, warn);
}

export async function diffUpperAsOwner(upper: string, lower: string | undefined, warn?: (line: string) => void): Promise<UpperDrift> {
  if (await inProcess()) {
    const { diffUpper } = await import("./drift.ts");
    return diffUpper(upper, lower);
  }
  return task<UpperDrift>("snapshot-diff", lower === undefined ? [upper] : [upper, lower], warn);
}

/** rm -rf of trees that may hold files of subordinate uids. */
export async function removeAsOwner(paths: readonly string[]): Promise<void> {
  const { removeTreeAsOwner } = await import("../runtime/namespace/subid-tree.ts");
  for (const path of paths) await removeTreeAsOwner(path);
}
