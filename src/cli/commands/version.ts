import { KarapaceCommand } from "../base-command.ts";
import { BINARY_NAME, VERSION, versionLine } from "../version.ts";

/**
 * `karapace --version` / `-V`, spelled as clap does (`-v` is --verbose).
 * Documented as a root flag, not as a command. bin/karapace.ts answers the
 * bare form before loading the CLI; this class serves it with other options.
 */
export class VersionCommand extends KarapaceCommand {
  static override paths = [["--version"], ["-V"]];

  async execute(): Promise<number> {
    this.out.result({ name: BINARY_NAME, version: VERSION }, (writer) => writer.raw(versionLine()));
    return 0;
  }
}
