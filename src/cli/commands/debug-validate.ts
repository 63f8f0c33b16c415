import { Command, Option } from "clipanion";
import { KarapaceCommand } from "../base-command.ts";

/**
 * `karapace debug validate [manifest] [--lock file]`: parse, validate and
 * normalize a manifest and print its canonical JSON; with --lock, also check
 * the lock's integrity and that it matches the manifest. Hidden (not in help,
 * man pages or completions): it exists so tests and bug reports can exercise
 * the manifest and lock checks through the real CLI before `build` exists.
 */
export class DebugValidateCommand extends KarapaceCommand {
  static override paths = [["debug", "validate"]];

  static override usage = Command.Usage({
    description: "check a manifest (and optionally its lock) and print the canonical JSON",
    details: "Internal: exits 2 with a one-line message when the manifest or lock is invalid.",
    examples: [["Check a manifest and its lock", "$0 debug validate karapace.toml --lock karapace.lock"]],
  });

  manifest = Option.String({ name: "manifest", required: false });
  lock = Option.String("--lock", { description: "Also verify this karapace.lock against the manifest" });

  async execute(): Promise<number> {
    const [{ loadManifest, MANIFEST_FILE }, { canonicalJson }] = await Promise.all([
      import("../../schema/manifest.ts"),
      import("../../schema/normalize.ts"),
    ]);
    const path = this.manifest ?? MANIFEST_FILE;
    const { normalized } = loadManifest(path);
    const canonical = canonicalJson(normalized);
    let identity: { env_id: string; short_id: string } | undefined;
    if (this.lock !== undefined) {
      const [{ readLockFile }, { verifyIntegrity, verifyManifestIntent }] = await Promise.all([
        import("../../schema/lock-io.ts"),
        import("../../schema/lock.ts"),
      ]);
      const lock = readLockFile(this.lock);
      identity = verifyIntegrity(lock, this.lock);
      verifyManifestIntent(lock, normalized, this.lock);
    }
    this.out.result({ manifest: path, canonical_json: canonical, lock: identity ?? null }, (w) => {
      w.line(canonical);
      if (identity !== undefined) w.line(`lock ok: env_id ${identity.env_id} (short ${identity.short_id})`);
    });
    return 0;
  }
}
