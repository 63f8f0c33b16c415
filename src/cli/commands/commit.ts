import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class CommitCommand extends EngineCommand {
  static override paths = [["commit"]];

  static override usage = Command.Usage({
    description: "save an environment's changes as a snapshot",
    details: `
      Packs the environment's writable layer (everything it changed on top of
      its base image: files, deletions, replaced directories, hardlinks,
      extended attributes) into a deterministic archive in the store and
      records it as a snapshot layer. The same state always gives the same
      snapshot; committing it again only marks it as the newest.

      Only a built or frozen environment can be committed (exit 1 otherwise,
      e.g. while it runs). A crash or kill during the commit leaves the store
      as it was. Prints the snapshot's restore hash, which \`karapace restore\`
      takes; with \`--json\`: \`env_id\`, \`snapshot_hash\`, \`layer_hash\`,
      \`tar_hash\`, \`size\`, \`entries\`, \`whiteouts\`, \`opaque_dirs\`,
      \`skipped\` and \`status\` (created or unchanged).
    `,
    examples: [["Commit 'web'", "$0 commit web"], ["Commit, JSON result", "$0 commit web --json"]],
  });

  static override meta: CommandMeta = { positionals: { env: ENV_POSITIONAL } };

  env = Option.String({ name: "env" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("commit");
    try {
      const r = await engine.commit(this.env);
      const { short_id, name, ...json } = r;
      this.out.result(json, (w) => {
        const who = name ?? short_id;
        w.line(`committed snapshot ${r.snapshot_hash} for ${who}${r.status === "unchanged" ? " (unchanged since an earlier commit)" : ""}`);
      });
    } finally {
      engine.close();
    }
    return 0;
  }
}
