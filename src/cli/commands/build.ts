import { Command, Option } from "clipanion";
import type { BuildResult } from "../../engine/index.ts";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import type { HumanWriter } from "../output.ts";

/** Options shared by build and rebuild (the reference's BuildOptions plus --name). */
export const BUILD_OPTION_META: CommandMeta = {
  positionals: { manifest: { description: "The manifest to build (default: ./karapace.toml)", values: { kind: "file" } } },
  options: { "--name": { valueName: "name" } },
};

export function printBuildResult(w: HumanWriter, r: BuildResult, verb: "built" | "rebuilt"): void {
  const who = r.name === null ? r.short_id : `'${r.name}' (${r.short_id})`;
  if (r.status === "unchanged") w.line(`environment ${who} is already built; nothing to do`);
  else w.line(`${verb} environment ${who}`);
  if (r.replaced !== null) w.line(`replaced: ${r.replaced.slice(0, 12)}`);
  w.line(`env_id: ${r.env_id}`);
  if (r.lock_written) w.line(`wrote ${r.lock_file}`);
}

export function buildJson(r: BuildResult): Record<string, unknown> {
  return {
    env_id: r.env_id,
    short_id: r.short_id,
    name: r.name,
    status: r.status,
    replaced: r.replaced,
    lock_file: r.lock_file,
    lock_written: r.lock_written,
  };
}

export class BuildCommand extends EngineCommand {
  static override paths = [["build"]];

  static override usage = Command.Usage({
    description: "build the environment a manifest describes",
    details: `
      Reads the manifest (default \`./karapace.toml\`), resolves the base image
      and the exact package versions through the runtime backend, computes the
      environment's identity from that resolution, and builds it into the
      store. \`karapace.lock\` beside the manifest records the resolution; it is
      rewritten only when it changes.

      Building a manifest whose environment already exists reuses it (a frozen
      or archived one becomes built again); \`karapace rebuild\` builds from
      scratch. A build holds the store lock; a crash or Ctrl-C at any point
      leaves the store as it was before the build.

      \`--locked\` builds exactly what \`karapace.lock\` says and fails (exit 2)
      when the manifest or the resolution has drifted from it. \`--offline\`
      takes package versions from the lock instead of resolving them (so it
      needs \`--locked\` when there are packages).
    `,
    examples: [
      ["Build ./karapace.toml", "$0 build"],
      ["Build and name it", "$0 build --name web"],
      ["Build exactly what karapace.lock records", "$0 build --locked"],
      ["Build another manifest, JSON result", "$0 build ../api/karapace.toml --json"],
    ],
  });

  static override meta: CommandMeta = BUILD_OPTION_META;

  manifest = Option.String({ name: "manifest", required: false });
  name = Option.String("--name", { description: "Name the environment (1-64 of letters, digits, '_' and '-'; unique)" });
  locked = Option.Boolean("--locked", false, { description: "Require karapace.lock and fail if the build would drift from it" });
  offline = Option.Boolean("--offline", false, { description: "No network: take package versions from karapace.lock" });
  requirePinnedImage = Option.Boolean("--require-pinned-image", false, { description: "Refuse a base image that is not an http(s) URL" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("build");
    try {
      const result = await this.interruptible((signal) =>
        engine.build(this.manifest, { name: this.name, locked: this.locked, offline: this.offline, requirePinnedImage: this.requirePinnedImage, signal }),
      );
      this.out.result(buildJson(result), (w) => printBuildResult(w, result, "built"));
    } finally {
      engine.close();
    }
    return 0;
  }
}
