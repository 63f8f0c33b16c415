import type { CliModel, CommandSpec, OptionSpec, PositionalSpec, ResolvedValueHint } from "../spec.ts";
import { GENERATED_NOTE, identifier, menuText, rootOptions, valueOptionNames } from "./common.ts";

function quote(text: string): string {
  return `'${text.replace(/[\\']/g, "\\$&")}'`;
}

/** The `complete` flags that say what follows an option or fills a positional. */
function valueFlags(hint: ResolvedValueHint): string[] {
  switch (hint.kind) {
    case "choice":
      return ["-x", "-a", quote(hint.values.join(" "))];
    case "directory":
      return ["-x", "-a", quote("(__fish_complete_directories)")];
    case "file":
      return ["-r", "-F"];
    case "none":
      return [];
  }
}

function optionLine(binary: string, condition: string, option: OptionSpec): string {
  const parts = ["complete", "-c", binary, "-n", quote(condition)];
  for (const name of option.names) {
    if (name.startsWith("--")) parts.push("-l", name.slice(2));
    else if (/^-.$/.test(name)) parts.push("-s", name.slice(1));
    else parts.push("-o", name.slice(1));
  }
  if (option.valueName !== undefined) {
    const flags = valueFlags(option.values);
    parts.push(...(flags.length > 0 ? flags : ["-x"]));
  }
  parts.push("-d", quote(menuText(option.description)));
  return parts.join(" ");
}

function positionalLine(binary: string, fn: string, command: CommandSpec, positional: PositionalSpec, index: number): string | undefined {
  const flags = valueFlags(positional.values);
  if (flags.length === 0) return undefined;
  const position = positional.repeated ? `+${index}` : String(index);
  return ["complete", "-c", binary, "-n", quote(`${fn}_at ${command.name} ${position}`), ...flags].join(" ");
}

function commandLines(binary: string, fn: string, command: CommandSpec): string[] {
  const condition = `${fn}_at ${command.name}`;
  return [
    `# ${binary} ${command.name}`,
    ...command.options.map((option) => optionLine(binary, condition, option)),
    ...command.positionals.flatMap((positional, index) => positionalLine(binary, fn, command, positional, index) ?? []),
    "",
  ];
}

export function fishCompletion(model: CliModel): string {
  const name = model.binaryName;
  const fn = `__${identifier(name)}`;
  const valueOptions = valueOptionNames(model);
  return [
    `# fish completion for ${name}, ${GENERATED_NOTE("fish", name)}.`,
    `# Install it with: ${name} completions fish > ~/.config/fish/completions/${name}.fish`,
    "",
    "# Prints the number of arguments after the command, then the command (if any).",
    `function ${fn}_state`,
    "    set -l tokens (commandline -opc)",
    "    set -e tokens[1]",
    "    set -l command ''",
    "    set -l positionals 0",
    "    set -l skip 0",
    "    set -l rest 0",
    "    for token in $tokens",
    "        if test $rest = 1",
    "            set positionals (math $positionals + 1)",
    "        else if test $skip = 1",
    "            set skip 0",
    "        else",
    "            switch $token",
    "                case --",
    "                    set rest 1",
    ...(valueOptions.length === 0 ? [] : [`                case ${valueOptions.join(" ")}`, "                    set skip 1"]),
    "                case '-*'",
    "                case '*'",
    "                    if test -z \"$command\"",
    "                        set command $token",
    "                    else",
    "                        set positionals (math $positionals + 1)",
    "                    end",
    "            end",
    "        end",
    "    end",
    "    echo $positionals",
    "    echo $command",
    "end",
    "",
    `function ${fn}_no_command`,
    `    set -l state (${fn}_state)`,
    `    test -z "$state[2]"`,
    "end",
    "",
    "# COMMAND [N]: the command is COMMAND and N arguments precede the cursor ('+N': N or more).",
    `function ${fn}_at`,
    `    set -l state (${fn}_state)`,
    `    test "$state[2]" = "$argv[1]"; or return 1`,
    "    set -q argv[2]; or return 0",
    "    if string match -q -- '+*' $argv[2]",
    "        test $state[1] -ge (string sub -s 2 -- $argv[2])",
    "    else",
    "        test $state[1] -eq $argv[2]",
    "    end",
    "end",
    "",
    `complete -c ${name} -f`,
    "",
    "# Commands and the options accepted before them",
    ...model.commands.map(
      (command) =>
        `complete -c ${name} -n ${fn}_no_command -a ${quote(command.name)} -d ${quote(menuText(command.description))}`,
    ),
    ...rootOptions(model).map((option) => optionLine(name, `${fn}_no_command`, option)),
    "",
    ...model.commands.flatMap((command) => commandLines(name, fn, command)),
  ].join("\n");
}
