import type { BaseContext, CommandClass } from "clipanion";
import type { RegisteredCommand } from "./command-meta.ts";
import { CompletionsCommand } from "./commands/completions.ts";
import { DebugValidateCommand } from "./commands/debug-validate.ts";
import { HashCommand } from "./commands/hash.ts";
import { HelpCommand } from "./commands/help.ts";
import { ManPagesCommand } from "./commands/man-pages.ts";
import { NewCommand } from "./commands/new.ts";
import { VersionCommand } from "./commands/version.ts";

/**
 * Every user-facing command, in the order the help lists them. Adding a
 * command here is all it takes for it to appear in the help, the man pages
 * and the completion scripts. Command modules must stay cheap to import:
 * load engine, store, image, runtime and wasm code with `await import()`
 * inside `execute()`.
 */
export const REGISTERED_COMMANDS: readonly RegisteredCommand[] = [
  NewCommand,
  CompletionsCommand,
  ManPagesCommand,
  HelpCommand,
];

/** Parsed like commands but documented as root flags. */
export const HIDDEN_COMMANDS: readonly CommandClass<BaseContext>[] = [VersionCommand, HashCommand, DebugValidateCommand];
