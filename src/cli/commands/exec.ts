import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { runExec } from "../plain-exec.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class ExecCommand extends EngineCommand {
  static override paths = [["exec"]];

  static override usage = Command.Usage({
    description: "run a command in an environment",
    details: `
      Runs COMMAND inside the environment, non-interactively: its standard
      input is passed through, its output streams to karapace's stdout and
      stderr as it is written, and its exit code becomes karapace's (a command
      ended by signal N exits 128+N). The environment is running while the
      command runs and built again afterwards, also when karapace itself is
      killed (the next karapace command notices). Several commands may run in
      one environment at the same time.

      Put \`--\` before the command so that its options are not taken for
      karapace's.
    `,
    examples: [
      ["Print the version of git inside 'web'", "$0 exec web -- git --version"],
      ["Run a shell pipeline", "$0 exec web -- sh -c 'ls / | wc -l'"],
    ],
  });

  static override meta: CommandMeta = {
    positionals: {
      env: ENV_POSITIONAL,
      command: { description: "The command to run inside", values: { kind: "none" } },
      args: { description: "Its arguments", values: { kind: "none" } },
    },
  };

  env = Option.String({ name: "env" });
  command = Option.Rest({ name: "command", required: 1 });

  async execute(): Promise<number> {
    return runExec(this.storeRoot, this.out, this.context.stderr, { env: this.env, command: this.command });
  }
}
