/**
 * TOML value encoding as the reference writes it: `toml::to_string_pretty`
 * from toml 0.8.23, whose strings come from toml_write 0.1.2's
 * `TomlStringBuilder::as_default` and whose arrays of two or more elements go
 * one per line with a trailing comma. Matching it byte for byte keeps our
 * karapace.lock identical to the reference's for the same lock.
 */

interface Metrics {
  maxSingleQuotes: number;
  maxDoubleQuotes: number;
  /** Control characters other than tab and newline (need \-escapes). */
  escapeCodes: boolean;
  /** A backslash. */
  escape: boolean;
  newline: boolean;
}

function metrics(value: string): Metrics {
  const m: Metrics = { maxSingleQuotes: 0, maxDoubleQuotes: 0, escapeCodes: false, escape: false, newline: false };
  let singles = 0;
  let doubles = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    singles = c === 0x27 ? singles + 1 : 0;
    doubles = c === 0x22 ? doubles + 1 : 0;
    m.maxSingleQuotes = Math.max(m.maxSingleQuotes, singles);
    m.maxDoubleQuotes = Math.max(m.maxDoubleQuotes, doubles);
    if (c === 0x5c) m.escape = true;
    else if (c === 0x0a) m.newline = true;
    else if (c !== 0x09 && (c <= 0x1f || c === 0x7f)) m.escapeCodes = true;
  }
  return m;
}

/** toml_write's escaping loop for basic strings (`"`) and multi-line basic strings (`"""`). */
function escapeBasic(value: string, multiline: boolean): string {
  const maxQuotes = multiline ? 2 : 0;
  let out = "";
  let quotes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) {
      quotes++;
      if (quotes > maxQuotes) {
        out += '\\"';
        // The escaped quote ends the run; toml_write restarts counting after it.
        quotes = 0;
        continue;
      }
      out += '"';
      continue;
    }
    quotes = 0;
    switch (c) {
      case 0x08:
        out += "\\b";
        continue;
      case 0x09:
        out += "\\t";
        continue;
      case 0x0a:
        out += multiline ? "\n" : "\\n";
        continue;
      case 0x0c:
        out += "\\f";
        continue;
      case 0x0d:
        out += "\\r";
        continue;
      case 0x5c:
        out += "\\\\";
        continue;
    }
    if (c <= 0x1f || c === 0x7f) out += `\\u${c.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += value[i];
  }
  return out;
}

/** A TOML string literal, choosing the representation the reference's writer chooses. */
export function tomlString(value: string): string {
  const m = metrics(value);
  if (!m.escapeCodes && !m.escape && m.maxDoubleQuotes === 0 && !m.newline) return `"${value}"`;
  if (!m.escapeCodes && m.maxSingleQuotes === 0 && !m.newline) return `'${value}'`;
  if (!m.escapeCodes && !m.escape && m.maxDoubleQuotes <= 2) return `"""${m.newline ? "\n" : ""}${value}"""`;
  if (!m.escapeCodes && m.maxSingleQuotes <= 2) return `'''${m.newline ? "\n" : ""}${value}'''`;
  return m.newline ? `"""\n${escapeBasic(value, true)}"""` : `"${escapeBasic(value, false)}"`;
}

/** An inline array of strings: `[]`, `["a"]`, or one element per line for two or more. */
export function tomlStringArray(values: readonly string[]): string {
  if (values.length <= 1) return `[${values.map(tomlString).join(", ")}]`;
  return `[${values.map((value) => `\n    ${tomlString(value)}`).join(",")},\n]`;
}
