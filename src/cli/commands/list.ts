import { Command } from "clipanion";
import { EngineCommand } from "../engine-command.ts";

export class ListCommand extends EngineCommand {
  static override paths = [["list"]];

  static override usage = Command.Usage({
    description: "list the environments in the store",
    details: `
      One line per environment: its short id, name, state and full env_id,
      sorted by env_id. With \`--json\`, the environments' metadata as an array
      (the reference implementation's format).

      An environment whose metadata fails its checksum is left out with a
      warning on stderr; \`karapace verify-store\` lists every damaged item.
    `,
    examples: [
      ["List the environments", "$0 list"],
      ["As JSON, for scripts", "$0 list --json"],
    ],
  });

  async execute(): Promise<number> {
    const engine = await this.openEngine("list");
    try {
      const { environments } = engine.list();
      this.out.result(environments, (w) => {
        if (environments.length === 0) {
          w.line("no environments found");
          return;
        }
        w.table(
          environments.map((m) => [m.short_id, m.name ?? "", m.state.toLowerCase(), m.env_id]),
          { header: ["SHORT_ID", "NAME", "STATE", "ENV_ID"] },
        );
      });
    } finally {
      engine.close();
    }
    return 0;
  }
}
