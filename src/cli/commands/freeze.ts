import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class FreezeCommand extends EngineCommand {
  static override paths = [["freeze"]];

  static override usage = Command.Usage({
    description: "freeze an environment (no more changes to it)",
    details: `
      Freezing keeps the environment as it is: it can still be archived or
      built again, but not entered to change it. The lifecycle allows it from
      built and running.

      A change the lifecycle does not allow is refused (exit 1) with the
      current state and the states it can go to.
    `,
    examples: [["Freeze by name", "$0 freeze web"], ["Freeze by short id, as JSON", "$0 freeze 3f2a9c1b0d4e --json"]],
  });

  static override meta: CommandMeta = { positionals: { env: ENV_POSITIONAL } };

  env = Option.String({ name: "env" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("freeze");
    try {
      const m = await engine.freeze(this.env);
      this.out.result({ env_id: m.env_id, short_id: m.short_id, name: m.name, state: m.state, status: "frozen" }, (w) =>
        w.line(`frozen environment ${m.name === null ? m.short_id : `'${m.name}' (${m.short_id})`}`),
      );
    } finally {
      engine.close();
    }
    return 0;
  }
}
