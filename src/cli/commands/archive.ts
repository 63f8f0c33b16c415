import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class ArchiveCommand extends EngineCommand {
  static override paths = [["archive"]];

  static override usage = Command.Usage({
    description: "archive an environment (kept, but not used)",
    details: `
      An archived environment is kept (gc never removes it) but cannot be
      entered, frozen or run until it is built again with \`karapace build\`.
      The lifecycle allows it from built and frozen.

      A change the lifecycle does not allow is refused (exit 1) with the
      current state and the states it can go to.
    `,
    examples: [["Archive by name", "$0 archive web"], ["Archive by short id, as JSON", "$0 archive 3f2a9c1b0d4e --json"]],
  });

  static override meta: CommandMeta = { positionals: { env: ENV_POSITIONAL } };

  env = Option.String({ name: "env" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("archive");
    try {
      const m = await engine.archive(this.env);
      this.out.result({ env_id: m.env_id, short_id: m.short_id, name: m.name, state: m.state, status: "archived" }, (w) =>
        w.line(`archived environment ${m.name === null ? m.short_id : `'${m.name}' (${m.short_id})`}`),
      );
    } finally {
      engine.close();
    }
    return 0;
  }
}
