/** `snapshot-pack <upper> <tar-path>`: an upper dir as an OCI-style layer, run where its files are ours (see ../owner.ts). */
import { RuntimeError } from "../../errors.ts";
import { packTree, type PackResult } from "../../../wasm/pack.ts";

export async function run(args: readonly string[]): Promise<PackResult> {
  const [upper, tarPath, ...rest] = args;
  if (upper === undefined || tarPath === undefined || rest.length > 0) throw new RuntimeError("snapshot-pack takes <upper> <tar-path>");
  return packTree(upper, tarPath, { overlayUpper: true });
}
