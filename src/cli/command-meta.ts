import type { BaseContext, CommandClass, Usage } from "clipanion";

/**
 * What clipanion's definitions cannot say about a command's arguments: what a
 * positional means and what values an argument takes. The help, the man pages
 * and the completion scripts read it from a command class's static `meta`.
 */

export type ValueHint =
  | { kind: "choice"; values: readonly string[] }
  | { kind: "file" }
  | { kind: "directory" }
  /** One of karapace's own command names (for `karapace help <command>`). */
  | { kind: "command" }
  | { kind: "none" };

export interface PositionalMeta {
  description: string;
  values?: ValueHint;
}

export interface OptionValueMeta {
  /** Shown as `--name <valueName>`. */
  valueName: string;
  values?: ValueHint;
}

export interface CommandMeta {
  /** Keyed by the positional's name as clipanion prints it in the usage line. */
  positionals?: Readonly<Record<string, PositionalMeta>>;
  /** Keyed by the option's long name, e.g. `--store`. */
  options?: Readonly<Record<string, OptionValueMeta>>;
}

/** A command class as the registry holds it: documented, with a path. */
export type RegisteredCommand = CommandClass<BaseContext> & {
  paths: string[][];
  usage: Usage;
  meta?: CommandMeta;
};
