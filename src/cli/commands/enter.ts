import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class EnterCommand extends EngineCommand {
  static override paths = [["enter"]];

  static override usage = Command.Usage({
    description: "open an interactive shell in an environment",
    details: `
      Starts a login shell inside the environment on this terminal (bash if the
      environment has it, else sh), in your home directory. The environment is
      running until the shell exits; \`karapace stop\` from another terminal
      ends the session. On a terminal, karapace prints a banner and the OSC 777
      container markers that terminal emulators use to show that a tab is
      inside a container. karapace exits with the shell's exit code.
    `,
    examples: [["Enter 'web'", "$0 enter web"]],
  });

  static override meta: CommandMeta = { positionals: { env: ENV_POSITIONAL } };

  env = Option.String({ name: "env" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("enter");
    try {
      const stderr = this.context.stderr as { write(text: string): void; isTTY?: boolean };
      return await engine.enter(this.env, { terminal: { write: (t) => stderr.write(t), isTTY: stderr.isTTY === true } });
    } finally {
      engine.close();
    }
  }
}
