import { Command, Option } from "clipanion";
import { KarapaceCommand } from "../base-command.ts";
import type { CommandMeta } from "../command-meta.ts";

const DEFAULT_DIR = "man";

export class ManPagesCommand extends KarapaceCommand {
  static override paths = [["man-pages"]];

  static override usage = Command.Usage({
    description: "write man pages for karapace and every command",
    details: `
      Renders roff man pages from the commands this binary knows:
      \`karapace.1\` for the tool as a whole and \`karapace-<command>.1\` for each
      command. The directory is created if needed and existing pages are
      overwritten. Without an argument the pages go to \`./${DEFAULT_DIR}\`.

      To read them without installing: \`man -l man/karapace.1\`. To install,
      copy them to a \`man1\` directory on your MANPATH, for example
      \`~/.local/share/man/man1\`.
    `,
    examples: [
      ["Write the pages to ./man", "$0 man-pages"],
      ["Install them for the current user", "$0 man-pages ~/.local/share/man/man1"],
    ],
  });

  static override meta: CommandMeta = {
    positionals: {
      dir: { description: `Directory to write the pages into (default: ${DEFAULT_DIR})`, values: { kind: "directory" } },
    },
  };

  dir = Option.String({ name: "dir", required: false });

  async execute(): Promise<number> {
    const [{ mkdir, writeFile }, { join, resolve }, { REGISTERED_COMMANDS }, { describeCli }, { renderManPages }] =
      await Promise.all([
        import("node:fs/promises"),
        import("node:path"),
        import("../registry.ts"),
        import("../spec.ts"),
        import("../manpage/render.ts"),
      ]);
    const dir = this.dir ?? DEFAULT_DIR;
    await mkdir(dir, { recursive: true });
    const pages = renderManPages(describeCli(REGISTERED_COMMANDS));
    for (const page of pages) {
      await writeFile(join(dir, page.fileName), page.content);
      this.out.log.info(`wrote ${join(dir, page.fileName)}`);
    }
    this.out.result(
      { directory: resolve(dir), pages: pages.map((page) => page.fileName) },
      (writer) => writer.line(`man pages written to ${dir}`),
    );
    return 0;
  }
}
