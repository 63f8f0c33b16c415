import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

function humanSize(bytes: number | null): string {
  if (bytes === null) return "(missing)";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

export class SnapshotsCommand extends EngineCommand {
  static override paths = [["snapshots"]];

  static override usage = Command.Usage({
    description: "list an environment's snapshots",
    details: `
      Lists the snapshots committed from the environment, oldest first: the
      restore hash (what \`karapace restore\` takes; a unique prefix of it will
      do), when it was last committed, and the archive's size. With
      \`--json\`: \`env_id\` and \`snapshots\`, each with \`hash\` (the layer's
      identity), \`restore_hash\`, \`tar_hash\`, \`parent\` (the base layer),
      \`created_at\` and \`size\`.
    `,
    examples: [["List the snapshots of 'web'", "$0 snapshots web"], ["As JSON", "$0 snapshots web --json"]],
  });

  static override meta: CommandMeta = { positionals: { env: ENV_POSITIONAL } };

  env = Option.String({ name: "env" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("snapshots");
    try {
      const r = await engine.snapshots(this.env);
      const { short_id, name, ...json } = r;
      this.out.result(json, (w) => {
        const who = name ?? short_id;
        if (r.snapshots.length === 0) {
          w.line(`no snapshots for ${who}`);
          return;
        }
        w.line(`snapshots for ${who}:`);
        w.table(
          r.snapshots.map((s) => [s.restore_hash, s.created_at.replace(/\.\d+Z$/, "Z"), humanSize(s.size), s.tar_hash.slice(0, 12)]),
          { header: ["RESTORE HASH", "CREATED", "SIZE", "TAR"], align: ["left", "left", "right", "left"] },
        );
      });
    } finally {
      engine.close();
    }
    return 0;
  }
}
