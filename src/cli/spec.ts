import { Cli } from "clipanion";
import type { OptionValueMeta, RegisteredCommand, ValueHint } from "./command-meta.ts";
import { GLOBAL_OPTIONS, type GlobalOptionDoc, ROOT_FLAGS } from "./global-options.ts";
import { compactUsage } from "./usage-errors.ts";
import { BINARY_NAME, DESCRIPTION, VERSION } from "./version.ts";

/**
 * One description of the whole command line, built from the registered
 * command classes (clipanion's definitions plus each class's `meta`).
 * Root help, man pages and every completion script are rendered from it.
 */

export type ResolvedValueHint = Exclude<ValueHint, { kind: "command" }>;

export interface OptionSpec {
  names: readonly string[];
  /** Present only for options that take a value. */
  valueName?: string;
  values: ResolvedValueHint;
  description: string;
  required: boolean;
}

export interface PositionalSpec {
  name: string;
  required: boolean;
  /** Takes any number of words (`...`). */
  repeated: boolean;
  description: string;
  values: ResolvedValueHint;
}

export interface CommandSpec {
  path: readonly string[];
  /** `path` joined by spaces, e.g. `man-pages`. */
  name: string;
  description: string;
  /** Markdown-ish paragraphs; backticks mark literal text. */
  details: readonly string[];
  examples: readonly (readonly [string, string])[];
  /** e.g. `karapace completions <shell>` */
  synopsis: string;
  options: readonly OptionSpec[];
  positionals: readonly PositionalSpec[];
}

export interface CliModel {
  binaryName: string;
  version: string;
  description: string;
  globalOptions: readonly OptionSpec[];
  /** Flags accepted only before a command (--help, --version). */
  rootFlags: readonly OptionSpec[];
  commands: readonly CommandSpec[];
}

const HELP_FLAG: OptionSpec = {
  names: ["-h", "--help"],
  values: { kind: "none" },
  description: "Show this command's help",
  required: false,
};

/** Dedent and split on blank lines; lines inside a paragraph are joined. */
export function paragraphs(text: string | undefined): string[] {
  if (text === undefined) return [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const indents = lines.filter((line) => line.trim() !== "").map((line) => line.length - line.trimStart().length);
  const indent = indents.length > 0 ? Math.min(...indents) : 0;
  const blocks: string[][] = [[]];
  for (const line of lines.map((l) => l.slice(indent).trimEnd())) {
    if (line === "") blocks.push([]);
    else blocks[blocks.length - 1]?.push(line);
  }
  return blocks.filter((block) => block.length > 0).map((block) => {
    // Keep list items on their own lines; join everything else.
    if (block.every((line) => /^\s*- /.test(line) || /^\s{2,}/.test(line))) return block.join("\n");
    return block.map((line) => line.trim()).join(" ");
  });
}

/** First sentence-ish line, for menus that show one short description. */
export function summary(text: string): string {
  const first = paragraphs(text)[0] ?? "";
  return first.replace(/`([^`]*)`/g, "$1").replace(/\*\*([^*]*)\*\*/g, "$1");
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function resolveHint(hint: ValueHint | undefined, commandNames: readonly string[]): ResolvedValueHint {
  if (hint === undefined) return { kind: "none" };
  if (hint.kind === "command") return { kind: "choice", values: commandNames };
  return hint;
}

const GLOBAL_OPTION_DOCS: readonly GlobalOptionDoc[] = Object.values(GLOBAL_OPTIONS);

function globalValueMeta(): Map<string, OptionValueMeta> {
  const meta = new Map<string, OptionValueMeta>();
  for (const doc of GLOBAL_OPTION_DOCS) {
    if (doc.valueName === undefined) continue;
    for (const name of doc.names) meta.set(name, { valueName: doc.valueName, ...(doc.values ? { values: doc.values } : {}) });
  }
  return meta;
}

function optionFromDoc(doc: GlobalOptionDoc): OptionSpec {
  return {
    names: doc.names,
    ...(doc.valueName !== undefined ? { valueName: doc.valueName } : {}),
    values: resolveHint(doc.values, []),
    description: doc.description,
    required: false,
  };
}

const POSITIONAL_TOKEN = /^(<([^>]+)>|\[([^\]]+)\]|\.\.\.)$/;

function positionalsOf(
  usage: string,
  path: readonly string[],
  klass: RegisteredCommand,
  commandNames: readonly string[],
): PositionalSpec[] {
  const tokens = compactUsage(usage).split(" ").slice(1 + path.length);
  const result: PositionalSpec[] = [];
  for (const token of tokens) {
    const match = POSITIONAL_TOKEN.exec(token);
    if (match === null) continue;
    const repeated = token === "...";
    const name = match[2] ?? match[3] ?? "args";
    const meta = klass.meta?.positionals?.[name];
    result.push({
      name,
      required: match[2] !== undefined,
      repeated,
      description: meta?.description ?? "",
      values: resolveHint(meta?.values, commandNames),
    });
  }
  return result;
}

function describeCommand(klass: RegisteredCommand, commandNames: readonly string[]): CommandSpec {
  const definition = Cli.from([klass], { binaryName: BINARY_NAME }).definitions()[0];
  const path = klass.paths[0] ?? [];
  if (definition === undefined) throw new Error(`internal: command '${path.join(" ")}' has no usage`);
  const globalMeta = globalValueMeta();
  const options: OptionSpec[] = definition.options.map(({ definition: text, description, required }) => {
    const [namePart = "", ...valueSlots] = text.split(" ");
    const names = namePart.split(",");
    const long = names.find((name) => name.startsWith("--")) ?? names[0] ?? "";
    const meta = klass.meta?.options?.[long] ?? globalMeta.get(long);
    const takesValue = valueSlots.length > 0;
    return {
      names,
      ...(takesValue ? { valueName: meta?.valueName ?? "value" } : {}),
      values: takesValue ? resolveHint(meta?.values, commandNames) : { kind: "none" },
      description: description ?? "",
      required,
    };
  });
  const usage = klass.usage;
  return {
    path,
    name: path.join(" "),
    description: capitalize(summary(usage.description ?? "")),
    details: paragraphs(usage.details),
    examples: (usage.examples ?? []).map(([label, command]) => [label, command.replace(/\$0/g, BINARY_NAME)] as const),
    synopsis: compactUsage(definition.usage),
    options: [...options, HELP_FLAG],
    positionals: positionalsOf(definition.usage, path, klass, commandNames),
  };
}

export function describeCli(classes: readonly RegisteredCommand[]): CliModel {
  const commandNames = classes.map((klass) => (klass.paths[0] ?? []).join(" "));
  return {
    binaryName: BINARY_NAME,
    version: VERSION,
    description: DESCRIPTION,
    globalOptions: GLOBAL_OPTION_DOCS.map(optionFromDoc),
    rootFlags: ROOT_FLAGS.map(optionFromDoc),
    commands: classes.map((klass) => describeCommand(klass, commandNames)),
  };
}

/** `--store <path>`, `-v, --verbose` */
export function optionLabel(option: OptionSpec): string {
  const names = option.names.join(", ");
  return option.valueName === undefined ? names : `${names} <${option.valueName}>`;
}
