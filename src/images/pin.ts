/**
 * `karapace pin`: the exact archive URL of an image name's newest build, and
 * the manifest edit that writes it into base.image. The edit replaces only
 * the value's characters in the TOML text, so comments, order and formatting
 * stay as the user wrote them.
 */
import { ImageError, ManifestError } from "../errors.ts";
import { locateNewestBuild } from "./builds.ts";
import { type Env, imageSettings } from "./config.ts";
import { type NetworkOptions, resolveNetwork } from "./http.ts";
import { isHttpUrl, resolveImageName } from "./names.ts";

/** Pinned means an explicit http(s) URL, as the reference decides. */
export function isPinned(image: string): boolean {
  return isHttpUrl(image);
}

export interface PinOptions {
  env?: Env;
  network?: NetworkOptions;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** The URL of the exact build `image` means today (an http(s) URL is returned as it is). */
export async function pinnedImageUrl(image: string, options: PinOptions = {}): Promise<string> {
  const ref = resolveImageName(image);
  if (ref.kind === "url") return ref.url;
  if (ref.kind !== "server") {
    throw new ImageError(`a local image (${image.trim()}) has no URL to pin`, {
      hint: "pin names a published build; a local archive or directory is already a fixed path (publish it over http(s) to pin it)",
    });
  }
  const env = options.env ?? process.env;
  const server = imageSettings(env).server;
  const where = await locateNewestBuild(ref, { server, net: resolveNetwork(options.network, env), signal: options.signal, log: options.log });
  return where.url;
}

interface Span {
  start: number;
  end: number;
}

/** Skips a basic or literal string starting at `i`; returns the index after it. */
function skipString(text: string, i: number): number {
  const q = text[i];
  const triple = text.startsWith(q === '"' ? '"""' : "'''", i);
  if (triple) {
    const close = text.indexOf(q === '"' ? '"""' : "'''", i + 3);
    return close < 0 ? text.length : close + 3;
  }
  let j = i + 1;
  while (j < text.length && text[j] !== q && text[j] !== "\n") j += q === '"' && text[j] === "\\" ? 2 : 1;
  return j + 1;
}

/** The key path of a `[table]` header or of a `key =` at position `i` (bare, quoted or dotted keys). */
function readKeys(text: string, i: number): { keys: string[]; end: number } | undefined {
  const keys: string[] = [];
  for (;;) {
    while (text[i] === " " || text[i] === "\t") i++;
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      const end = skipString(text, i);
      const raw = text.slice(i, end);
      try {
        keys.push(ch === '"' ? (JSON.parse(raw) as string) : raw.slice(1, -1));
      } catch {
        return undefined;
      }
      i = end;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256));
      if (m === null) return undefined;
      keys.push(m[0]);
      i += m[0].length;
    }
    while (text[i] === " " || text[i] === "\t") i++;
    if (text[i] !== ".") return { keys, end: i };
    i++;
  }
}

/**
 * Where the string value of base.image is written: `[base]` + `image = "…"`,
 * or `base.image = "…"` at the top level. Inline tables and multi-line
 * strings are not rewritten (undefined).
 */
export function findImageValue(text: string): Span | undefined {
  let table: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\r" || text[i] === "\n")) i++;
    if (i >= text.length) break;
    const ch = text[i];
    if (ch === "#") {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl + 1;
      continue;
    }
    if (ch === "[") {
      const arrayTable = text[i + 1] === "[";
      const parsed = readKeys(text, i + (arrayTable ? 2 : 1));
      table = parsed === undefined || arrayTable ? ["\0"] : parsed.keys;
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl + 1;
      continue;
    }
    const parsed = readKeys(text, i);
    if (parsed === undefined || text[parsed.end] !== "=") {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl + 1;
      continue;
    }
    let v = parsed.end + 1;
    while (text[v] === " " || text[v] === "\t") v++;
    const path = [...table, ...parsed.keys];
    const valueEnd = text[v] === '"' || text[v] === "'" ? skipString(text, v) : v;
    if (path.length === 2 && path[0] === "base" && path[1] === "image") {
      if ((text[v] !== '"' && text[v] !== "'") || text.startsWith('"""', v) || text.startsWith("'''", v)) return undefined;
      return { start: v, end: valueEnd };
    }
    // Skip the rest of this value: strings may hold '#', '[' or newlines (multi-line), arrays may span lines.
    i = valueEnd > v ? valueEnd : skipValue(text, v);
  }
  return undefined;
}

/** Past a non-string value (number, bool, array, inline table), minding nested strings and brackets. */
function skipValue(text: string, i: number): number {
  let depth = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      i = skipString(text, i);
      continue;
    }
    if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") depth--;
    else if (ch === "#" && depth <= 0) {
      const nl = text.indexOf("\n", i);
      return nl < 0 ? text.length : nl + 1;
    } else if (ch === "\n" && depth <= 0) return i + 1;
    i++;
  }
  return i;
}

/** `text` with base.image's value replaced by `url` (a TOML basic string); everything else byte for byte. */
export function rewriteBaseImage(text: string, url: string, file: string): string {
  const span = findImageValue(text);
  if (span === undefined) {
    throw new ManifestError(`${file}: cannot find a single-line base.image string to rewrite`, {
      hint: `set it by hand: [base] image = ${JSON.stringify(url)}`,
    });
  }
  return text.slice(0, span.start) + JSON.stringify(url) + text.slice(span.end);
}

export interface PinResult {
  status: "pinned" | "already_pinned";
  manifest: string;
  /** base.image before. */
  previous: string;
  base_image: string;
}

/**
 * Rewrites the manifest at `path` so that base.image is the exact URL of
 * today's newest build; atomic (temp file, fsync, rename). A manifest whose
 * image is already an http(s) URL is left alone.
 */
export async function pinManifest(path: string, options: PinOptions = {}): Promise<PinResult> {
  const { readSourceFile, describeSourceProblem } = await import("../schema/source.ts");
  const { parseManifest } = await import("../schema/manifest.ts");
  const { writeFileAtomic } = await import("../schema/atomic-write.ts");
  const source = readSourceFile(path);
  if (!source.ok) {
    throw new ManifestError(describeSourceProblem(path, "manifest", source.problem), { hint: "give the manifest's path, or write one with 'karapace new'" });
  }
  const before = parseManifest(source.text, path).normalized;
  const previous = before.base_image;
  if (isPinned(previous)) return { status: "already_pinned", manifest: path, previous, base_image: previous };
  const url = await pinnedImageUrl(previous, options);
  const text = rewriteBaseImage(source.text, url, path);
  // The edit must change base.image and nothing else the manifest means.
  const after = parseManifest(text, path).normalized;
  if (after.base_image !== url || JSON.stringify({ ...after, base_image: "" }) !== JSON.stringify({ ...before, base_image: "" })) {
    throw new ManifestError(`${path}: rewriting base.image would change more than the image`, { hint: `set it by hand: [base] image = ${JSON.stringify(url)}` });
  }
  writeFileAtomic(path, text);
  return { status: "pinned", manifest: path, previous, base_image: url };
}
