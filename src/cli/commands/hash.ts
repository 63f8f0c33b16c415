import { Option } from "clipanion";
import { KarapaceCommand } from "../base-command.ts";

/**
 * `karapace hash [--tree] PATH...`: BLAKE3 of files, or the tree digest of
 * directories (docs/tree-digest.md), computed by the same WASM code the store
 * uses. Not part of the reference CLI, so it is kept out of help and
 * completions; it exists for debugging stores and for checking that a
 * compiled binary carries its WASM module and hash workers.
 */
export class HashCommand extends KarapaceCommand {
  static override paths = [["hash"]];

  tree = Option.Boolean("--tree", false, { description: "Digest directories as trees instead of hashing files" });
  targets = Option.Rest({ name: "path", required: 1 });

  async execute(): Promise<number> {
    const { digestTree, hashFile } = await import("../../../wasm/index.ts");
    const results: Array<{ path: string; blake3?: string; tree_digest?: string; files?: number; bytes?: number }> = [];
    for (const path of this.targets) {
      if (this.tree) {
        const d = await digestTree(path);
        results.push({ path, tree_digest: d.digest, files: d.files, bytes: d.bytes });
      } else {
        results.push({ path, blake3: await hashFile(path) });
      }
    }
    this.out.result(results, (w) => {
      for (const r of results) w.line(`${r.blake3 ?? r.tree_digest}  ${r.path}`);
    });
    return 0;
  }
}
