/**
 * Finds the Debian mirror this machine's apt already uses, so debootstrap goes to the
 * same place and no mirror host is ever written into the project.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { missingPrerequisite } from "./prereq.ts";

export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  enabled: boolean;
}

/** Classic one-line format: `deb [opt=val ...] URI SUITE [COMPONENT...]`. */
export function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").replace(/\[[^\]]*\]/, " ").trim();
    const [type, uri, suite, ...components] = line.split(/\s+/);
    if (type === undefined || uri === undefined || suite === undefined) continue;
    if (type !== "deb" && type !== "deb-src") continue;
    sources.push({ types: [type], uris: [uri], suites: [suite], components, enabled: true });
  }
  return sources;
}

/** deb822 format (`*.sources`): stanzas of `Key: value` fields separated by blank lines. */
export function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let key: string | undefined;
    for (const line of stanza.split("\n")) {
      if (line.startsWith("#")) continue;
      const field = /^([A-Za-z][A-Za-z0-9-]*):(.*)$/.exec(line);
      if (field?.[1] !== undefined && field[2] !== undefined) {
        key = field[1].toLowerCase();
        fields.set(key, field[2].trim());
      } else if (key !== undefined && /^\s/.test(line)) {
        fields.set(key, `${fields.get(key) ?? ""}\n${line.trim()}`);
      }
    }
    const list = (name: string): string[] => (fields.get(name) ?? "").split(/\s+/).filter((w) => w !== "");
    if (!fields.has("types") || !fields.has("uris")) continue;
    sources.push({
      types: list("types"),
      uris: list("uris"),
      suites: list("suites"),
      components: list("components"),
      enabled: !/^(no|false|0)$/i.test(fields.get("enabled") ?? "yes"),
    });
  }
  return sources;
}

/** All sources in apt's reading order: sources.list, then sources.list.d/ sorted by name. */
export function readAptSources(etcApt = "/etc/apt"): AptSource[] {
  const sources: AptSource[] = [];
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  };
  const main = read(join(etcApt, "sources.list"));
  if (main !== undefined) sources.push(...parseOneLineSources(main));
  let parts: string[] = [];
  try {
    parts = readdirSync(join(etcApt, "sources.list.d")).sort();
  } catch {
    // no sources.list.d: only sources.list counts
  }
  for (const name of parts) {
    const text = read(join(etcApt, "sources.list.d", name));
    if (text === undefined) continue;
    if (name.endsWith(".list")) sources.push(...parseOneLineSources(text));
    else if (name.endsWith(".sources")) sources.push(...parseDeb822Sources(text));
  }
  return sources;
}

const FETCHABLE = /^(https?|file):/;

/**
 * The first enabled binary (`deb`) URI that serves `suite`; failing that, the first one
 * whose path ends in `/debian` (a Debian archive for another release serves `suite` too).
 */
export function debianMirror(suite = "bookworm", sources: AptSource[] = readAptSources()): string {
  const candidates = sources.filter((s) => s.enabled && s.types.includes("deb"));
  const uris = (pick: (s: AptSource) => boolean): string[] =>
    candidates.filter(pick).flatMap((s) => s.uris.filter((u) => FETCHABLE.test(u)));
  const exact = uris((s) => s.suites.includes(suite))[0];
  const archive = uris(() => true).find((u) => /\/debian\/?$/.test(u));
  const found = exact ?? archive;
  if (found === undefined) {
    throw missingPrerequisite(
      `a Debian mirror for '${suite}' in the apt configuration (a 'deb' entry in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources), needed by debootstrap`,
    );
  }
  return found.replace(/\/$/, "");
}
