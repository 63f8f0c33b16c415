import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { BIN, REPO, runCli } from "./helpers.ts";

const outDir = mkdtempSync(join(tmpdir(), "karapace-compiled-"));
const binary = join(outDir, "karapace");

beforeAll(() => {
  const build = Bun.spawnSync({
    cmd: [process.execPath, "build", "--compile", BIN, "--outfile", binary],
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`bun build --compile failed: ${build.stderr.toString()}`);
});

describe("compiled binary, run from another directory", () => {
  test("--version prints the embedded package version", () => {
    const result = runCli(["--version"], { executable: binary, cwd: "/" });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`karapace ${pkg.version}\n`);
  });

  test("--help lists the commands", () => {
    const result = runCli(["--help"], { executable: binary, cwd: "/" });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("completions");
    expect(result.stdout).toContain("man-pages");
  });

  test("lazily imported modules are embedded too", () => {
    const completions = runCli(["completions", "bash"], { executable: binary, cwd: "/" });
    expect(completions.code).toBe(0);
    expect(completions.stdout).toContain("complete -F _karapace karapace");
    const help = runCli(["completions", "--help"], { executable: binary, cwd: "/" });
    expect(help.stdout).toContain("Usage: karapace completions [options] <shell>");
  });

  test("errors keep the contract", () => {
    const result = runCli(["frobnicate"], { executable: binary, cwd: "/" });
    expect(result.code).toBe(2);
    expect(result.stderr).toStartWith("error: unknown command 'frobnicate'\n");
  });
});
