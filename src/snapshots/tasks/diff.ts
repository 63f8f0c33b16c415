/** `snapshot-diff <upper> [<lower>]`: drift of an upper dir, run where its files are ours (see ../owner.ts). */
import { RuntimeError } from "../../errors.ts";
import { diffUpper, type UpperDrift } from "../drift.ts";

export async function run(args: readonly string[]): Promise<UpperDrift> {
  const [upper, lower, ...rest] = args;
  if (upper === undefined || rest.length > 0) throw new RuntimeError("snapshot-diff takes <upper> [<lower>]");
  return diffUpper(upper, lower);
}
