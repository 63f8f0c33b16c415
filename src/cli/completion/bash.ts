import type { CliModel, CommandSpec, OptionSpec, ResolvedValueHint } from "../spec.ts";
import { GENERATED_NOTE, identifier, optionNames, rootOptions, valueOptionNames } from "./common.ts";

const SAFE_WORD = /^[A-Za-z0-9._:+/@=-]+$/;

/** Candidate words go into `compgen -W "..."`, so they must need no quoting. */
function wordList(words: readonly string[]): string {
  for (const word of words) {
    if (!SAFE_WORD.test(word)) throw new Error(`internal: completion word needs quoting: ${word}`);
  }
  return words.join(" ");
}

function replyFor(hint: ResolvedValueHint, fn: string): string | undefined {
  switch (hint.kind) {
    case "choice":
      return `${fn}_words "${wordList(hint.values)}" "$cur"`;
    case "directory":
      return `${fn}_dirs "$cur"`;
    case "file":
      return `${fn}_files "$cur"`;
    case "none":
      return undefined;
  }
}

/** `case "$prev" in --store) ...` for the options of one command line position. */
function valueCase(options: readonly OptionSpec[], fn: string, indent: string): string[] {
  const arms: string[] = [];
  for (const option of options) {
    if (option.valueName === undefined) continue;
    const reply = replyFor(option.values, fn) ?? "COMPREPLY=()";
    arms.push(`${indent}    ${option.names.join("|")}) ${reply}; return 0 ;;`);
  }
  if (arms.length === 0) return [];
  return [`${indent}case "$prev" in`, ...arms, `${indent}esac`];
}

function commandArm(command: CommandSpec, fn: string): string[] {
  const pad = "            ";
  const lines = [`        ${command.name})`];
  lines.push(...valueCase(command.options, fn, pad));
  lines.push(`${pad}if [[ "$cur" == -* ]]; then ${fn}_words "${wordList(optionNames(command.options))}" "$cur"; return 0; fi`);
  const arms: string[] = [];
  command.positionals.forEach((positional, index) => {
    const reply = replyFor(positional.values, fn);
    if (reply === undefined) return;
    const label = positional.repeated ? "*" : String(index);
    arms.push(`${pad}    ${label}) ${reply} ;;`);
  });
  if (arms.length > 0) lines.push(`${pad}case "$positionals" in`, ...arms, `${pad}esac`);
  lines.push(`${pad};;`);
  return lines;
}

export function bashCompletion(model: CliModel): string {
  const name = model.binaryName;
  const fn = `_${identifier(name)}`;
  const root = rootOptions(model);
  const commandNames = model.commands.map((command) => command.name);
  const skipPattern = valueOptionNames(model).join("|");
  return [
    `# bash completion for ${name}, ${GENERATED_NOTE("bash", name)}.`,
    `# Load it with: source <(${name} completions bash)`,
    "",
    `${fn}_words() {`,
    `    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")`,
    "}",
    "",
    `${fn}_dirs() {`,
    "    compopt -o filenames 2>/dev/null",
    `    mapfile -t COMPREPLY < <(compgen -d -- "$1")`,
    "}",
    "",
    `${fn}_files() {`,
    "    compopt -o filenames 2>/dev/null",
    `    mapfile -t COMPREPLY < <(compgen -f -- "$1")`,
    "}",
    "",
    `${fn}() {`,
    `    local cur="\${COMP_WORDS[COMP_CWORD]}" prev=""`,
    `    (( COMP_CWORD > 0 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"`,
    "    # bash splits --option=value at '='; complete the value of the option before it.",
    `    if [[ "$cur" == "=" ]]; then cur=""; elif [[ "$prev" == "=" ]] && (( COMP_CWORD > 1 )); then prev="\${COMP_WORDS[COMP_CWORD-2]}"; fi`,
    "    COMPREPLY=()",
    "",
    "    # Find the command and count the arguments already given to it.",
    `    local command="" positionals=0 skip=0 rest=0 word i`,
    "    for (( i = 1; i < COMP_CWORD; i++ )); do",
    `        word="\${COMP_WORDS[i]}"`,
    "        if (( rest )); then positionals=$((positionals + 1)); continue; fi",
    "        if (( skip )); then",
    `            [[ "$word" == "=" ]] || skip=0`,
    "            continue",
    "        fi",
    `        case "$word" in`,
    "            --) rest=1 ;;",
    ...(skipPattern === "" ? [] : [`            ${skipPattern}) skip=1 ;;`]),
    "            -*) ;;",
    `            *) if [[ -z "$command" ]]; then command="$word"; else positionals=$((positionals + 1)); fi ;;`,
    "        esac",
    "    done",
    "    (( rest )) && return 0",
    "",
    `    case "$command" in`,
    `        "")`,
    ...valueCase(root, fn, "            "),
    `            if [[ "$cur" == -* ]]; then ${fn}_words "${wordList(optionNames(root))}" "$cur"`,
    `            else ${fn}_words "${wordList(commandNames)}" "$cur"; fi`,
    "            ;;",
    ...model.commands.flatMap((command) => commandArm(command, fn)),
    "    esac",
    "    return 0",
    "}",
    "",
    `complete -F ${fn} ${name}`,
    "",
  ].join("\n");
}
