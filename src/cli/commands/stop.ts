import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { CliUsageError } from "../../errors.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class StopCommand extends EngineCommand {
  static override paths = [["stop"]];

  static override usage = Command.Usage({
    description: "stop everything running in an environment",
    details: `
      Sends SIGTERM to every command running in the environment (\`exec\` and
      \`enter\` sessions, from any terminal), waits up to \`--timeout\` seconds
      for them to end, then kills what is left with SIGKILL. The environment is
      built again afterwards. A process that is the first one in its sandbox
      (the command \`exec\` started, or the shell of \`enter\`) only sees SIGTERM
      if it handles it, so such a command usually ends at the timeout.
    `,
    examples: [
      ["Stop 'web'", "$0 stop web"],
      ["Give it 2 seconds before SIGKILL, JSON result", "$0 stop web --timeout 2 --json"],
    ],
  });

  static override meta: CommandMeta = { positionals: { env: ENV_POSITIONAL }, options: { "--timeout": { valueName: "seconds" } } };

  env = Option.String({ name: "env" });
  timeout = Option.String("--timeout", "10", { description: "Seconds to wait after SIGTERM before SIGKILL (default 10)" });

  async execute(): Promise<number> {
    const seconds = Number(this.timeout);
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new CliUsageError(`--timeout ${this.timeout}: not a number of seconds`, { hint: "give a number of seconds, e.g. --timeout 5" });
    }
    const engine = await this.openEngine("stop");
    try {
      const r = await engine.stop(this.env, { timeoutMs: seconds * 1000 });
      this.out.result(r, (w) => {
        const who = r.name === null ? r.short_id : `'${r.name}' (${r.short_id})`;
        if (r.stopped === 0) w.line(`environment ${who} had nothing running; it is ${r.state}`);
        else w.line(`stopped ${r.stopped} command${r.stopped === 1 ? "" : "s"} in environment ${who}${r.killed ? " (killed after the timeout)" : ""}; it is ${r.state}`);
      });
    } finally {
      engine.close();
    }
    return 0;
  }
}
