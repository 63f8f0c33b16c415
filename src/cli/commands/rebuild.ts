import { Command, Option } from "clipanion";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { BUILD_OPTION_META, buildJson, printBuildResult } from "./build.ts";

export class RebuildCommand extends EngineCommand {
  static override paths = [["rebuild"]];

  static override usage = Command.Usage({
    description: "build an environment again from scratch and replace the old one",
    details: `
      Like \`karapace build\`, but always builds anew, and replaces the
      environment the current \`karapace.lock\` names (which may differ from
      the new one when the manifest or the package versions changed). The old
      environment is kept until the new one is complete; it keeps its name
      unless \`--name\` gives another. A crash leaves either the old or the new
      environment, never neither.

      A running environment is not replaced: stop it first.
    `,
    examples: [
      ["Rebuild ./karapace.toml", "$0 rebuild"],
      ["Rebuild and rename", "$0 rebuild --name web-2"],
    ],
  });

  static override meta: CommandMeta = BUILD_OPTION_META;

  manifest = Option.String({ name: "manifest", required: false });
  name = Option.String("--name", { description: "Name the new environment (default: the old one's name)" });
  locked = Option.Boolean("--locked", false, { description: "Require karapace.lock and fail if the build would drift from it" });
  offline = Option.Boolean("--offline", false, { description: "No network: take package versions from karapace.lock" });
  requirePinnedImage = Option.Boolean("--require-pinned-image", false, { description: "Refuse a base image that is not an http(s) URL" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("rebuild");
    try {
      const result = await this.interruptible((signal) =>
        engine.rebuild(this.manifest, { name: this.name, locked: this.locked, offline: this.offline, requirePinnedImage: this.requirePinnedImage, signal }),
      );
      this.out.result(buildJson(result), (w) => printBuildResult(w, result, "rebuilt"));
    } finally {
      engine.close();
    }
    return 0;
  }
}
