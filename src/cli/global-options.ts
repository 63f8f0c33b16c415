import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import type { ValueHint } from "./command-meta.ts";

/**
 * The options every command accepts. Declared once here so the base command,
 * the root help, the man pages and the completion scripts all agree.
 */
export interface GlobalOptionDoc {
  names: readonly string[];
  valueName?: string;
  values?: ValueHint;
  description: string;
}

export const GLOBAL_OPTIONS = {
  store: {
    names: ["--store"],
    valueName: "path",
    values: { kind: "directory" },
    description:
      "Store directory (default: $XDG_DATA_HOME/karapace, or ~/.local/share/karapace)",
  },
  json: {
    names: ["--json"],
    description: "Print the result as one JSON document on stdout",
  },
  verbose: {
    names: ["-v", "--verbose"],
    description: "Log debug messages to stderr",
  },
  trace: {
    names: ["--trace"],
    description: "Log trace messages to stderr and show stack traces on errors",
  },
} as const satisfies Record<string, GlobalOptionDoc>;

/** Flags that only make sense before a command: `karapace --help`, `karapace --version`. */
export const ROOT_FLAGS: readonly GlobalOptionDoc[] = [
  { names: ["-h", "--help"], description: "Show help for karapace or for a command" },
  { names: ["-V", "--version"], description: "Print the version and exit" },
];

export type Env = Record<string, string | undefined>;

function expandHome(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return path;
}

function homeDir(env: Env): string {
  return env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
}

/** `--store` if given (with `~` expanded), else the XDG data directory. */
export function resolveStorePath(option: string | undefined, env: Env): string {
  const home = homeDir(env);
  if (option !== undefined && option !== "") return expandHome(option, home);
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says relative values must be ignored.
  if (xdg !== undefined && xdg !== "" && isAbsolute(xdg)) return join(xdg, "karapace");
  return join(home, ".local", "share", "karapace");
}

export const LOG_LEVELS = ["error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ResolvedLogLevel {
  level: LogLevel;
  /** Set when KARAPACE_LOG held something we could not use. */
  warning?: string;
}

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** KARAPACE_LOG wins over the flags, as in the reference. */
export function resolveLogLevel(flags: { verbose: boolean; trace: boolean }, env: Env): ResolvedLogLevel {
  const fromFlags: LogLevel = flags.trace ? "trace" : flags.verbose ? "debug" : "warn";
  const raw = env.KARAPACE_LOG?.trim().toLowerCase();
  if (raw === undefined || raw === "") return { level: fromFlags };
  if (isLogLevel(raw)) return { level: raw };
  return {
    level: fromFlags,
    warning: `ignoring KARAPACE_LOG=${env.KARAPACE_LOG}: expected one of ${LOG_LEVELS.join(", ")}`,
  };
}
