/**
 * Just enough roff (man(7) macros) to write reference pages. Text is escaped
 * so nothing a command author writes can be read as a request or escape.
 */

/** Escape text for use inside a line of running text. */
export function escapeText(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === "\\") out += "\\e";
    else if (char === "-") out += "\\-";
    else if (code > 0x7e) out += `\\[u${code.toString(16).toUpperCase().padStart(4, "0")}]`;
    else out += char;
  }
  return out;
}

/** A line that starts with `.` or `'` would be read as a request; `\&` defuses it. */
function guardLine(line: string): string {
  return /^[.']/.test(line) ? `\\&${line}` : line;
}

/** Markdown-ish inline text: `code` and **bold** become bold, the rest is escaped. */
export function inline(text: string): string {
  const parts = text.split(/(`[^`]*`|\*\*[^*]*\*\*)/);
  return parts
    .map((part) => {
      if (/^`[^`]*`$/.test(part)) return `\\fB${escapeText(part.slice(1, -1))}\\fR`;
      if (/^\*\*[^*]*\*\*$/.test(part)) return `\\fB${escapeText(part.slice(2, -2))}\\fR`;
      return escapeText(part);
    })
    .join("");
}

export function bold(text: string): string {
  return `\\fB${escapeText(text)}\\fR`;
}

export function italic(text: string): string {
  return `\\fI${escapeText(text)}\\fR`;
}

/** Builds a page line by line; text lines are guarded against being read as requests. */
export class RoffPage {
  private readonly lines: string[] = [];

  /** Arguments are quoted only when they must be: plain requests such as `.ad` do not take quotes. */
  request(name: string, ...args: string[]): this {
    const quoted = args.map((arg) => (/^[^\s"]+$/.test(arg) ? arg : `"${arg.replace(/"/g, '\\(dq')}"`));
    this.lines.push([`.${name}`, ...quoted].join(" "));
    return this;
  }

  /** Already-escaped roff text. */
  text(line: string): this {
    for (const part of line.split("\n")) this.lines.push(guardLine(part));
    return this;
  }

  section(title: string): this {
    return this.request("SH", title.toUpperCase());
  }

  paragraph(markdownish: string): this {
    this.request("PP");
    if (/^\s*- /.test(markdownish)) {
      for (const item of markdownish.split(/\n(?=\s*- )/)) {
        this.request("IP", "\\(bu", "2");
        this.text(inline(item.replace(/^\s*- /, "").replace(/\s+/g, " ")));
      }
      return this;
    }
    return this.text(inline(markdownish));
  }

  /** A tagged paragraph: `tag` (already escaped) with `body` indented below it. */
  tagged(tag: string, body: string): this {
    this.request("TP");
    this.text(tag);
    return this.text(body === "" ? "\\&" : body);
  }

  /** Text shown verbatim and indented, e.g. a command line. */
  example(code: string): this {
    this.request("RS", "4");
    this.request("nf");
    this.text(escapeText(code));
    this.request("fi");
    return this.request("RE");
  }

  render(): string {
    return `${this.lines.join("\n")}\n`;
  }
}
