import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class DestroyCommand extends EngineCommand {
  static override paths = [["destroy"]];

  static override usage = Command.Usage({
    description: "remove an environment and its directory",
    details: `
      Removes the environment's directory and its metadata; the objects and
      layers it used stay until \`karapace gc\` finds nothing else needs them.
      A running environment is refused: stop it first. Once started, a destroy
      always completes, even across a crash (the next command finishes it).

      An environment whose metadata is damaged can still be destroyed by its
      full env_id (as \`karapace verify-store\` names it).
    `,
    examples: [["Destroy by name", "$0 destroy web"], ["Destroy by env_id, as JSON", "$0 destroy 3f2a9c1b0d4e --json"]],
  });

  static override meta: CommandMeta = { positionals: { env: ENV_POSITIONAL } };

  env = Option.String({ name: "env" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("destroy");
    try {
      const r = await engine.destroy(this.env);
      this.out.result(r, (w) => {
        const who = r.name === null ? r.short_id : `'${r.name}' (${r.short_id})`;
        if (r.status === "destroyed") w.line(`destroyed environment ${who}`);
        else w.line(`released one reference to environment ${who}; ${r.ref_count} remain, so it is kept`);
      });
    } finally {
      engine.close();
    }
    return 0;
  }
}
