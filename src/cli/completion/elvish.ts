import type { CliModel, CommandSpec, OptionSpec, ResolvedValueHint } from "../spec.ts";
import { GENERATED_NOTE, identifier, menuText, rootOptions, valueOptionNames } from "./common.ts";

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function list(words: readonly string[]): string {
  return `[${words.map(quote).join(" ")}]`;
}

/** Statements that emit candidates for a value. */
function valueCandidates(hint: ResolvedValueHint): string[] {
  switch (hint.kind) {
    case "choice":
      return hint.values.map((value) => `put ${quote(value)}`);
    case "directory":
      return ["directories $current"];
    case "file":
      return ["edit:complete-filename $current"];
    case "none":
      return [];
  }
}

function block(statements: readonly string[], indent: string): string[] {
  return statements.map((statement) => `${indent}${statement}`);
}

/** `if (eq $prev --store) { ... }` for each option of one position that takes a value. */
function optionValueBranches(options: readonly OptionSpec[], indent: string): string[] {
  const lines: string[] = [];
  for (const option of options) {
    if (option.valueName === undefined) continue;
    const body = valueCandidates(option.values);
    if (body.length === 0) continue;
    lines.push(`${indent}if (has-value ${list(option.names)} $prev) {`, ...block(body, `${indent}    `), `${indent}}`);
  }
  return lines;
}

function optionCandidates(options: readonly OptionSpec[], indent: string): string[] {
  return options.flatMap((option) =>
    option.names.map((name) => `${indent}cand ${quote(name)} ${quote(menuText(option.description))}`),
  );
}

function positionalBranches(command: CommandSpec, indent: string): string[] {
  const lines: string[] = [];
  command.positionals.forEach((positional, index) => {
    const body = valueCandidates(positional.values);
    if (body.length === 0) return;
    const test = positional.repeated ? `(>= $positionals ${index})` : `(== $positionals ${index})`;
    lines.push(`${indent}if ${test} {`, ...block(body, `${indent}    `), `${indent}}`);
  });
  return lines;
}

function commandBranch(command: CommandSpec): string[] {
  const i = "        ";
  return [
    `    if (eq $command ${quote(command.name)}) {`,
    `${i}if $skip {`,
    ...optionValueBranches(command.options, `${i}    `),
    `${i}} elif (str:has-prefix $current '-') {`,
    ...optionCandidates(command.options, `${i}    `),
    `${i}} else {`,
    ...positionalBranches(command, `${i}    `),
    `${i}}`,
    "        return",
    "    }",
  ];
}

export function elvishCompletion(model: CliModel): string {
  const name = model.binaryName;
  const fn = `_${identifier(name)}-complete`;
  const root = rootOptions(model);
  return [
    `# elvish completion for ${name}, ${GENERATED_NOTE("elvish", name)}.`,
    `# Load it from rc.elv with: eval (${name} completions elvish | slurp)`,
    "",
    "use path",
    "use str",
    "",
    `fn ${fn} {|@words|`,
    "    fn cand {|text desc|",
    "        edit:complex-candidate $text &display=$text' -- '$desc",
    "    }",
    "    fn directories {|seed|",
    "        edit:complete-filename $seed | each {|c| if (path:is-dir &follow-symlink $c[stem]) { put $c } }",
    "    }",
    "    var current = $words[-1]",
    "    var prev = ''",
    "    if (> (count $words) 1) { set prev = $words[-2] }",
    "",
    "    # Find the command and count the arguments already given to it.",
    "    var command = ''",
    "    var positionals = (num 0)",
    "    var skip = $false",
    "    var rest = $false",
    "    for word $words[1..-1] {",
    "        if $rest {",
    "            set positionals = (+ $positionals 1)",
    "        } elif $skip {",
    "            set skip = $false",
    "        } elif (eq $word '--') {",
    "            set rest = $true",
    `        } elif (has-value ${list(valueOptionNames(model))} $word) {`,
    "            set skip = $true",
    "        } elif (str:has-prefix $word '-') {",
    "            nop",
    "        } elif (eq $command '') {",
    "            set command = $word",
    "        } else {",
    "            set positionals = (+ $positionals 1)",
    "        }",
    "    }",
    "    if $rest { return }",
    "",
    "    if (eq $command '') {",
    "        if $skip {",
    ...optionValueBranches(root, "            "),
    "        } elif (str:has-prefix $current '-') {",
    ...optionCandidates(root, "            "),
    "        } else {",
    ...model.commands.map((command) => `            cand ${quote(command.name)} ${quote(menuText(command.description))}`),
    "        }",
    "        return",
    "    }",
    ...model.commands.flatMap(commandBranch),
    "}",
    "",
    `set edit:completion:arg-completer[${name}] = $${fn}~`,
    "",
  ].join("\n");
}
