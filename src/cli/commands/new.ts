import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { Command, Option } from "clipanion";
import { GeneralError } from "../../errors.ts";
import { KarapaceCommand } from "../base-command.ts";
import type { ManifestDraft } from "../../schema/manifest-render.ts";
import type { CommandMeta } from "../command-meta.ts";

const DEST = "karapace.toml";
// Kept here (not imported from src/schema) so that loading the command for help stays cheap.
const TEMPLATE_LIST = ["minimal", "dev", "gui-dev", "rust-dev", "ubuntu-dev", "debian-dev"] as const;
const BACKEND_LIST = ["namespace", "oci", "mock"] as const;
const DEFAULT_IMAGE = "debian/bookworm";

function isTerminal(stream: Readable | Writable): boolean {
  return "isTTY" in stream && stream.isTTY === true;
}

/**
 * Questions on stderr, answers line by line from stdin. The terminal stays in
 * cooked mode, so the kernel echoes and edits the line; we only read it.
 */
class Prompter {
  private readonly lines: AsyncIterator<string>;
  private closed = false;

  constructor(
    input: Readable,
    private readonly output: Writable,
    createInterface: typeof import("node:readline").createInterface,
  ) {
    const rl = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
    this.lines = rl[Symbol.asyncIterator]();
    this.close = () => {
      if (!this.closed) rl.close();
      this.closed = true;
    };
  }

  close: () => void;

  async ask(question: string, fallback = ""): Promise<string> {
    this.output.write(fallback === "" ? `${question}: ` : `${question} [${fallback}]: `);
    const next = await this.lines.next();
    if (next.done === true) throw new GeneralError("input ended before all questions were answered");
    const answer = next.value.trim();
    return answer === "" ? fallback : answer;
  }

  async confirm(question: string, fallback: boolean): Promise<boolean> {
    for (;;) {
      const answer = (await this.ask(`${question} (y/n)`, fallback ? "y" : "n")).toLowerCase();
      if (answer === "y" || answer === "yes") return true;
      if (answer === "n" || answer === "no") return false;
      this.output.write("  please answer y or n\n");
    }
  }

  /** Asks until `parse` accepts the answer; `parse` returns the value or a problem to show. */
  async until<T>(question: string, fallback: string, parse: (answer: string) => { value: T } | { problem: string }): Promise<T> {
    for (;;) {
      const result = parse(await this.ask(question, fallback));
      if ("value" in result) return result.value;
      this.output.write(`  ${result.problem}\n`);
    }
  }
}

export class NewCommand extends KarapaceCommand {
  static override paths = [["new"]];

