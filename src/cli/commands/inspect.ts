import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";

export const ENV_POSITIONAL = { description: "The environment: env_id, short id, unique prefix, or name" };

export class InspectCommand extends EngineCommand {
  static override paths = [["inspect"]];

  static override usage = Command.Usage({
    description: "show an environment's metadata and manifest",
    details: `
      Shows the environment's identity, name, state, layers, reference count,
      timestamps and directory, and the normalized manifest it was built from
      (read from the store and verified against its hash: a damaged manifest
      object is an error, exit 3). With \`--json\`, the metadata fields plus
      \`env_dir\`, \`env_dir_exists\` and \`manifest\`.
    `,
    examples: [
      ["Inspect by name", "$0 inspect web"],
      ["Inspect by short id, as JSON", "$0 inspect 3f2a9c1b0d4e --json"],
    ],
  });

  static override meta: CommandMeta = { positionals: { env: ENV_POSITIONAL } };

  env = Option.String({ name: "env" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("inspect");
    try {
      const info = await engine.inspect(this.env);
      const m = info.metadata;
      this.out.result({ ...m, env_dir: info.env_dir, env_dir_exists: info.env_dir_exists, manifest: info.manifest }, (w) => {
        const pairs: [string, string][] = [
          ["env_id", m.env_id],
          ["short_id", m.short_id],
          ["name", m.name ?? "(none)"],
          ["state", m.state.toLowerCase()],
          ["base_layer", m.base_layer === "" ? "(none)" : m.base_layer],
          ["deps", String(m.dependency_layers.length)],
          ["ref_count", String(m.ref_count)],
          ["created_at", m.created_at],
          ["updated_at", m.updated_at],
          ["env_dir", info.env_dir_exists ? info.env_dir : `${info.env_dir} (missing)`],
        ];
        const mf = info.manifest;
        if (mf !== null) {
          pairs.push(
            ["base_image", mf.base_image],
            ["packages", mf.system_packages.length === 0 ? "(none)" : mf.system_packages.join(" ")],
            ["backend", mf.runtime_backend],
          );
        }
        w.keyValue(pairs);
      });
    } finally {
      engine.close();
    }
    return 0;
  }
}
