#!/usr/bin/env bun
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
} else {
  process.stdout.on("error", (error) => {
    if (isBrokenPipe(error)) process.exit(0);
    throw error;
  });
  const { main } = await import("../src/cli/main.ts");
  process.exitCode = await main(argv);
}

// Marks this file as a module, which top-level await requires.
export {};
