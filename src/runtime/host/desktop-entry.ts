/**
 * The two escaping layers of the Desktop Entry Specification (1.5) for the
 * Exec key, and their inverse (used by tests and by anything that reads our
 * own entries back):
 *   1. each argument that holds a reserved character is put in double
 *      quotes, inside which `"`, `` ` ``, `$` and `\` get a backslash, and a
 *      literal `%` is written `%%` (field codes);
 *   2. the whole value, being of type string, then has `\` written as `\\`
 *      (and newline, tab, carriage return as \n, \t, \r).
 */

const RESERVED = /[\s"'\\><~|&;$*?#`()]/;
const QUOTED_ESCAPES = /["`$\\]/g;

/** Control characters have no place in a launcher; refusing them keeps the entry a single line. */
export function controlCharProblem(text: string): string | undefined {
  const match = /[\x00-\x1f\x7f]/.exec(text);
  return match === null ? undefined : `contains the control character U+${match[0].charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`;
}

/** Layer 2: a value of type string or localestring. */
export function escapeStringValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t").replace(/\r/g, "\\r");
}

export function unescapeStringValue(value: string): string {
  return value.replace(/\\([sntr\\])/g, (_, c: string) => ({ s: " ", n: "\n", t: "\t", r: "\r", "\\": "\\" })[c] ?? c);
}

/** Layer 1 for one argument. */
export function quoteExecArgument(arg: string): string {
  const percent = arg.replace(/%/g, "%%");
  if (percent !== "" && !RESERVED.test(percent)) return percent;
  return `"${percent.replace(QUOTED_ESCAPES, (c) => `\\${c}`)}"`;
}

/** The Exec= value (both layers) for an argv. */
export function execValue(argv: readonly string[]): string {
  for (const arg of argv) {
    const problem = controlCharProblem(arg);
    if (problem !== undefined) throw new Error(`launcher argument ${JSON.stringify(arg)} ${problem}`);
  }
  return escapeStringValue(argv.map(quoteExecArgument).join(" "));
}

/** The inverse of execValue: the argv a spec-conforming launcher runs. */
export function parseExecValue(value: string): string[] {
  const text = unescapeStringValue(value);
  const args: string[] = [];
  let current: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === " " || ch === "\t") {
      if (current !== undefined) args.push(current);
      current = undefined;
    } else if (ch === '"') {
      current ??= "";
      for (i++; i < text.length && text[i] !== '"'; i++) {
        const c = text[i] as string;
        const next = text[i + 1];
        if (c === "\\" && next !== undefined && '"`$\\'.includes(next)) {
          current += next;
          i++;
        } else current += c;
      }
      if (i >= text.length) throw new Error("unterminated quote in Exec value");
    } else {
      current = (current ?? "") + ch;
    }
  }
  if (current !== undefined) args.push(current);
  return args.map((a) => a.replace(/%%/g, "%"));
}
