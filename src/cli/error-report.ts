import { KarapaceError } from "../errors.ts";
import type { Style } from "./output.ts";

export interface ErrorReportOptions {
  /** Include stack traces and causes (--trace or KARAPACE_LOG=trace). */
  trace: boolean;
  style: Style;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, "; ").trim();
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message === "" ? error.name : error.message;
  return String(error);
}

function stackOf(error: unknown): string[] {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    if (current instanceof Error) {
      lines.push(depth === 0 ? (current.stack ?? current.message) : `caused by: ${current.stack ?? current.message}`);
      current = current.cause;
    } else {
      lines.push(`caused by: ${String(current)}`);
      break;
    }
  }
  return lines;
}

/**
 * What the user sees when a command fails: `error: <message>` on one line,
 * then `hint: <next step>` when there is one. Stack traces only on request.
 */
export function formatError(error: unknown, options: ErrorReportOptions): string {
  const { style } = options;
  const lines = [`${style.red(style.bold("error:"))} ${oneLine(messageOf(error))}`];
  if (error instanceof KarapaceError) {
    if (error.hint !== undefined) lines.push(`${style.cyan("hint:")} ${oneLine(error.hint)}`);
  } else if (!options.trace) {
    lines.push(`${style.cyan("hint:")} run again with --trace to see where it failed`);
  }
  if (options.trace) lines.push(...stackOf(error));
  return `${lines.join("\n")}\n`;
}
