import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class DiffCommand extends EngineCommand {
  static override paths = [["diff"]];

  static override usage = Command.Usage({
    description: "show what an environment changed relative to its base image",
    details: `
      Lists the paths the environment's writable layer adds (\`+\`), modifies
      (\`~\`) and removes (\`-\`) relative to the base image's root filesystem,
      each list sorted. A deleted base file shows as removed (with everything
      below it, for a directory); a directory that was deleted and made again
      replaces the base one as a whole: it is listed as modified and marked
      "replaced", the base paths below it are removed and its new content is
      added. Paths are relative to the environment's root.

      With \`--json\`: \`env_id\`, \`added\`, \`modified\`, \`removed\`,
      \`replaced_dirs\`, \`has_drift\`, and \`base_dir\` (the directory compared
      against; null for an environment without a base image on record, whose
      every path is then reported as added). Exit 0 whether or not there is drift.
    `,
    examples: [["Show the drift of 'web'", "$0 diff web"], ["As JSON", "$0 diff web --json"]],
  });

  static override meta: CommandMeta = { positionals: { env: ENV_POSITIONAL } };

  env = Option.String({ name: "env" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("diff");
    try {
      const r = await engine.diff(this.env);
      const { short_id, name, ...json } = r;
      this.out.result(json, (w) => {
        const who = name ?? short_id;
        if (!r.has_drift) {
          w.line(`no drift detected in environment ${who}`);
          return;
        }
        const replaced = new Set(r.replaced_dirs);
        w.line(`drift detected in environment ${who}:`);
        for (const p of r.added) w.line(`  ${w.style.green("+")} ${p}`);
        for (const p of r.modified) w.line(`  ${w.style.yellow("~")} ${p}${replaced.has(p) ? " (replaced)" : ""}`);
        for (const p of r.removed) w.line(`  ${w.style.red("-")} ${p}`);
      });
    } finally {
      engine.close();
    }
    return 0;
  }
}