  static override usage = Command.Usage({
    description: "write a new karapace.toml in the current directory",
    details: `
      Writes \`./karapace.toml\`. With \`--template\`, the template's manifest is
      the starting point: ${TEMPLATE_LIST.map((t) => `\`${t}\``).join(", ")}.
      On a terminal, karapace then asks for extra packages, a workspace mount,
      the runtime backend and network isolation (press Enter to keep a value).
      Without a terminal, \`--template\` is required and the template is written
      as it is.

      An existing \`./karapace.toml\` is never replaced without \`--force\` or a
      yes to the question on a terminal. The name is used in messages only.
    `,
    examples: [
      ["Start from the Debian template without questions", "$0 new myproject --template debian-dev < /dev/null"],
      ["Answer questions on a terminal", "$0 new myproject"],
      ["Replace an existing manifest", "$0 new myproject --template minimal --force"],
    ],
  });

  static override meta: CommandMeta = {
    positionals: { name: { description: "A name for the environment, shown in messages" } },
    options: { "--template": { valueName: "name", values: { kind: "choice", values: TEMPLATE_LIST } } },
  };

  name = Option.String({ name: "name" });
  template = Option.String("--template", { description: `Start from a template: ${TEMPLATE_LIST.join(", ")}` });
  force = Option.Boolean("--force", false, { description: "Overwrite ./karapace.toml if it exists" });

  async execute(): Promise<number> {
    const [{ getTemplate, TEMPLATE_NAMES }, { parseManifest }, { writeFileAtomic }] = await Promise.all([
      import("../../schema/templates.ts"),
      import("../../schema/manifest.ts"),
      import("../../schema/atomic-write.ts"),
    ]);
    const dest = join(process.cwd(), DEST);
    const interactive = isTerminal(this.context.stdin) && isTerminal(this.context.stderr);
    const prompter = interactive
      ? new Prompter(this.context.stdin, this.context.stderr, (await import("node:readline")).createInterface)
      : undefined;
    try {
      let content: string;
      if (this.template !== undefined) {
        const template = getTemplate(this.template);
        if (template === undefined) {
          throw new GeneralError(`unknown template '${this.template}' (expected: ${TEMPLATE_NAMES.join(", ")})`);
        }
        await this.ensureCanWrite(dest, prompter);
        content = prompter === undefined ? template.manifest : await this.askAll(prompter, template.manifest, this.template);
      } else {
        await this.ensureCanWrite(dest, prompter);
        if (prompter === undefined) {
          throw new GeneralError("no --template given and stdin is not a terminal, so there is no one to ask", {
            hint: `pass --template <name> (${TEMPLATE_NAMES.join(", ")}) or run it in a terminal`,
          });
        }
        content = await this.askAll(prompter, undefined, undefined);
      }
      // Whatever was typed, never write a manifest we would refuse to read.
      parseManifest(content, DEST);
      try {
        writeFileAtomic(dest, content);
      } catch (error) {
        const reason = error instanceof Error && "code" in error ? String(error.code) : String(error);
        throw new GeneralError(`cannot write ./${DEST}: ${reason}`, { cause: error });
      }
    } finally {
      prompter?.close();
    }
    const template = this.template ?? null;
    this.out.result({ status: "written", path: `./${DEST}`, name: this.name, template }, (w) => {
      w.line(`wrote ./${DEST} for '${this.name}'`);
      if (template !== null) w.line(`template: ${template}`);
    });
    return 0;
  }

  private async ensureCanWrite(dest: string, prompter: Prompter | undefined): Promise<void> {
    if (this.force || !existsSync(dest)) return;
    if (prompter !== undefined && (await prompter.confirm(`overwrite ./${DEST}?`, false))) return;
    throw new GeneralError(`refusing to overwrite existing ./${DEST} (pass --force)`);
  }

  /** The reference's questions, in its order; returns the manifest text to write. */
  private async askAll(prompter: Prompter, templateText: string | undefined, templateName: string | undefined): Promise<string> {
    const [{ parseManifest }, { draftFromDocument, renderManifest }, rules, { rustTrim }] = await Promise.all([
      import("../../schema/manifest.ts"),
      import("../../schema/manifest-render.ts"),
      import("../../schema/rules.ts"),
      import("../../schema/text.ts"),
    ]);
    const base =
      templateText === undefined
        ? undefined
        : draftFromDocument(parseManifest(templateText, `template ${templateName ?? ""}`).document);
    const draft = base === undefined ? undefined : { ...base, packages: [...base.packages], mounts: [...base.mounts] };

    const image =
      draft?.image ??
      (await prompter.until<string>("base image", DEFAULT_IMAGE, (answer) => {
        const problem = rules.checkImageName(answer);
        return problem === undefined ? { value: answer } : { problem: `base image ${problem}` };
      }));

    const packages = await prompter.until<string[]>("packages (space-separated, empty to skip)", "", (answer) => {
      const names = answer.split(/\s+/).filter((name) => name !== "");
      for (const name of names) {
        const problem = rules.checkPackageName(name);
        if (problem !== undefined) return { problem: `'${name}' ${problem}` };
      }
      return { value: names };
    });

    const mount = await prompter.until<string | undefined>("workspace mount (<host>:<container>, empty to skip)", "", (answer) => {
      if (answer === "") return { value: undefined };
      const colon = answer.indexOf(":");
      if (colon < 0) return { problem: "expected <host>:<container>, e.g. ./:/workspace" };
      const problem =
        rules.checkHostPath(rustTrim(answer.slice(0, colon))) ?? rules.checkContainerPath(rustTrim(answer.slice(colon + 1)));
      return problem === undefined ? { value: answer } : { problem: `mount ${problem}` };
    });

    const currentBackend = draft?.backend ?? "namespace";
    const backend = await prompter.until<string>(`runtime backend (${BACKEND_LIST.join(", ")})`, currentBackend, (answer) => {
      const choice = answer.toLowerCase();
      return rules.isBackend(choice) ? { value: choice } : { problem: `choose one of ${BACKEND_LIST.join(", ")}` };
    });

    const networkIsolation = await prompter.confirm("enable network isolation?", draft?.networkIsolation ?? false);

    const changed =
      draft === undefined ||
      packages.length > 0 ||
      mount !== undefined ||
      backend !== draft.backend ||
      networkIsolation !== draft.networkIsolation;
    // Nothing changed: keep the template as written, comments and all.
    if (!changed && templateText !== undefined) return templateText;

    const result: ManifestDraft = draft ?? {
      image,
      packages: [],
      apps: [],
      gpu: false,
      audio: false,
      mounts: [],
      backend,
      networkIsolation,
      cpuShares: null,
      memoryLimitMb: null,
    };
    result.packages.push(...packages.filter((name) => !result.packages.includes(name)));
    if (mount !== undefined) {
      result.mounts = [...result.mounts.filter(([label]) => label !== "workspace"), ["workspace", mount]];
    }
    result.backend = backend;
    result.networkIsolation = networkIsolation;
    const origin = templateName === undefined ? "" : ` from template ${templateName}`;
    // The name goes into a TOML comment, where control characters are not allowed.
    const printableName = this.name.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
    return renderManifest(result, `Written by \`karapace new ${printableName}\`${origin}.`);
  }
}
