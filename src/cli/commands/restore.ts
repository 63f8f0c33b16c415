import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class RestoreCommand extends EngineCommand {
  static override paths = [["restore"]];

  static override usage = Command.Usage({
    description: "put an environment back to a snapshot",
    details: `
      Replaces the environment's writable layer with the content of one of its
      snapshots (see \`karapace snapshots\`): the snapshot is unpacked into the
      store's staging area, its archive re-hashed while it is read, and only
      then swapped in by renames. A crash or kill at any point leaves either
      the previous state or the snapshot's, never a mix. Changes made since the
      snapshot are discarded: commit them first to keep them.

      \`snapshot\` is a restore hash, a unique prefix of one (4 characters or
      more), or a snapshot's layer hash. Only a built or frozen environment can
      be restored (exit 1 otherwise); an unknown snapshot is a store error
      (exit 3). With \`--json\`: \`env_id\`, \`restored_snapshot\`, \`tar_hash\`,
      \`entries\`, \`whiteouts\` and \`opaque_dirs\`.
    `,
    examples: [
      ["Restore 'web' to a snapshot", "$0 restore web 9b1f0c2d7e4a"],
      ["JSON result", "$0 restore web 9b1f0c2d7e4a --json"],
    ],
  });

  static override meta: CommandMeta = {
    positionals: { env: ENV_POSITIONAL, snapshot: { description: "The snapshot's restore hash (or a unique prefix of it)" } },
  };

  env = Option.String({ name: "env" });
  snapshot = Option.String({ name: "snapshot" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("restore");
    try {
      const r = await engine.restore(this.env, this.snapshot);
      const { short_id, name, ...json } = r;
      this.out.result(json, (w) => w.line(`restored ${name ?? short_id} from snapshot ${r.restored_snapshot}`));
    } finally {
      engine.close();
    }
    return 0;
  }
}
