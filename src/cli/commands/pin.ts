import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import { Command, Option } from "clipanion";
import { CliUsageError, GeneralError } from "../../errors.ts";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";

export class PinCommand extends EngineCommand {
  static override paths = [["pin"]];

  static override usage = Command.Usage({
    description: "rewrite base.image to the exact URL of its newest build",
    details: `
      Looks up the newest build of the manifest's base image on the image
      server (see docs/images.md) and writes its archive URL into
      \`base.image\`. Only that value changes: comments, order and formatting
      of the rest of the file stay as they are. The file is replaced
      atomically. An image that is already an http(s) URL is left alone.

      \`--check\` changes nothing and exits 1 when \`base.image\` is not an
      http(s) URL (0 when it is), for CI. \`--write-lock\` builds the
      environment after pinning, which writes \`karapace.lock\` for the pinned
      image; a manifest the security policy refuses is refused before it is
      rewritten, so the manifest and its lock do not part ways.
    `,
    examples: [
      ["Pin ./karapace.toml", "$0 pin"],
      ["Fail unless the image is pinned", "$0 pin --check"],
      ["Pin and update karapace.lock", "$0 pin --write-lock"],
    ],
  });

  static override meta: CommandMeta = {
    positionals: { manifest: { description: "The manifest to pin (default: ./karapace.toml)", values: { kind: "file" } } },
  };

  manifest = Option.String({ name: "manifest", required: false });
  check = Option.Boolean("--check", false, { description: "Change nothing; exit 1 if base.image is not a pinned http(s) URL" });
  writeLock = Option.Boolean("--write-lock", false, { description: "After pinning, build the environment to write karapace.lock" });

  async execute(): Promise<number> {
    const path = resolve(this.manifest ?? "karapace.toml");
    if (this.check && this.writeLock) {
      throw new CliUsageError("--check and --write-lock cannot be combined: --check changes nothing", {
        hint: "run 'karapace pin --write-lock' to pin and lock, then 'karapace pin --check' in CI",
      });
    }
    const { pinManifest, isPinned } = await import("../../images/pin.ts");
    if (this.check) {
      const { loadManifest } = await import("../../schema/manifest.ts");
      const image = loadManifest(path).normalized.base_image;
      if (!isPinned(image)) {
        throw new GeneralError(`base.image is not pinned: '${image}'`, { hint: "run 'karapace pin' to write the exact URL of its newest build" });
      }
      this.out.result({ status: "pinned", manifest: path, base_image: image }, (w) => w.line(`base.image is pinned: ${image}`));
      return 0;
    }
    if (this.writeLock) await refuseUnbuildable(path);
    const log = this.out.log;
    const r = await this.interruptible((signal) => pinManifest(path, { signal, log: (line) => log.info(line) }));
    let lock: { file: string; written: boolean } | null = null;
    if (this.writeLock) {
      const engine = await this.openEngine("pin --write-lock");
      try {
        const built = await this.interruptible((signal) => engine.build(path, { signal }));
        lock = { file: built.lock_file, written: built.lock_written };
      } finally {
        engine.close();
      }
    }
    this.out.result({ ...r, lock_file: lock?.file ?? null, lock_written: lock?.written ?? false }, (w) => {
      if (r.status === "already_pinned") w.line(`base.image in ${path} is already pinned`);
      else w.line(`pinned base image in ${path}`);
      w.line(`base.image = ${r.base_image}`);
      if (lock !== null) w.line(lock.written ? `wrote ${lock.file}` : `${lock.file} is up to date`);
    });
    return 0;
  }
}

/**
 * What the build would refuse before resolving (manifest errors, the security
 * policy), checked before the manifest is rewritten: a pinned manifest whose
 * lock could not be written would fail every later 'build --locked'.
 */
async function refuseUnbuildable(path: string): Promise<void> {
  const [{ loadManifest }, { checkManifestPolicy }] = await Promise.all([import("../../schema/manifest.ts"), import("../../runtime/policy/index.ts")]);
  const home = process.env.HOME !== undefined && process.env.HOME !== "" ? process.env.HOME : homedir();
  checkManifestPolicy(loadManifest(path).normalized, dirname(path), home);
}
