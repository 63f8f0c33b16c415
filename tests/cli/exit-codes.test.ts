import { describe, expect, test } from "bun:test";
import { Cli, Command, Option, UsageError } from "clipanion";
import {
  CliUsageError,
  GeneralError,
  ImageError,
  KarapaceError,
  LockError,
  ManifestError,
  RemoteError,
  RuntimeError,
  StoreError,
} from "../../src/errors.ts";
import { formatError } from "../../src/cli/error-report.ts";
import { ExitCode, exitCodeFor } from "../../src/cli/exit-codes.ts";
import { makeStyle } from "../../src/cli/output.ts";
import { closestCommand, toUsageError } from "../../src/cli/usage-errors.ts";

describe("exitCodeFor", () => {
  const cases: [string, unknown, number][] = [
    ["ManifestError", new ManifestError("bad manifest"), 2],
    ["LockError", new LockError("lock drift"), 2],
    ["CliUsageError", new CliUsageError("unknown command"), 2],
    ["StoreError", new StoreError("store is locked"), 3],
    ["ImageError", new ImageError("download failed"), 1],
    ["RuntimeError", new RuntimeError("no user namespaces"), 1],
    ["RemoteError", new RemoteError("push refused"), 1],
    ["GeneralError", new GeneralError("something failed"), 1],
    ["a plain Error", new Error("boom"), 1],
    ["a thrown string", "boom", 1],
  ];
  for (const [label, error, code] of cases) {
    test(`${label} -> ${code}`, () => expect<number>(exitCodeFor(error)).toBe(code));
  }

  test("the contract numbers are the reference's", () => {
    expect(ExitCode).toEqual({ Success: 0, Failure: 1, ManifestError: 2, UsageError: 2, StoreError: 3 });
  });

  test("errors carry their layer, name, hint and cause", () => {
    const cause = new Error("EACCES");
    const error = new StoreError("cannot open the store", { hint: "check the permissions of ~/.local/share/karapace", cause });
    expect(error).toBeInstanceOf(KarapaceError);
    expect(error.kind).toBe("store");
    expect(error.name).toBe("StoreError");
    expect(error.hint).toContain("permissions");
    expect(error.cause).toBe(cause);
  });
});

describe("formatError", () => {
  const plain = makeStyle(false);

  test("one error line, then the hint", () => {
    const text = formatError(new LockError("karapace.lock is out of date", { hint: "run 'karapace build'" }), { trace: false, style: plain });
    expect(text).toBe("error: karapace.lock is out of date\nhint: run 'karapace build'\n");
  });

  test("multi-line messages are folded onto one line", () => {
    const text = formatError(new GeneralError("first\n  second"), { trace: false, style: plain });
    expect(text).toBe("error: first; second\n");
  });

  test("unexpected errors suggest --trace instead of dumping the stack", () => {
    const text = formatError(new TypeError("x is undefined"), { trace: false, style: plain });
    expect(text).toBe("error: x is undefined\nhint: run again with --trace to see where it failed\n");
  });

  test("with trace, the stack and the causes follow", () => {
    const text = formatError(new StoreError("outer", { cause: new Error("inner") }), { trace: true, style: plain });
    expect(text).toContain("StoreError: outer\n    at ");
    expect(text).toContain("caused by: Error: inner");
  });
});

describe("toUsageError", () => {
  class Build extends Command {
    static override paths = [["build"]];
    static override usage = Command.Usage({ description: "build" });
    manifest = Option.String({ required: false });
    name = Option.String("--name", { description: "a name" });
    async execute() {}
  }
  const cli = Cli.from([Build], { binaryName: "karapace" });
  const convert = (argv: string[]) => {
    try {
      cli.process(argv);
    } catch (error) {
      return toUsageError(error, argv, ["build"]);
    }
    throw new Error("expected a parse error");
  };

  test("unknown command", () => {
    const error = convert(["biuld"]);
    expect(error).toBeInstanceOf(CliUsageError);
    expect((error as CliUsageError).message).toBe("unknown command 'biuld'");
    expect((error as CliUsageError).hint).toContain("did you mean 'karapace build'?");
  });

  test("unknown option", () => {
    const error = convert(["build", "--nope"]) as CliUsageError;
    expect(error.message).toBe("unknown option '--nope' for 'karapace build'");
    expect(error.hint).toBe("usage: karapace build [manifest] (see 'karapace build --help')");
  });

  test("clipanion's UsageError keeps its first line", () => {
    const error = toUsageError(new UsageError("Invalid value\nmore"), ["build"], ["build"]) as CliUsageError;
    expect(error).toBeInstanceOf(CliUsageError);
    expect(error.message).toBe("Invalid value");
  });

  test("other errors pass through untouched", () => {
    const error = new StoreError("x");
    expect(toUsageError(error, [], [])).toBe(error);
  });

  test("closestCommand", () => {
    expect(closestCommand("comp", ["completions", "commit"])).toBe("completions");
    expect(closestCommand("comit", ["completions", "commit"])).toBe("commit");
    expect(closestCommand("zzz", ["completions", "commit"])).toBeUndefined();
  });
});
