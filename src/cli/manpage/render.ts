import type { CliModel, CommandSpec, OptionSpec, PositionalSpec } from "../spec.ts";
import { RoffPage, bold, escapeText, inline, italic } from "./roff.ts";

export interface ManPage {
  fileName: string;
  content: string;
}

const MANUAL = "Karapace Manual";

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function optionTag(option: OptionSpec): string {
  const names = option.names.map(bold).join(", ");
  return option.valueName === undefined ? names : `${names} ${italic(option.valueName)}`;
}

function positionalSynopsis(positional: PositionalSpec): string {
  const name = italic(positional.name);
  if (positional.repeated) return `[${name}...]`;
  return positional.required ? name : `[${name}]`;
}

function header(page: RoffPage, title: string, model: CliModel): void {
  // No date: the pages must be the same bytes for the same binary.
  page.request("TH", escapeText(title.toUpperCase()), "1", "", escapeText(`${model.binaryName} ${model.version}`), MANUAL);
  // Paths and option names must not be hyphenated or stretched.
  page.request("nh");
  page.request("ad", "l");
}

function options(page: RoffPage, title: string, list: readonly OptionSpec[], intro?: string): void {
  if (list.length === 0) return;
  page.section(title);
  if (intro !== undefined) page.paragraph(intro);
  for (const option of list) page.tagged(optionTag(option), inline(option.description));
}

function exitStatus(page: RoffPage): void {
  page.section("Exit status");
  page.tagged(bold("0"), "Success.");
  page.tagged(bold("1"), "Failure.");
  page.tagged(bold("2"), "The manifest or lock file is invalid, or the command line is wrong.");
  page.tagged(bold("3"), "The store is unreadable, corrupt, or locked by another process.");
}

function pageName(model: CliModel, command: CommandSpec): string {
  return `${model.binaryName}-${command.path.join("-")}`;
}

function rootPage(model: CliModel): ManPage {
  const name = model.binaryName;
  const page = new RoffPage();
  header(page, name, model);
  page.section("Name").text(`${escapeText(name)} \\- ${escapeText(lowerFirst(model.description))}`);
  page.section("Synopsis").text(`${bold(name)} [${italic("options")}] ${italic("command")} [${italic("arguments")}]`);
  page.section("Description");
  page.paragraph(
    `${name} builds isolated, reproducible Linux development environments from a declarative \`karapace.toml\`, ` +
      "without root and without a daemon. An environment's identity is derived from its resolved lock file, " +
      "so the same lock always yields the same environment. Environments live in a content-addressed store.",
  );
  page.paragraph(`Each command has its own page, named \`${name}-<command>\`, and accepts \`--help\`.`);
  page.section("Commands");
  for (const command of model.commands) {
    page.tagged(`${bold(pageName(model, command))}(1)`, inline(command.description));
  }
  options(page, "Options", model.globalOptions, "Every command accepts these, before or after the command name.");
  options(page, "Other options", model.rootFlags);
  page.section("Environment");
  page.tagged(bold("KARAPACE_LOG"), inline("Log level: `error`, `warn`, `info`, `debug` or `trace`. Overrides `--verbose` and `--trace`."));
  page.tagged(bold("XDG_DATA_HOME"), inline("The default store is `$XDG_DATA_HOME/karapace`, or `~/.local/share/karapace` when unset."));
  page.tagged(bold("NO_COLOR"), inline("When set to a non-empty value, output is never coloured."));
  exitStatus(page);
  page.section("See also");
  page.text(model.commands.map((command) => `${bold(pageName(model, command))}(1)`).join(", "));
  return { fileName: `${name}.1`, content: page.render() };
}

function commandPage(model: CliModel, command: CommandSpec): ManPage {
  const name = pageName(model, command);
  const page = new RoffPage();
  header(page, name, model);
  page.section("Name").text(`${escapeText(name)} \\- ${escapeText(lowerFirst(command.description))}`);
  const synopsis = [
    bold(`${model.binaryName} ${command.name}`),
    `[${italic("options")}]`,
    ...command.positionals.map(positionalSynopsis),
  ];
  page.section("Synopsis").text(synopsis.join(" "));
  page.section("Description");
  page.paragraph(`${command.description}.`);
  for (const paragraph of command.details) page.paragraph(paragraph);
  if (command.positionals.length > 0) {
    page.section("Arguments");
    for (const positional of command.positionals) page.tagged(italic(positional.name), inline(positional.description));
  }
  options(page, "Options", command.options);
  if (command.examples.length > 0) {
    page.section("Examples");
    for (const [label, example] of command.examples) {
      page.paragraph(label);
      page.example(`$ ${example}`);
    }
  }
  exitStatus(page);
  page.section("See also");
  page.text(`${bold(model.binaryName)}(1)`);
  return { fileName: `${name}.1`, content: page.render() };
}

/** `karapace.1` and one `karapace-<command>.1` per registered command. */
export function renderManPages(model: CliModel): ManPage[] {
  return [rootPage(model), ...model.commands.map((command) => commandPage(model, command))];
}
