/**
 * smol-toml with the options every karapace file is parsed with, and its
 * errors as an Issue (first line of the message, line and column).
 */
import { parse, TomlError } from "smol-toml";
import type { Issue } from "./diagnostics.ts";

/**
 * Our schemas nest at most three levels; a cap far above that stops
 * `a = [[[[...]]]]` bombs early without rejecting anything reasonable.
 */
const MAX_INLINE_DEPTH = 16;

export type TomlResult = { ok: true; value: Record<string, unknown> } | { ok: false; issue: Issue };

export function parseToml(text: string): TomlResult {
  try {
    // integersAsBigInt: integers stay exact (no silent rounding above 2^53) and
    // distinct from floats, which the reference's u32/u64 fields refuse.
    const value = parse(text, { integersAsBigInt: true, maxDepth: MAX_INLINE_DEPTH, unsafeKeyBehaviour: "keep" });
    return { ok: true, value };
  } catch (error) {
    if (error instanceof TomlError) {
      const first = (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
      return { ok: false, issue: { path: [], message: `TOML syntax error: ${first}`, position: { line: error.line, column: error.column } } };
    }
    // smol-toml throws only TomlError for bad input; anything else (a stack overflow) is still the input's fault.
    const reason = error instanceof RangeError ? "the document is nested too deeply" : String(error);
    return { ok: false, issue: { path: [], message: `TOML syntax error: ${reason}` } };
  }
}
