/**
 * The plain `exec ENV -- COMMAND...` path (src/cli/plain-exec.ts) skips
 * clipanion. These tests hold it to clipanion's parse and to the behaviour of
 * the same command taken through the framework (forced with --store).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type BaseContext, Cli } from "clipanion";
import { ExecCommand } from "../../src/cli/commands/exec.ts";
import { plainExecArgs } from "../../src/cli/plain-exec.ts";
import { cleanupTemp, k, project, tempDir } from "../engine/helpers.ts";
import { runCli } from "./helpers.ts";

afterAll(cleanupTemp);

const TAKEN: string[][] = [
  ["exec", "web", "--", "true"],
  ["exec", "web", "--", "sh", "-c", "exit 7"],
  ["exec", "web", "--", "--help"],
  ["exec", "web", "--", "-v", "--json"],
  ["exec", "web", "--", "--"],
  ["exec", "0123abcd", "--", "--store", "/elsewhere"],
  ["exec", "a_b-c", "--", ""],
];

const LEFT_TO_CLIPANION: string[][] = [
  ["exec", "web", "true"],
  ["exec", "web", "--"],
  ["exec", "--", "web", "true"],
  ["exec", "-v", "web", "--", "true"],
  ["exec", "--json", "web", "--", "true"],
  ["exec", "", "--", "true"],
  ["exec", "--help"],
  ["enter", "web", "--", "true"],
];

function clipanionParse(argv: readonly string[]): ExecCommand {
  const cli = new Cli<BaseContext>({ binaryName: "karapace" });
  cli.register(ExecCommand);
  const command = cli.process([...argv]);
  if (!(command instanceof ExecCommand)) throw new Error(`clipanion did not parse ${argv.join(" ")} as exec`);
  return command;
}

describe("the plain exec path", () => {
  for (const argv of TAKEN) {
    test(`takes ${JSON.stringify(argv)} exactly as clipanion parses it, every option at its default`, () => {
      const plain = plainExecArgs(argv);
      const parsed = clipanionParse(argv);
      expect(plain).toEqual({ env: parsed.env, command: parsed.command });
      expect({ help: parsed.help, store: parsed.store, json: parsed.json, verbose: parsed.verbose, trace: parsed.trace }).toEqual({
        help: false,
        store: undefined,
        json: false,
        verbose: false,
        trace: false,
      });
    });
  }

  test("leaves every other shape to clipanion", () => {
    for (const argv of LEFT_TO_CLIPANION) expect({ argv, plain: plainExecArgs(argv) }).toEqual({ argv, plain: undefined });
  });

  test("runs the command, and fails the way the framework path does", () => {
    const data = tempDir("xdg");
    const store = join(data, "karapace");
    const env = { XDG_DATA_HOME: data };
    const built = k(store, ["build", "--name", "web"], { cwd: project({ backend: "mock" }), env });
    expect({ code: built.code, stderr: built.stderr }).toEqual({ code: 0, stderr: "" });

    const ran = runCli(["exec", "web", "--", "echo", "hi"], { env });
    expect(ran).toEqual({ code: 0, stdout: "mock-exec: echo hi\n", stderr: "" });

    const plainMissing = runCli(["exec", "nosuch", "--", "true"], { env });
    const framedMissing = runCli(["exec", "--store", store, "nosuch", "--", "true"], { env });
    expect(plainMissing.code).not.toBe(0);
    expect(plainMissing.stderr).toStartWith("error: ");
    expect(plainMissing).toEqual(framedMissing);

    const timed = runCli(["exec", "web", "--", "true"], { env: { ...env, KARAPACE_TIMINGS: "1" } });
    expect(timed.code).toBe(0);
    expect(timed.stderr).toMatch(/^karapace timings \(ms since start\): main [\d.]+, plain-exec [\d.]+, .*store-open [\d.]+, env-found [\d.]+, run-begun [\d.]+, (?:sandbox-started [\d.]+, )?sandbox-ended [\d.]+, run-ended [\d.]+, exit [\d.]+\n$/);

    const traced = runCli(["exec", "nosuch", "--", "true"], { env: { ...env, KARAPACE_LOG: "trace" } });
    expect(traced.code).toBe(plainMissing.code);
    expect(traced.stderr).toContain("    at ");
  });
});
