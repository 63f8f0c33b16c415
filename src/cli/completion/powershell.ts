import type { CliModel, CommandSpec, OptionSpec, ResolvedValueHint } from "../spec.ts";
import { GENERATED_NOTE, menuText, rootOptions, valueOptionNames } from "./common.ts";

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function array(words: readonly string[]): string {
  return `@(${words.map(quote).join(", ")})`;
}

function result(text: string, type: "ParameterName" | "ParameterValue", tooltip: string): string {
  // CompletionResult rejects an empty tooltip.
  const tip = tooltip === "" ? text : tooltip;
  return `[CompletionResult]::new(${quote(text)}, ${quote(text)}, [CompletionResultType]::${type}, ${quote(tip)})`;
}

/** Choice values become candidates; files and directories are left to PowerShell's own path completion. */
function valueResults(hint: ResolvedValueHint, indent: string): string[] {
  if (hint.kind !== "choice") return [];
  return hint.values.map((value) => `${indent}${result(value, "ParameterValue", value)}`);
}

function optionValueCases(options: readonly OptionSpec[], indent: string): string[] {
  const lines: string[] = [];
  for (const option of options) {
    if (option.valueName === undefined) continue;
    const body = valueResults(option.values, `${indent}    `);
    if (body.length === 0) continue;
    lines.push(`${indent}if (${array(option.names)} -contains $previous) {`, ...body, `${indent}}`);
  }
  return lines;
}

function optionResults(options: readonly OptionSpec[], indent: string): string[] {
  return options.flatMap((option) =>
    option.names.map((name) => `${indent}${result(name, "ParameterName", menuText(option.description))}`),
  );
}

function commandCase(command: CommandSpec): string[] {
  const i = "            ";
  const lines = [`        ${quote(command.name)} {`, `${i}if ($skip) {`, ...optionValueCases(command.options, `${i}    `)];
  lines.push(`${i}} elseif ($wordToComplete.StartsWith('-')) {`, ...optionResults(command.options, `${i}    `), `${i}} else {`);
  command.positionals.forEach((positional, index) => {
    const body = valueResults(positional.values, `${i}        `);
    if (body.length === 0) return;
    const test = positional.repeated ? `$positionals -ge ${index}` : `$positionals -eq ${index}`;
    lines.push(`${i}    if (${test}) {`, ...body, `${i}    }`);
  });
  lines.push(`${i}}`, "            break", "        }");
  return lines;
}

export function powershellCompletion(model: CliModel): string {
  const name = model.binaryName;
  const root = rootOptions(model);
  return [
    `# PowerShell completion for ${name}, ${GENERATED_NOTE("powershell", name)}.`,
    `# Load it from your $PROFILE with: ${name} completions powershell | Out-String | Invoke-Expression`,
    "",
    "using namespace System.Management.Automation",
    "using namespace System.Management.Automation.Language",
    "",
    `Register-ArgumentCompleter -Native -CommandName ${quote(name)} -ScriptBlock {`,
    "    param($wordToComplete, $commandAst, $cursorPosition)",
    "",
    "    # Find the command and count the arguments already given to it.",
    `    $valueOptions = ${array(valueOptionNames(model))}`,
    "    $command = ''",
    "    $positionals = 0",
    "    $skip = $false",
    "    $rest = $false",
    "    $previous = ''",
    "    foreach ($element in ($commandAst.CommandElements | Select-Object -Skip 1)) {",
    "        if ($element.Extent.EndOffset -ge $cursorPosition) { break }",
    "        $word = $element.Extent.Text",
    "        $previous = $word",
    "        if ($rest) { $positionals++ }",
    "        elseif ($skip) { $skip = $false }",
    "        elseif ($word -eq '--') { $rest = $true }",
    "        elseif ($valueOptions -contains $word) { $skip = $true }",
    "        elseif ($word.StartsWith('-')) { }",
    "        elseif ($command -eq '') { $command = $word }",
    "        else { $positionals++ }",
    "    }",
    "    if ($rest) { return }",
    "",
    "    $candidates = @(switch ($command) {",
    "        '' {",
    "            if ($skip) {",
    ...optionValueCases(root, "                "),
    "            } elseif ($wordToComplete.StartsWith('-')) {",
    ...optionResults(root, "                "),
    "            } else {",
    ...model.commands.map(
      (command) => `                ${result(command.name, "ParameterValue", menuText(command.description))}`,
    ),
    "            }",
    "            break",
    "        }",
    ...model.commands.flatMap(commandCase),
    "    })",
    "    $candidates | Where-Object { $_.CompletionText -like \"$wordToComplete*\" }",
    "}",
    "",
  ].join("\n");
}
