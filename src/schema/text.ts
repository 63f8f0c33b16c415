/**
 * String primitives that must behave exactly like the Rust reference, where
 * JavaScript's built-ins differ: trimming (`str::trim`) and ordering
 * (`Ord for String`, i.e. UTF-8 byte order).
 */

/**
 * Rust's `char::is_whitespace` (the Unicode White_Space property). JavaScript's
 * `trim()` uses a different set: it also strips U+FEFF and keeps U+0085.
 */
export function isRustWhitespace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** `str::trim()`: strips White_Space from both ends (all such characters are in the BMP). */
export function rustTrim(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isRustWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isRustWhitespace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/**
 * Orders strings by their UTF-8 bytes, as Rust's `Ord for String` does.
 * JavaScript's `<` compares UTF-16 code units, which puts astral characters
 * (surrogate pairs, 0xD800-0xDFFF) before U+E000-U+FFFF; UTF-8 puts them after.
 * Code-point order equals UTF-8 byte order, so only that case needs fixing.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) - codeUnitRank(y);
  }
  return a.length - b.length;
}

// Moves surrogates above U+E000-U+FFFF so code-unit comparison follows code points.
function codeUnitRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

const SURROGATE = /[\ud800-\udfff]/;

/**
 * Sorts strings in place by UTF-8 bytes. Without surrogates, UTF-16 order is
 * code-point order, so the engine's native comparison (much faster than a JS
 * comparator, especially before the JIT warms up) gives the same result.
 */
export function sortUtf8(values: string[]): string[] {
  return values.some((value) => SURROGATE.test(value)) ? values.sort(compareUtf8) : values.sort();
}

/** Sorts by UTF-8 bytes and drops adjacent duplicates (Rust's `sort()` then `dedup()`). */
export function sortedUnique(values: readonly string[]): string[] {
  const sorted = sortUtf8([...values]);
  const out: string[] = [];
  for (const value of sorted) {
    if (out.length === 0 || out[out.length - 1] !== value) out.push(value);
  }
  return out;
}

/** Unicode general category Cc: C0 controls, DEL and C1 controls. */
export function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

/**
 * Invisible formatting characters (the common members of category Cf):
 * zero-width spaces and joiners, bidirectional overrides, the BOM. They make
 * two names that look identical compare different.
 */
export function isInvisibleFormat(code: number): boolean {
  return (
    code === 0xad ||
    code === 0x61c ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x2064) ||
    (code >= 0x2066 && code <= 0x206f) ||
    code === 0xfeff
  );
}

/** A character as a message shows it: `'x'` when printable, `U+XXXX` otherwise. */
export function describeChar(code: number): string {
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  if (isControl(code) || isInvisibleFormat(code) || isRustWhitespace(code) || (code >= 0xd800 && code <= 0xdfff)) {
    return code === 0x20 ? "a space" : hex;
  }
  return `'${String.fromCodePoint(code)}'`;
}

/** True when the string holds an unpaired surrogate, which no UTF-8 file (and no Rust String) can. */
export function hasLoneSurrogate(value: string): boolean {
  return !value.isWellFormed();
}

const QUOTE_LIMIT = 60;

/**
 * A value quoted for an error message: JSON escapes keep it on one line,
 * invisible and unusual space characters are spelled \uXXXX so the user can
 * see them, long values are cut.
 */
export function quote(value: string): string {
  const cut = value.length > QUOTE_LIMIT ? `${value.slice(0, QUOTE_LIMIT)}…` : value;
  return JSON.stringify(cut).replace(/[\u0080-\u00a0\u00ad\u061c\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]/g, (ch) =>
    `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
