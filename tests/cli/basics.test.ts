import { describe, expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { REGISTERED_COMMANDS } from "../../src/cli/registry.ts";
import { BIN, requireTool, run, runCli } from "./helpers.ts";

const commandNames = REGISTERED_COMMANDS.map((command) => (command.paths[0] ?? []).join(" "));

function expectOneLineError(stderr: string): void {
  const lines = stderr.trimEnd().split("\n");
  expect(lines[0]).toStartWith("error: ");
  // At most the error line and a hint line; never a stack trace.
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines.length === 2) expect(lines[1]).toStartWith("hint: ");
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe("karapace --version", () => {
  for (const flag of ["--version", "-V"]) {
    test(`${flag} prints the package version`, () => {
      const result = runCli([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`karapace ${pkg.version}\n`);
      expect(result.stderr).toBe("");
    });
  }
});

describe("karapace --version through the full parser", () => {
  test("--version --json prints one JSON document", () => {
    const result = runCli(["--version", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ name: "karapace", version: pkg.version });
  });

  test("-V with a global option prints the same line as the fast path", () => {
    expect(runCli(["-V", "--verbose"]).stdout).toBe(runCli(["-V"]).stdout);
  });
});

describe("help", () => {
  test("--help lists every registered command and the global options", () => {
    const result = runCli(["--help"]);
    expect(result.code).toBe(0);
    for (const name of commandNames) expect(result.stdout).toContain(`  ${name} `);
    for (const option of ["--store <path>", "--json", "-v, --verbose", "--trace", "--version"]) {
      expect(result.stdout).toContain(option);
    }
  });

  test("-h and `help` print the same root help", () => {
    const long = runCli(["--help"]).stdout;
    expect(runCli(["-h"]).stdout).toBe(long);
    expect(runCli(["help"]).stdout).toBe(long);
  });

  test("no arguments prints the help on stderr and exits 2, as clap does", () => {
    const result = runCli([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Commands:");
  });

  for (const name of commandNames) {
    test(`${name} --help shows its usage, options and examples`, () => {
      const result = runCli([...name.split(" "), "--help"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: karapace ${name} [options]`);
      expect(result.stdout).toContain("--store <path>");
      expect(result.stdout).toContain("-h, --help");
      expect(result.stdout).toContain("Examples:");
      expect(runCli(["help", ...name.split(" ")]).stdout).toBe(result.stdout);
    });
  }

  test("help --json prints the command model as one JSON document", () => {
    const result = runCli(["help", "--json"]);
    expect(result.code).toBe(0);
    const model = JSON.parse(result.stdout) as { commands: { name: string }[] };
    expect(model.commands.map((command) => command.name)).toEqual(commandNames);
  });
});

describe("usage errors", () => {
  test("an unknown command exits 2 with one error line, a hint and no stack trace", () => {
    const result = runCli(["frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expectOneLineError(result.stderr);
    expect(result.stderr).toContain("error: unknown command 'frobnicate'");
    expect(result.stderr).toContain("hint: run 'karapace --help'");
  });

  test("a near miss suggests the command", () => {
    const result = runCli(["completion", "bash"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("did you mean 'karapace completions'?");
  });

  test("an unknown option names the option and the command", () => {
    const result = runCli(["completions", "--frob", "bash"]);
    expect(result.code).toBe(2);
    expectOneLineError(result.stderr);
    expect(result.stderr).toContain("unknown option '--frob' for 'karapace completions'");
  });

  test("a missing argument shows the usage in the hint", () => {
    const result = runCli(["completions"]);
    expect(result.code).toBe(2);
    expectOneLineError(result.stderr);
    expect(result.stderr).toContain("hint: usage: karapace completions <shell>");
  });

  test("an extra argument is rejected", () => {
    const result = runCli(["completions", "bash", "zsh"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unexpected argument 'zsh'");
  });

  test("an unsupported shell is a usage error with the choices in the hint", () => {
    const result = runCli(["completions", "tcsh"]);
    expect(result.code).toBe(2);
    expectOneLineError(result.stderr);
    expect(result.stderr).toContain("error: unsupported shell 'tcsh'");
    expect(result.stderr).toContain("bash, zsh, fish, elvish, powershell");
  });

  test("--trace adds the stack trace", () => {
    const result = runCli(["--trace", "frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: unknown command 'frobnicate'");
    expect(result.stderr).toMatch(/^\s+at /m);
  });

  test("KARAPACE_LOG=trace adds the stack trace too", () => {
    const result = runCli(["frobnicate"], { env: { KARAPACE_LOG: "trace" } });
    expect(result.stderr).toMatch(/^\s+at /m);
  });
});

describe("global options", () => {
  test("are accepted before and after the command name", () => {
    const before = runCli(["--store", "/tmp/x", "--json", "-v", "--trace", "completions", "bash"]);
    const after = runCli(["completions", "bash", "--store=/tmp/x", "--json", "--verbose"]);
    expect(before.code).toBe(0);
    expect(after.code).toBe(0);
    expect(before.stdout).toBe(after.stdout);
  });

  test("--json writes exactly one JSON document and nothing else on stdout", () => {
    const result = runCli(["completions", "fish", "--json"]);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { shell: string; script: string };
    expect(doc.shell).toBe("fish");
    expect(doc.script).toContain("complete -c karapace");
  });

  test("an invalid KARAPACE_LOG is reported as a warning on stderr, not on stdout", () => {
    const result = runCli(["completions", "bash"], { env: { KARAPACE_LOG: "loud" } });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("warn: ignoring KARAPACE_LOG=loud");
    expect(result.stdout).toStartWith("# bash completion");
  });

  test("output has no colour when stdout is not a terminal, even without NO_COLOR", () => {
    const result = runCli(["--help"], { env: { NO_COLOR: undefined } });
    expect(result.stdout).not.toContain("\x1b[");
  });
});

describe("a closed pipe", () => {
  for (const args of [["--version"], ["completions", "bash"], ["--help"]]) {
    test(`karapace ${args.join(" ")} | (reader exits at once) exits 0 quietly`, () => {
      const bash = requireTool("bash");
      const line = `"$0" "$1" ${args.join(" ")} | true; echo "status=\${PIPESTATUS[0]}"`;
      const result = run([bash, "-c", line, process.execPath, BIN]);
      expect(result.stdout.trim()).toBe("status=0");
      expect(result.stderr).toBe("");
    });
  }
});
