import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class RenameCommand extends EngineCommand {
  static override paths = [["rename"]];

  static override usage = Command.Usage({
    description: "give an environment a new name",
    details: `
      Names are 1 to 64 characters of letters, digits, \`_\` and \`-\`, and
      unique in the store: a name another environment has is refused (exit 3)
      and names that environment. The environment can then be addressed by
      its name in every command.
    `,
    examples: [["Rename by short id", "$0 rename 3f2a9c1b0d4e web"], ["Rename by name", "$0 rename web api"]],
  });

  static override meta: CommandMeta = {
    positionals: { env: ENV_POSITIONAL, name: { description: "The new name (1-64 of letters, digits, '_' and '-')" } },
  };

  env = Option.String({ name: "env" });
  name = Option.String({ name: "name" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("rename");
    try {
      const r = await engine.rename(this.env, this.name);
      this.out.result(r, (w) => {
        if (!r.changed) w.line(`environment ${r.short_id} is already named '${r.name}'`);
        else w.line(`renamed ${r.short_id}${r.previous_name === null ? "" : ` '${r.previous_name}'`} -> '${r.name}'`);
      });
    } finally {
      engine.close();
    }
    return 0;
  }
}
