import { Command, Option } from "clipanion";
import { CliUsageError, GeneralError } from "../../errors.ts";
import type { CommandMeta } from "../command-meta.ts";
import { EngineCommand } from "../engine-command.ts";
import { ENV_POSITIONAL } from "./inspect.ts";

export class ExportCommand extends EngineCommand {
  static override paths = [["export"]];

  static override usage = Command.Usage({
    description: "write an environment's changes as a layer tar",
    details: `
      Writes what the environment changed on top of its base image as a tar in
      the form of an OCI image layer: deleted paths as empty \`.wh.<name>\`
      files, replaced directories marked by a \`.wh..wh..opq\` entry, hardlinks
      as tar hardlinks, extended attributes as PAX records, every time 0 and
      every owner 0 (docs/export-format.md). The same state always gives the
      same bytes. Device nodes and sockets are left out.

      The default output is \`<name or short id>.tar\` in the current
      directory; \`--output -\` writes to stdout (not with \`--json\`). An
      existing file is not replaced unless \`--force\` is given; the file
      appears complete or not at all. A running environment is refused.
    `,
    examples: [
      ["Export 'web' to ./web.tar", "$0 export web"],
      ["Export to a path", "$0 export web --output /tmp/web-changes.tar"],
      ["Stream it elsewhere", "$0 export web -o - | zstd > web.tar.zst"],
    ],
  });

  static override meta: CommandMeta = {
    positionals: { env: ENV_POSITIONAL },
    options: { "--output": { valueName: "path", values: { kind: "file" } } },
  };

  env = Option.String({ name: "env" });
  output = Option.String("-o,--output", { description: "Where to write the tar ('-' for stdout; default ./<name or short id>.tar)" });
  force = Option.Boolean("--force", false, { description: "Replace an existing output file" });

  async execute(): Promise<number> {
    if (this.output === "-" && this.json) {
      throw new CliUsageError("--json cannot be combined with --output -: stdout carries the archive", { hint: "write to a file with --output PATH, or drop --json" });
    }
    const { existsSync } = await import("node:fs");
    const { resolve } = await import("node:path");
    const engine = await this.openEngine("export");
    try {
      let output = this.output;
      if (output === undefined) {
        const meta = (await engine.inspect(this.env)).metadata;
        output = `${meta.name ?? meta.short_id}.tar`;
      }
      if (output !== "-") {
        output = resolve(process.cwd(), output);
        if (existsSync(output) && !this.force) {
          throw new GeneralError(`${output} already exists`, { hint: "pass --force to replace it, or choose another path with --output" });
        }
      }
      const stdout = this.context.stdout;
      const r = await engine.export(this.env, {
        output,
        stdout: (chunk) =>
          new Promise<void>((done, fail) => {
            stdout.write(chunk, (error) => (error ? fail(error) : done()));
          }),
      });
      if (output === "-") {
        this.out.log.info(`exported ${r.name ?? r.short_id}: ${r.entries} entries, ${r.size} bytes`);
        return 0;
      }
      const { short_id, name, ...json } = r;
      this.out.result(json, (w) => w.line(`exported ${name ?? short_id} to ${r.output} (${r.entries} entries, ${r.whiteouts} deletions, ${r.size} bytes)`));
    } finally {
      engine.close();
    }
    return 0;
  }
}
