/**
 * Turning what went wrong in a manifest or lock into one line:
 *   karapace.toml:7:18: system.packages[1]: expected a string, found integer 42
 * file, line:column when known, the key path, what was expected and what was found.
 */
import { TomlDate } from "smol-toml";
import type { PathSegment, Position } from "./locate.ts";
import { quote } from "./text.ts";

export interface Issue {
  path: PathSegment[];
  /** What is wrong, without the path: "expected a string, found integer 42". */
  message: string;
  /** Set when the TOML parser itself reported the position. */
  position?: Position;
}

/** What a typia error report looks like (IValidation.IError), reduced to what we read. */
export interface TypiaError {
  path: string;
  expected: string;
  value: unknown;
}

const SIMPLE_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `system.packages[1]`, `mounts."my label"` — TOML's own way to write a key path. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = SIMPLE_SEGMENT.test(segment) ? segment : quote(segment);
      out += out === "" ? key : `.${key}`;
    }
  }
  return out;
}

/** Splits typia's `$input.system.packages[1]` / `$input.mounts["a b"]` into segments. */
export function parseTypiaPath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let i = path.startsWith("$input") ? "$input".length : 0;
  while (i < path.length) {
    if (path[i] === ".") {
      let j = i + 1;
      while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
      segments.push(path.slice(i + 1, j));
      i = j;
    } else if (path[i] === "[") {
      if (path[i + 1] === '"') {
        let j = i + 2;
        while (j < path.length && path[j] !== '"') j += path[j] === "\\" ? 2 : 1;
        try {
          segments.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
        } catch {
          segments.push(path.slice(i + 2, j));
        }
        i = j + 2;
      } else {
        const j = path.indexOf("]", i);
        const end = j < 0 ? path.length : j;
        segments.push(Number(path.slice(i + 1, end)));
        i = end + 1;
      }
    } else i++;
  }
  return segments;
}

/** A parsed TOML value as a message names it: `integer 42`, `string "x"`, `a table`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "bigint") return `integer ${value}`;
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "float nan";
    if (!Number.isFinite(value)) return `float ${value > 0 ? "inf" : "-inf"}`;
    return `float ${Number.isInteger(value) ? value.toFixed(1) : String(value)}`;
  }
  if (typeof value === "string") return `string ${quote(value)}`;
  if (typeof value === "boolean") return `boolean ${value}`;
  if (value instanceof TomlDate) return `date-time ${value.toISOString()}`;
  if (Array.isArray(value)) return value.length === 0 ? "an empty array" : `an array of ${value.length}`;
  if (typeof value === "object" && value !== null) return "a table";
  return typeof value;
}

/** typia's type text (`(Array<string> | undefined)`, `BaseSection`) in words. */
export function describeExpected(expected: string): string {
  const bare = expected.replace(/^\(/, "").replace(/\)$/, "").replace(/ \| undefined$/, "").trim();
  switch (bare) {
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "bigint":
      return "an integer";
    case "Array<string>":
      return "an array of strings";
    case "Record<string, string>":
      return 'a table of strings (label = "host:container")';
    case "Array<ResolvedPackage>":
    case "Array<NormalizedMount>":
      return "an array of tables";
  }
  return /^[A-Z]\w*$/.test(bare) ? "a table" : bare;
}

/** The keys a closed table accepts, by the table's formatted path ("" for the top level). */
export type AllowedKeys = (tablePath: string) => readonly string[] | undefined;

/** One typia error as an Issue; `allowedKeys` feeds the "unknown key" message. */
export function typiaIssue(error: TypiaError, allowedKeys: AllowedKeys): Issue {
  const path = parseTypiaPath(error.path);
  if (error.expected === "undefined") {
    const parent = formatPath(path.slice(0, -1));
    const allowed = allowedKeys(parent) ?? [];
    const where = parent === "" ? "at the top level" : `in [${parent}]`;
    return { path, message: `unknown key; allowed ${where}: ${allowed.join(", ")}` };
  }
  if (error.value === undefined) {
    const what = describeExpected(error.expected);
    return { path, message: what === "a table" ? "required table is missing" : `required key is missing (expected ${what})` };
  }
  return { path, message: `expected ${describeExpected(error.expected)}, found ${describeValue(error.value)}` };
}

/** The single line a user sees; further problems are counted, not listed. */
export function formatIssues(file: string, issues: readonly Issue[], locateIssue: (issue: Issue) => Position | undefined): string {
  const first = issues[0];
  if (first === undefined) return `${file}: invalid`;
  const position = first.position ?? locateIssue(first);
  const where = position === undefined ? file : `${file}:${position.line}:${position.column}`;
  const path = formatPath(first.path);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  return `${where}: ${path === "" ? "" : `${path}: `}${first.message}${more}`;
}
