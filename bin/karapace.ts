#!/usr/bin/env bun
import { mark } from "../src/timings.ts";

mark("main");
const argv = process.argv.slice(2);

// A reader that closed the pipe (`karapace ... | head`) is not an error.
const isBrokenPipe = (error: unknown) => error instanceof Error && "code" in error && error.code === "EPIPE";

if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  // Scripts probe `--version`; answer before loading the CLI framework and
  // without touching process.stdout, whose set-up alone costs ~8 ms in Bun.
  const { versionLine } = await import("../src/cli/version.ts");
  await Bun.write(Bun.stdout, versionLine()).catch((error: unknown) => {
    if (!isBrokenPipe(error)) throw error;
  });
} else if (argv[0] === "exec") {
  // The plain `exec ENV -- COMMAND...` skips the CLI framework (see plain-exec.ts).
  const { plainExecArgs, runPlainExec } = await import("../src/cli/plain-exec.ts");
  const plain = plainExecArgs(argv);
  process.exitCode = plain !== undefined ? await runPlainExec(plain, argv, process.env) : await runCli();
} else {
  process.exitCode = await runCli();
}

async function runCli(): Promise<number> {
  process.stdout.on("error", (error) => {
    if (isBrokenPipe(error)) process.exit(0);
    throw error;
  });
  const { main } = await import("../src/cli/main.ts");
  return main(argv);
}

// Marks this file as a module, which top-level await requires.
export {};
