import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REGISTERED_COMMANDS } from "../../src/cli/registry.ts";
import { escapeText, inline } from "../../src/cli/manpage/roff.ts";
import { requireTool, run, runCli } from "./helpers.ts";

const commandNames = REGISTERED_COMMANDS.map((command) => (command.paths[0] ?? []).join(" "));
const expectedFiles = ["karapace.1", ...commandNames.map((name) => `karapace-${name.replace(/ /g, "-")}.1`)].sort();

let dir = "";
let output = { code: -1, stdout: "", stderr: "" };

beforeAll(() => {
  dir = join(mkdtempSync(join(tmpdir(), "karapace-man-")), "nested", "man1");
  output = runCli(["man-pages", dir]);
});

describe("karapace man-pages", () => {
  test("creates the directory and writes one page per registered command, plus karapace.1", () => {
    expect(output.code).toBe(0);
    expect(output.stdout).toBe(`man pages written to ${dir}\n`);
    expect(readdirSync(dir).sort()).toEqual(expectedFiles);
  });

  test("defaults to ./man, as the reference does", () => {
    const cwd = mkdtempSync(join(tmpdir(), "karapace-man-cwd-"));
    const result = runCli(["man-pages"], { cwd });
    expect(result.code).toBe(0);
    expect(readdirSync(join(cwd, "man")).sort()).toEqual(expectedFiles);
  });

  test("--json reports the directory and the pages", () => {
    const target = mkdtempSync(join(tmpdir(), "karapace-man-json-"));
    const result = runCli(["man-pages", target, "--json"]);
    const doc = JSON.parse(result.stdout) as { directory: string; pages: string[] };
    expect(doc.directory).toBe(target);
    expect(doc.pages.slice().sort()).toEqual(expectedFiles);
  });

  test("pages are reproducible (no dates)", () => {
    const again = join(mkdtempSync(join(tmpdir(), "karapace-man-again-")), "man");
    runCli(["man-pages", again]);
    for (const file of expectedFiles) {
      expect(readFileSync(join(again, file), "utf8")).toBe(readFileSync(join(dir, file), "utf8"));
    }
  });

  test("each page has the man(7) structure", () => {
    for (const file of expectedFiles) {
      const text = readFileSync(join(dir, file), "utf8");
      const title = file.replace(/\.1$/, "").toUpperCase().replace(/-/g, "\\-");
      expect(text.split("\n")[0]).toStartWith(`.TH ${title} 1 `);
      for (const section of ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SEE ALSO"]) {
        expect(text).toContain(`.SH ${section.includes(" ") ? `"${section}"` : section}\n`);
      }
      // Every text line is either a request or text that cannot be read as one.
      for (const line of text.split("\n")) expect(line).not.toMatch(/^'/);
    }
  });

  test("groff reads every page without a warning", () => {
    const groff = requireTool("groff");
    for (const file of expectedFiles) {
      const result = run([groff, "-man", "-Tutf8", "-ww", "-z", join(dir, file)]);
      expect({ file, stderr: result.stderr }).toEqual({ file, stderr: "" });
      expect(result.code).toBe(0);
    }
  });

  test("man renders each page with its name, options and examples", () => {
    const man = requireTool("man");
    for (const name of commandNames) {
      const file = join(dir, `karapace-${name.replace(/ /g, "-")}.1`);
      const result = Bun.spawnSync({ cmd: [man, "-l", file], env: { ...process.env, MANWIDTH: "100", MANPAGER: "cat", PAGER: "cat" }, stdout: "pipe", stderr: "pipe" });
      const text = result.stdout.toString().replace(/.\x08/g, "");
      expect(result.exitCode).toBe(0);
      expect(text).toContain(`karapace-${name.replace(/ /g, "-")} - `);
      expect(text).toContain("--store path");
      expect(text).toContain("EXAMPLES");
    }
  });
});

describe("roff escaping", () => {
  test("backslashes, hyphens and non-ASCII are escaped", () => {
    expect(escapeText("a\\b-c é")).toBe("a\\eb\\-c \\[u00E9]");
  });
  test("backticks become bold", () => {
    expect(inline("run `karapace build` now")).toBe("run \\fBkarapace build\\fR now");
  });
});
