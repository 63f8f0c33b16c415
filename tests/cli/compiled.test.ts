import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { compileCommand } from "../../scripts/compile.ts";
import { REPO, runCli } from "./helpers.ts";

const outDir = mkdtempSync(join(tmpdir(), "karapace-compiled-"));
const binary = join(outDir, "karapace");

beforeAll(() => {
  const build = Bun.spawnSync({
    // What `bun run compile` runs.
    cmd: compileCommand(binary),
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

  test("the WASM module and the hash workers are embedded", () => {
    // More than 16 MiB of file data, so digestTree really starts Worker threads.
    const tree = join(outDir, "tree");
    mkdirSync(join(tree, "sub"), { recursive: true });
    const block = new Uint8Array(3 << 20);
    for (let i = 0; i < 8; i++) {
      block.fill(i + 1);
      writeFileSync(join(tree, i % 2 ? "sub" : "", `f${i}`), block);
    }
    const fromSource = runCli(["hash", "--tree", "--json", tree], { cwd: REPO });
    const compiled = runCli(["hash", "--tree", "--json", tree], { executable: binary, cwd: "/" });
    expect(compiled.stderr).toBe("");
    expect(compiled.code).toBe(0);
    expect(JSON.parse(compiled.stdout)).toEqual(JSON.parse(fromSource.stdout));
    const file = runCli(["hash", join(tree, "f0")], { executable: binary, cwd: "/" });
    const b3 = Bun.spawnSync(["b3sum", "--no-names", join(tree, "f0")]);
    if (b3.exitCode !== 0) throw new Error("missing prerequisite: b3sum (apt-get install b3sum)");
    expect(file.stdout.split(" ")[0]).toBe(b3.stdout.toString().trim());
  });
});
