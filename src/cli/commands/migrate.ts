import { Command } from "clipanion";
import { EngineCommand } from "../engine-command.ts";

export class MigrateCommand extends EngineCommand {
  static override paths = [["migrate"]];

  static override usage = Command.Usage({
    description: "report the store's format version and import a reference store",
    details: `
      Reports the store's format version. A store written by the reference
      implementation (metadata in \`store/metadata/\`, write-ahead log in
      \`store/wal/\`) is imported into the store database, each metadata
      checksum verified; the JSON files are kept in \`store/imported-json/\`.
      A version 1 store is brought to version 2. Running it again changes
      nothing. A store from a newer karapace is refused (exit 3).
    `,
    examples: [
      ["Check or import the default store", "$0 migrate"],
      ["Import a store elsewhere, JSON report", "$0 --store /srv/karapace migrate --json"],
    ],
  });

  async execute(): Promise<number> {
    const engine = await this.openEngine("migrate");
    const r = await engine.migrate();
    this.out.result(r, (w) => {
      if (r.status === "no_store") {
        w.line(`no store at ${engine.root}; nothing to migrate`);
        return;
      }
      w.line(`store format version: ${r.format_version}${r.found_version !== r.format_version ? ` (was ${r.found_version})` : ""}`);
      if (r.status === "current") {
        w.line("nothing to migrate");
        return;
      }
      w.line(`imported ${r.environments.imported.length} environment(s) and ${r.wal.imported.length} write-ahead log entries`);
      if (r.environments.checksums_added.length > 0) w.line(`checksums added to ${r.environments.checksums_added.length} environment(s) that had none`);
      for (const rej of [...r.environments.rejected, ...r.wal.rejected]) w.line(`not imported: ${rej.file}: ${rej.reason}`);
      const rolled = r.recovery?.wal.rolled_back.length ?? 0;
      if (rolled > 0) w.line(`rolled back ${rolled} unfinished operation(s) of the reference implementation`);
      if (r.backup_dir !== undefined) w.line(`the reference's JSON files are kept in ${r.backup_dir}`);
    });
    return 0;
  }
}
