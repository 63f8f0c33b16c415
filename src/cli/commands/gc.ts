import { Command, Option } from "clipanion";
import { GeneralError } from "../../errors.ts";
import { EngineCommand } from "../engine-command.ts";

/** 1536 -> "1.5 KiB" */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export class GcCommand extends EngineCommand {
  static override paths = [["gc"]];

  static override usage = Command.Usage({
    description: "remove what no environment needs any more",
    details: `
      Removes environments that nothing references (except running and
      archived ones), directories under \`env/\` without an environment,
      layers and objects no kept environment reaches, and temp files left by
      crashed commands. \`--dry-run\` lists what would go and removes nothing.

      Ctrl-C (or SIGTERM) stops it safely between two deletions; the report
      then says what was removed, and running gc again finishes the job.
      Nothing is removed on the strength of damaged data: see the warnings.
    `,
    examples: [
      ["See what would be removed", "$0 gc --dry-run"],
      ["Collect garbage", "$0 gc"],
    ],
  });

  dryRun = Option.Boolean("--dry-run", false, { description: "List what would be removed, remove nothing" });

  async execute(): Promise<number> {
    const engine = await this.openEngine("gc");
    try {
      const r = await this.interruptible((signal) => engine.gc({ dryRun: this.dryRun, signal }));
      for (const warning of r.warnings) this.out.log.warn(warning);
      this.out.result(r, (w) => {
        const counts = r.dry_run
          ? [r.orphaned_envs.length, r.orphaned_env_dirs.length, r.orphaned_layers.length, r.orphaned_objects.length, r.stale_temps.length]
          : [r.removed_envs, r.removed_env_dirs, r.removed_layers, r.removed_objects, r.removed_temps];
        const [envs, dirs, layers, objects, temps] = counts;
        const verb = r.dry_run ? "would remove" : "removed";
        w.line(`gc: ${verb} ${envs} environments, ${dirs} orphan env dirs, ${layers} layers, ${objects} objects, ${temps} temp files (${formatBytes(r.freed_bytes)})`);
        if (r.dry_run) {
          for (const id of r.orphaned_envs) w.line(`  environment ${id}`);
          for (const id of r.orphaned_env_dirs) w.line(`  env dir     ${id}`);
          for (const id of r.orphaned_layers) w.line(`  layer       ${id}`);
          for (const id of r.orphaned_objects) w.line(`  object      ${id}`);
          for (const path of r.stale_temps) w.line(`  temp        ${path}`);
        }
      });
      if (r.cancelled) {
        throw new GeneralError("gc was stopped by a signal before it finished; what it removed is reported above", {
          hint: "run 'karapace gc' again to finish",
        });
      }
    } finally {
      engine.close();
    }
    return 0;
  }
}
