/**
 * karapace.toml: text -> TOML -> typia validation (closed tables) ->
 * normalization. Every failure is a ManifestError whose message is one line
 * (see diagnostics.ts); nothing here lets an exception of another kind escape
 * for any input.
 */
import { ManifestError } from "../errors.ts";
import { formatIssues, type Issue, typiaIssue } from "./diagnostics.ts";
import { validateManifestDocument } from "./generated/validators.ts";
import { locate } from "./locate.ts";
import { normalizeDocument } from "./normalize.ts";
import { describeSourceProblem, readSourceFile } from "./source.ts";
import { parseToml } from "./toml-read.ts";
import type { ManifestDocument, NormalizedManifest } from "./types.ts";

export const MANIFEST_FILE = "karapace.toml";

/** Keys of each closed table, for "unknown key" messages. */
const MANIFEST_KEYS: ReadonlyMap<string, readonly string[]> = new Map([
  ["", ["manifest_version", "base", "system", "gui", "hardware", "mounts", "runtime"]],
  ["base", ["image"]],
  ["system", ["packages"]],
  ["gui", ["apps"]],
  ["hardware", ["gpu", "audio"]],
  ["runtime", ["backend", "network_isolation", "resource_limits"]],
  ["runtime.resource_limits", ["cpu_shares", "memory_limit_mb"]],
]);

export interface ParsedManifest {
  /** The validated document as written (defaults not applied). */
  document: ManifestDocument;
  normalized: NormalizedManifest;
}

function fail(file: string, text: string, issues: readonly Issue[]): never {
  throw new ManifestError(formatIssues(file, issues, (issue) => locate(text, issue.path)));
}

/** Parses and validates manifest text; `file` is only used in messages. */
export function parseManifest(text: string, file: string = MANIFEST_FILE): ParsedManifest {
  const toml = parseToml(text);
  if (!toml.ok) fail(file, text, [toml.issue]);
  const validation = validateManifestDocument(toml.value);
  if (!validation.success) {
    fail(
      file,
      text,
      validation.errors.map((error) => typiaIssue(error, (table) => MANIFEST_KEYS.get(table))),
    );
  }
  const document = validation.data;
  const normalized = normalizeDocument(document);
  if (!normalized.ok) fail(file, text, normalized.issues);
  return { document, normalized: normalized.manifest };
}

/** Reads, parses and validates a manifest file (at most 1 MiB). */
export function loadManifest(path: string): ParsedManifest {
  const source = readSourceFile(path);
  if (!source.ok) throw new ManifestError(describeSourceProblem(path, "manifest", source.problem));
  return parseManifest(source.text, path);
}
