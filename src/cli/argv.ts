import { type Env, GLOBAL_OPTIONS, type GlobalOptionDoc } from "./global-options.ts";

const GLOBAL_DOCS: readonly GlobalOptionDoc[] = Object.values(GLOBAL_OPTIONS);

/** Global options that consume the next word (`--store <path>`). */
const VALUE_OPTIONS = new Set(GLOBAL_DOCS.filter((doc) => doc.valueName !== undefined).flatMap((doc) => doc.names));

/**
 * The words of a command line that are neither options nor values of global
 * options, up to `--`. Their first words name the command.
 */
export function commandWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? "";
    if (word === "--") break;
    if (VALUE_OPTIONS.has(word)) i++;
    else if (!word.startsWith("-")) words.push(word);
  }
  return words;
}

/** Whether `flag` appears among the options, i.e. before any `--`. */
export function hasFlag(argv: readonly string[], flag: string): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes(flag);
}

/**
 * Whether stack traces are wanted. Read straight from argv because it must
 * work even when parsing the command line failed.
 */
export function wantsStackTraces(argv: readonly string[], env: Env): boolean {
  if (hasFlag(argv, "--trace")) return true;
  return env.KARAPACE_LOG?.trim().toLowerCase() === "trace";
}
