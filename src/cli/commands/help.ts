import { Command, Option } from "clipanion";
import { KarapaceCommand } from "../base-command.ts";
import type { CommandMeta } from "../command-meta.ts";

export class HelpCommand extends KarapaceCommand {
  static override paths = [["help"], ["--help"], ["-h"]];

  static override usage = Command.Usage({
    description: "show help for karapace or one of its commands",
    details: `
      Without an argument, lists every command and the options they all accept.
      With a command name, shows that command's arguments, options and examples;
      \`karapace help <command>\` is the same as \`karapace <command> --help\`.
      With \`--json\`, prints the same information as one JSON document.
    `,
    examples: [
      ["List all commands", "$0 help"],
      ["Show how to generate completions", "$0 help completions"],
    ],
  });

  static override meta: CommandMeta = {
    positionals: {
      command: { description: "The command to explain", values: { kind: "command" } },
    },
  };

  command = Option.String({ name: "command", required: false });

  async execute(): Promise<number> {
    if (this.command !== undefined) {
      return this.cli.run([...this.command.split(" "), "--help", ...(this.json ? ["--json"] : [])]);
    }
    const [{ REGISTERED_COMMANDS }, { describeCli }, { renderRootHelp }, { colorEnabled, makeStyle }] =
      await Promise.all([
        import("../registry.ts"),
        import("../spec.ts"),
        import("../help-text.ts"),
        import("../output.ts"),
      ]);
    const model = describeCli(REGISTERED_COMMANDS);
    const style = makeStyle(colorEnabled(this.context.stdout, this.context.env));
    this.out.result(model, (writer) => writer.raw(renderRootHelp(model, style)));
    return 0;
  }
}
