import type { CliModel, CommandSpec, OptionSpec, PositionalSpec, ResolvedValueHint } from "../spec.ts";
import { GENERATED_NOTE, identifier, menuText, rootOptions } from "./common.ts";

/** Inside a single-quoted word. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Text inside `[...]` of an _arguments spec: brackets, colons and expansions escaped. */
function bracketText(text: string): string {
  return menuText(text).replace(/([\\\[\]:$`])/g, "\\$1");
}

function action(hint: ResolvedValueHint): string {
  switch (hint.kind) {
    case "choice":
      return `(${hint.values.join(" ")})`;
    case "directory":
      return "_files -/";
    case "file":
      return "_files";
    case "none":
      return " ";
  }
}

function optionSpec(option: OptionSpec): string {
  const description = `[${bracketText(option.description)}]`;
  const value = option.valueName === undefined ? "" : `:${option.valueName}:${action(option.values)}`;
  // A short option's value may be glued (-nfoo); a long one's may follow '='.
  const suffix = (name: string) =>
    option.valueName === undefined ? "" : name.startsWith("--") ? "=" : "+";
  if (option.names.length === 1) {
    const name = option.names[0] ?? "";
    return quote(`${name}${suffix(name)}${description}${value}`);
  }
  const isHelp = option.names.includes("--help");
  const exclusion = isHelp ? "(- *)" : `(${option.names.join(" ")})`;
  const names = option.names.map((name) => `${name}${suffix(name)}`).join(",");
  return `${quote(exclusion)}{${names}}${quote(`${description}${value}`)}`;
}

function positionalSpec(positional: PositionalSpec): string {
  const message = positional.name.replace(/:/g, "\\:");
  const prefix = positional.repeated ? "*:" : positional.required ? ":" : "::";
  return quote(`${prefix}${message}:${action(positional.values)}`);
}

/** A multi-line `_arguments` call; `tail` is appended to its last line. */
function argumentsCall(specs: readonly string[], indent: string, flags = "-s -S", tail = ""): string[] {
  const last = specs.length - 1;
  return [
    `${indent}_arguments ${flags} \\`,
    ...specs.map((spec, i) => `${indent}    ${spec}${i === last ? tail : " \\"}`),
  ];
}

function commandFunction(command: CommandSpec, fn: string): string[] {
  const specs = [...command.options.map(optionSpec), ...command.positionals.map(positionalSpec)];
  return [`${fn}_${identifier(command.name)}() {`, ...argumentsCall(specs, "    "), "}", ""];
}

export function zshCompletion(model: CliModel): string {
  const name = model.binaryName;
  const fn = `_${identifier(name)}`;
  const describeItems = model.commands.map(
    (command) => `        ${quote(`${command.name.replace(/:/g, "\\:")}:${menuText(command.description)}`)}`,
  );
  const rootSpecs = [...rootOptions(model).map(optionSpec), quote(`1: :${fn}_commands`), quote("*:: :->command_args")];
  return [
    `#compdef ${name}`,
    `# zsh completion for ${name}, ${GENERATED_NOTE("zsh", name)}.`,
    `# Install it as _${name} in a directory on $fpath, or load it with: source <(${name} completions zsh)`,
    "",
    `${fn}_commands() {`,
    "    local -a commands",
    "    commands=(",
    ...describeItems,
    "    )",
    `    _describe -t commands ${quote(`${name} command`)} commands`,
    "}",
    "",
    ...model.commands.flatMap((command) => commandFunction(command, fn)),
    `${fn}() {`,
    `    local curcontext="$curcontext" state line ret=1`,
    "    typeset -A opt_args",
    ...argumentsCall(rootSpecs, "    ", "-C -s -S", " && ret=0"),
    "    case $state in",
    "        (command_args)",
    `            curcontext="\${curcontext%:*:*}:${name}-\${words[1]}:"`,
    "            case ${words[1]} in",
    ...model.commands.map((command) => `                (${command.name}) ${fn}_${identifier(command.name)} && ret=0 ;;`),
    "            esac",
    "            ;;",
    "    esac",
    "    return ret",
    "}",
    "",
    `if [[ "\${funcstack[1]}" == "${fn}" ]]; then`,
    `    ${fn} "$@"`,
    "else",
    `    compdef ${fn} ${name}`,
    "fi",
    "",
  ].join("\n");
}
