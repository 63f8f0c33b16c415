import { CliUsageError } from "../errors.ts";
import { commandWords } from "./argv.ts";
import { BINARY_NAME } from "./version.ts";

/**
 * clipanion reports parse failures as multi-line messages that embed every
 * candidate's usage. Turn them into one-line CliUsageErrors with a hint.
 */

interface Candidate {
  usage: string;
  reason: string | null;
}

function isCandidate(value: unknown): value is Candidate {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.usage === "string" && (record.reason === null || typeof record.reason === "string");
}

function candidatesOf(error: Error): Candidate[] {
  const raw: unknown = Reflect.get(error, "candidates");
  return Array.isArray(raw) ? raw.filter(isCandidate) : [];
}

const USAGE_TOKEN = /\[[^\]]*\]|<[^>]*>|\.\.\.|\S+/g;

/** `karapace completions [--json] [-v,--verbose] <shell>` -> `karapace completions <shell>` */
export function compactUsage(usage: string): string {
  const tokens = usage.match(USAGE_TOKEN) ?? [];
  return tokens.filter((token) => !/^[[<]-/.test(token)).join(" ");
}

/** `karapace completions <shell>` -> `completions` */
function commandOf(usage: string): string {
  const tokens = compactUsage(usage).split(" ").slice(1);
  return tokens.filter((token) => !/^[[<.]/.test(token)).join(" ");
}

function rephraseReason(reason: string, command: string): string {
  const quoted = /\("(.*)"\)\.?$/.exec(reason)?.[1];
  const where = `'${BINARY_NAME} ${command}'`;
  if (reason.startsWith("Not enough positional arguments")) return `missing argument for ${where}`;
  if (reason.startsWith("Extraneous positional argument")) return `unexpected argument '${quoted}' for ${where}`;
  if (reason.startsWith("Unsupported option name")) return `unknown option '${quoted}' for ${where}`;
  if (reason.startsWith("Invalid option name")) return `invalid option '${quoted}' for ${where}`;
  return `${reason.charAt(0).toLowerCase()}${reason.slice(1).replace(/\.$/, "")} (${where})`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

export function closestCommand(word: string, commands: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of commands) {
    const distance = name.startsWith(word) ? 0 : editDistance(word, name);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

const LIST_HINT = `run '${BINARY_NAME} --help' to list commands`;

function unknownCommand(words: readonly string[], commands: readonly string[]): CliUsageError {
  const word = words[0];
  if (word === undefined) return new CliUsageError("no command given", { hint: LIST_HINT });
  const suggestion = closestCommand(word, commands);
  const hint = suggestion === undefined ? LIST_HINT : `did you mean '${BINARY_NAME} ${suggestion}'? Or ${LIST_HINT}`;
  return new CliUsageError(`unknown command '${word}'`, { hint });
}

function helpHint(usage: string): string {
  const command = commandOf(usage);
  return `usage: ${compactUsage(usage)} (see '${BINARY_NAME} ${command} --help')`;
}

/**
 * Converts clipanion's parse errors; any other value is returned untouched.
 * `commands` are the registered command names, for "did you mean".
 */
export function toUsageError(error: unknown, argv: readonly string[], commands: readonly string[]): unknown {
  if (!(error instanceof Error) || !("clipanion" in error)) return error;

  if (error.name === "UnknownSyntaxError") {
    const words = commandWords(argv);
    // The longest registered command the words start with, e.g. `completions`.
    const named = commands
      .filter((name) => name.split(" ").every((segment, i) => words[i] === segment))
      .sort((a, b) => b.length - a.length)[0];
    if (named === undefined) return unknownCommand(words, commands);
    const candidates = candidatesOf(error).filter((c) => commandOf(c.usage) === named);
    const candidate = candidates.find((c) => c.reason != null) ?? candidates[0];
    const message =
      candidate?.reason != null ? rephraseReason(candidate.reason, named) : `invalid arguments for '${BINARY_NAME} ${named}'`;
    return new CliUsageError(message, { hint: candidate ? helpHint(candidate.usage) : `see '${BINARY_NAME} ${named} --help'` });
  }

  if (error.name === "AmbiguousSyntaxError") {
    return new CliUsageError("the command line matches more than one command", { hint: LIST_HINT });
  }

  const firstLine = error.message.split("\n")[0] ?? error.message;
  return new CliUsageError(firstLine, { hint: `run '${BINARY_NAME} --help' for usage` });
}
