/**
 * The reference names layer files and checksums metadata by hashing
 * `serde_json::to_string_pretty` output, so we must produce the same bytes.
 * For the values we hash (objects of strings, booleans, null, non-negative
 * integers and arrays of strings, with keys in struct field order)
 * `JSON.stringify(value, null, 2)` is identical to serde_json's
 * PrettyFormatter: two-space indent, `"key": value`, `[]` for an empty array,
 * the same short escapes (\" \\ \b \f \n \r \t), other control characters as
 * lowercase \u00xx, and everything else, '/' and non-ASCII included, verbatim.
 * Callers build the object with keys in the reference's field order.
 */
export type SerdeValue = string | number | boolean | null | readonly string[];

export function serdePretty(fields: Readonly<Record<string, SerdeValue>>): string {
  for (const value of Object.values(fields)) {
    if (typeof value === "number" && !(Number.isSafeInteger(value) && value >= 0)) {
      // serde would print a float or negative number differently from JS only in
      // corner cases, but none of our fields may hold one: refuse rather than guess.
      throw new TypeError(`serdePretty: ${value} is not a non-negative integer`);
    }
  }
  return JSON.stringify(fields, null, 2);
}
