/**
 * Best-effort line:column of a key path in TOML source, for error messages
 * about values that parsed fine but failed validation (the TOML parser only
 * reports positions for syntax errors). It understands table headers, dotted
 * keys and array elements; anything fancier (inline tables, keys inside
 * multi-line strings) falls back to the nearest enclosing key it can find, or
 * to no position at all. It runs only when there is an error to report.
 */

export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

interface Entry {
  path: PathSegment[];
  line: number;
  column: number;
  /** Offset of the first character after '=' (key-value lines only). */
  valueOffset?: number;
}

const BARE_KEY = /[A-Za-z0-9_-]/;

/** Parses `a."b c".'d'` starting at `i`; returns the keys and where parsing stopped. */
function parseKeys(line: string, start: number): { keys: string[]; end: number } | undefined {
  const keys: string[] = [];
  let i = start;
  for (;;) {
    while (line[i] === " " || line[i] === "\t") i++;
    const ch = line[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === "\\" ? 2 : 1;
      if (j >= line.length) return undefined;
      try {
        keys.push(JSON.parse(line.slice(i, j + 1)) as string);
      } catch {
        return undefined;
      }
      i = j + 1;
    } else if (ch === "'") {
      const j = line.indexOf("'", i + 1);
      if (j < 0) return undefined;
      keys.push(line.slice(i + 1, j));
      i = j + 1;
    } else {
      let j = i;
      while (j < line.length && BARE_KEY.test(line[j] ?? "")) j++;
      if (j === i) return undefined;
      keys.push(line.slice(i, j));
      i = j;
    }
    while (line[i] === " " || line[i] === "\t") i++;
    if (line[i] !== ".") return { keys, end: i };
    i++;
  }
}

/** Every table header and key-value line outside multi-line strings, with its full path. */
function scanEntries(text: string): Entry[] {
  const entries: Entry[] = [];
  const arrayCounts = new Map<string, number>();
  let table: PathSegment[] = [];
  let open: Multiline | undefined;
  let offset = 0;
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] ?? "";
    const lineStart = offset;
    offset += line.length + 1;
    if (open !== undefined) {
      if (closingIndex(line, 0, open) >= 0) open = undefined;
      continue;
    }
    const indent = line.length - line.trimStart().length;
    if (line[indent] === "[") {
      const isArray = line[indent + 1] === "[";
      const parsed = parseKeys(line, indent + (isArray ? 2 : 1));
      if (parsed === undefined) continue;
      table = [...parsed.keys];
      if (isArray) {
        const id = JSON.stringify(parsed.keys);
        const index = arrayCounts.get(id) ?? 0;
        arrayCounts.set(id, index + 1);
        table.push(index);
      }
      entries.push({ path: table, line: n + 1, column: indent + 1 });
      continue;
    }
    const parsed = parseKeys(line, indent);
    if (parsed === undefined || line[parsed.end] !== "=") continue;
    entries.push({ path: [...table, ...parsed.keys], line: n + 1, column: indent + 1, valueOffset: lineStart + parsed.end + 1 });
    open = unclosedMultiline(line, parsed.end + 1);
  }
  return entries;
}

type Multiline = '"""' | "'''";

/** Index just past the closing `delimiter` at or after `from`, or -1; basic strings honour `\` escapes. */
function closingIndex(line: string, from: number, delimiter: string): number {
  const escapes = delimiter.startsWith('"');
  for (let i = from; i < line.length; i++) {
    if (escapes && line[i] === "\\") i++;
    else if (line.startsWith(delimiter, i)) return i + delimiter.length;
  }
  return -1;
}

/** The multi-line string delimiter still open at the end of `line` (its value starts at `from`). */
function unclosedMultiline(line: string, from: number): Multiline | undefined {
  let i = from;
  while (i < line.length) {
    const ch = line[i];
    if (ch === "#") return undefined;
    if (ch === '"' || ch === "'") {
      const triple = line.startsWith(ch.repeat(3), i);
      const delimiter = triple ? ch.repeat(3) : ch;
      const end = closingIndex(line, i + delimiter.length, delimiter);
      if (end < 0) return triple ? (delimiter as Multiline) : undefined;
      i = end;
      continue;
    }
    i++;
  }
  return undefined;
}

function samePath(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i]);
}

/** Offset of element `index` of the array value starting at `from`, if it is a plain array. */
function arrayElementOffset(text: string, from: number, index: number): number | undefined {
  let i = from;
  while (text[i] === " " || text[i] === "\t") i++;
  if (text[i] !== "[") return undefined;
  i++;
  let depth = 1;
  let element = 0;
  let expectingValue = true;
  while (i < text.length && depth > 0) {
    const ch = text[i];
    if (ch === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      i++;
      continue;
    }
    if (depth === 1 && expectingValue && ch !== "]") {
      if (element === index) return i;
      expectingValue = false;
    }
    if (ch === '"' || ch === "'") {
      const triple = text.startsWith(ch.repeat(3), i);
      const close = triple ? ch.repeat(3) : ch;
      let j = i + close.length;
      while (j < text.length && !text.startsWith(close, j)) j += ch === '"' && text[j] === "\\" ? 2 : 1;
      i = j + close.length;
      continue;
    }
    if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") depth--;
    else if (ch === "," && depth === 1) {
      element++;
      expectingValue = true;
    }
    i++;
  }
  return undefined;
}

function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: Array.from(text.slice(lineStart, offset)).length + 1 };
}

/**
 * Where `path` is written in `text`: the element of an array, the key of a
 * value, the header of a table; or the nearest enclosing one that is written.
 */
export function locate(text: string, path: readonly PathSegment[]): Position | undefined {
  const entries = scanEntries(text);
  for (let length = path.length; length > 0; length--) {
    const prefix = path.slice(0, length);
    const exact = entries.find((entry) => samePath(entry.path, prefix));
    if (exact !== undefined) return { line: exact.line, column: exact.column };
    const last = prefix[prefix.length - 1];
    if (typeof last === "number") {
      const owner = entries.find((entry) => entry.valueOffset !== undefined && samePath(entry.path, prefix.slice(0, -1)));
      if (owner?.valueOffset !== undefined) {
        const offset = arrayElementOffset(text, owner.valueOffset, last);
        if (offset !== undefined) return positionAt(text, offset);
      }
    }
  }
  return undefined;
}
