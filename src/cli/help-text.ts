import { commandWords } from "./argv.ts";
import { type Style, renderTable } from "./output.ts";
import { type CliModel, type CommandSpec, type PositionalSpec, optionLabel } from "./spec.ts";

/** `karapace --help` and `karapace <command> --help`, rendered from the same model as the man pages. */

const WIDTH = 80;

function indent(text: string, by = "  "): string {
  return text.replace(/^(?=.)/gm, by);
}

/** Greedy word wrap; list items keep their own lines. */
export function wrap(text: string, width = WIDTH): string {
  return text
    .split("\n")
    .map((line) => {
      const lead = /^\s*(- )?/.exec(line)?.[0] ?? "";
      const words = line.slice(lead.length).split(/\s+/).filter(Boolean);
      const lines: string[] = [];
      let current = lead;
      for (const word of words) {
        if (current.trim() !== "" && current.length + 1 + word.length > width) {
          lines.push(current);
          current = " ".repeat(lead.length) + word;
        } else {
          current = current.trim() === "" ? lead + word : `${current} ${word}`;
        }
      }
      lines.push(current);
      return lines.join("\n");
    })
    .join("\n");
}

function markup(text: string, style: Style, colored: boolean): string {
  if (!colored) return text;
  return text.replace(/`([^`]*)`/g, (_, code: string) => style.cyan(code));
}

function positionalLabel(positional: PositionalSpec): string {
  if (positional.repeated) return `[${positional.name}...]`;
  return positional.required ? `<${positional.name}>` : `[${positional.name}]`;
}

export function renderRootHelp(model: CliModel, style: Style): string {
  const name = model.binaryName;
  const heading = (text: string) => style.bold(text);
  const table = (rows: string[][]) => indent(renderTable(rows)).trimEnd();
  return [
    heading(`${name} ${model.version}`),
    model.description,
    "",
    `${heading("Usage:")} ${name} [options] <command> [arguments]`,
    "",
    heading("Commands:"),
    table(model.commands.map((command) => [style.bold(command.name), command.description])),
    "",
    heading("Options (accepted by every command):"),
    table(model.globalOptions.map((option) => [style.bold(optionLabel(option)), option.description])),
    "",
    heading("Other options:"),
    table(model.rootFlags.map((option) => [style.bold(optionLabel(option)), option.description])),
    "",
    heading("Environment:"),
    table([
      ["KARAPACE_LOG", "Log level: error, warn, info, debug or trace (overrides -v and --trace)"],
      ["XDG_DATA_HOME", "Parent of the default store directory"],
      ["NO_COLOR", "Disable coloured output"],
    ]),
    "",
    heading("Exit status:"),
    table([
      ["0", "success"],
      ["1", "failure"],
      ["2", "manifest, lock file or command-line error"],
      ["3", "store error"],
    ]),
    "",
    `Run '${name} <command> --help' for a command's arguments and examples.`,
    "",
  ].join("\n");
}

export function renderCommandHelp(model: CliModel, command: CommandSpec, style: Style, colored: boolean): string {
  const heading = (text: string) => style.bold(text);
  const usage = [`${model.binaryName} ${command.name}`, "[options]", ...command.positionals.map(positionalLabel)];
  const sections: string[] = [command.description, "", `${heading("Usage:")} ${usage.join(" ")}`];
  if (command.positionals.length > 0) {
    const rows = command.positionals.map((p) => [style.bold(positionalLabel(p)), p.description]);
    sections.push("", heading("Arguments:"), indent(renderTable(rows)).trimEnd());
  }
  const options = command.options.map((option) => [style.bold(optionLabel(option)), option.description]);
  sections.push("", heading("Options:"), indent(renderTable(options)).trimEnd());
  for (const paragraph of command.details) sections.push("", markup(wrap(paragraph), style, colored));
  if (command.examples.length > 0) {
    sections.push("", heading("Examples:"));
    command.examples.forEach(([label, example], index) => {
      if (index > 0) sections.push("");
      sections.push(indent(label), indent(`$ ${example}`, "    "));
    });
  }
  return `${sections.join("\n")}\n`;
}

/** The registered command a command line names: the longest path made of its leading words. */
export function commandNamedBy(argv: readonly string[], model: CliModel): CommandSpec | undefined {
  const words = commandWords(argv);
  let best: CommandSpec | undefined;
  for (const command of model.commands) {
    const matches = command.path.every((segment, i) => words[i] === segment);
    if (matches && (best === undefined || command.path.length > best.path.length)) best = command;
  }
  return best;
}
