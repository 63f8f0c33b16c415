import { Command, Option } from "clipanion";
import { CliUsageError } from "../../errors.ts";
import { KarapaceCommand } from "../base-command.ts";
import type { CommandMeta } from "../command-meta.ts";
import { SHELLS, isShell } from "../completion/shells.ts";

export class CompletionsCommand extends KarapaceCommand {
  static override paths = [["completions"]];

  static override usage = Command.Usage({
    description: "print a shell completion script",
    details: `
      Writes a completion script for the given shell to stdout. The script is
      generated from the commands this binary knows, so it completes every
      command name, each command's options, and values such as shell names and
      directories. Regenerate it after upgrading karapace.

      Supported shells: ${SHELLS.map((shell) => `\`${shell}\``).join(", ")}.
      See docs/cli.md for where each shell looks for completion files.
    `,
    examples: [
      ["Enable completions in the current bash session", "source <($0 completions bash)"],
      ["Install for zsh (the directory must be on $fpath)", "$0 completions zsh > ~/.zfunc/_karapace"],
      ["Install for fish", "$0 completions fish > ~/.config/fish/completions/karapace.fish"],
    ],
  });

  static override meta: CommandMeta = {
    positionals: {
      shell: { description: `The shell to generate for: ${SHELLS.join(", ")}`, values: { kind: "choice", values: SHELLS } },
    },
  };

  shell = Option.String({ name: "shell" });

  async execute(): Promise<number> {
    const shell = this.shell.toLowerCase();
    if (!isShell(shell)) {
      throw new CliUsageError(`unsupported shell '${this.shell}'`, { hint: `choose one of: ${SHELLS.join(", ")}` });
    }
    const [{ REGISTERED_COMMANDS }, { describeCli }, { renderCompletion }] = await Promise.all([
      import("../registry.ts"),
      import("../spec.ts"),
      import("../completion/render.ts"),
    ]);
    const script = renderCompletion(shell, describeCli(REGISTERED_COMMANDS));
    this.out.result({ shell, script }, (writer) => writer.raw(script));
    return 0;
  }
}
