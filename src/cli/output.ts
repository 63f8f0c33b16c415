import { type Env, type LogLevel, resolveLogLevel } from "./global-options.ts";

/** Where text goes: a Node stream, or anything else that takes text (see std-sinks.ts). */
export interface TextSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorEnabled(stream: TextSink, env: Env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return "isTTY" in stream && stream.isTTY === true;
}

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const identity = (text: string) => text;

export function makeStyle(enabled: boolean): Style {
  if (!enabled) {
    return { bold: identity, dim: identity, red: identity, green: identity, yellow: identity, cyan: identity };
  }
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
  };
}

const ANSI_PATTERN = /\x1b\[[0-9;]*m/g;

/** Width of a string as a terminal shows it (escape codes take no room). */
export function visibleWidth(text: string): number {
  return Array.from(text.replace(ANSI_PATTERN, "")).length;
}

function padEnd(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - visibleWidth(text)));
}

function padStart(text: string, width: number): string {
  return " ".repeat(Math.max(0, width - visibleWidth(text))) + text;
}

export type Align = "left" | "right";

export interface TableOptions {
  header?: readonly string[];
  align?: readonly Align[];
  /** Spaces between columns. */
  gap?: number;
}

/** Columns aligned by visible width; the last column is not padded, so lines carry no trailing spaces. */
export function renderTable(rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const all = options.header ? [options.header, ...rows] : rows;
  if (all.length === 0) return "";
  const columns = Math.max(...all.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, col) =>
    Math.max(...all.map((row) => visibleWidth(row[col] ?? ""))),
  );
  const gap = " ".repeat(options.gap ?? 2);
  const lines = all.map((row) =>
    Array.from({ length: columns }, (_, col) => {
      const cell = row[col] ?? "";
      const width = widths[col] ?? 0;
      if (options.align?.[col] === "right") return padStart(cell, width);
      return col === columns - 1 ? cell : padEnd(cell, width);
    })
      .join(gap)
      .trimEnd(),
  );
  return `${lines.join("\n")}\n`;
}

/** `key: value` lines with the values lined up. */
export function renderKeyValue(pairs: readonly (readonly [string, string])[]): string {
  return renderTable(
    pairs.map(([key, value]) => [`${key}:`, value]),
    { gap: 1 },
  );
}

const LEVEL_RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

/** Diagnostics go to stderr so stdout stays clean for results. */
export class Logger {
  private styleCache: Style | undefined;

  /** `style` may be a function: asking whether stderr is a terminal has a cost, paid on the first message. */
  constructor(
    private readonly stderr: TextSink,
    readonly level: LogLevel,
    private readonly styleOf: Style | (() => Style),
  ) {}

  private get style(): Style {
    this.styleCache ??= typeof this.styleOf === "function" ? this.styleOf() : this.styleOf;
    return this.styleCache;
  }

  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] <= LEVEL_RANK[this.level];
  }

  error(message: string): void {
    this.write("error", message, this.style.red);
  }
  warn(message: string): void {
    this.write("warn", message, this.style.yellow);
  }
  info(message: string): void {
    this.write("info", message, this.style.green);
  }
  debug(message: string): void {
    this.write("debug", message, this.style.cyan);
  }
  trace(message: string): void {
    this.write("trace", message, this.style.dim);
  }

  private write(level: LogLevel, message: string, paint: (text: string) => string): void {
    if (!this.enabled(level)) return;
    this.stderr.write(`${paint(`${level}:`)} ${message}\n`);
  }
}

/** Human-readable writers, handed out only when the output is not JSON. */
export interface HumanWriter {
  readonly style: Style;
  line(text?: string): void;
  table(rows: readonly (readonly string[])[], options?: TableOptions): void;
  keyValue(pairs: readonly (readonly [string, string])[]): void;
  raw(text: string): void;
}

export interface OutputOptions {
  stdout: TextSink;
  stderr: TextSink;
  json: boolean;
  level: LogLevel;
  env: Env;
}

/**
 * A command's only way to stdout. In `--json` mode exactly one JSON document
 * is written; human writers are only reachable in the other branch, so a
 * command cannot mix the two by accident.
 */
export class Output {
  readonly json: boolean;
  readonly log: Logger;
  private resultWritten = false;
  private readonly stdout: TextSink;
  private readonly env: Env;
  private styleCache: Style | undefined;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.stdout = options.stdout;
    this.env = options.env;
    this.log = new Logger(options.stderr, options.level, () => makeStyle(colorEnabled(options.stderr, options.env)));
  }

  private get style(): Style {
    this.styleCache ??= makeStyle(colorEnabled(this.stdout, this.env));
    return this.styleCache;
  }

  /** Emit the command's result: `value` as JSON, or whatever `human` writes. */
  result(value: unknown, human: (writer: HumanWriter) => void): void {
    if (this.resultWritten) throw new Error("internal: a command emitted two results");
    this.resultWritten = true;
    if (this.json) {
      this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      return;
    }
    human(this.humanWriter());
  }

  private humanWriter(): HumanWriter {
    const write = (text: string) => this.stdout.write(text);
    return {
      style: this.style,
      line: (text = "") => write(`${text}\n`),
      table: (rows, options) => write(renderTable(rows, options)),
      keyValue: (pairs) => write(renderKeyValue(pairs)),
      raw: write,
    };
  }
}

/** The Output for a command's global flags; a bad KARAPACE_LOG is warned about, not fatal. */
export function makeOutput(
  flags: { json: boolean; verbose: boolean; trace: boolean },
  io: { stdout: TextSink; stderr: TextSink; env: Env },
): Output {
  const { level, warning } = resolveLogLevel(flags, io.env);
  const output = new Output({ stdout: io.stdout, stderr: io.stderr, json: flags.json, level, env: io.env });
  if (warning !== undefined) output.log.warn(warning);
  return output;
}
