import { type BaseContext, Cli, type Command, type CommandClass } from "clipanion";
import { commandWords, hasFlag } from "./argv.ts";
import { ExitCode } from "./exit-codes.ts";
import { reportFailure } from "./failure.ts";
import { colorEnabled, makeStyle } from "./output.ts";
import { HIDDEN_COMMANDS, REGISTERED_COMMANDS } from "./registry.ts";
import { toUsageError } from "./usage-errors.ts";
import { BINARY_NAME, VERSION } from "./version.ts";

type MiniCli = Command<BaseContext>["cli"];

const ALL_COMMANDS: readonly CommandClass<BaseContext>[] = [...REGISTERED_COMMANDS, ...HIDDEN_COMMANDS];

/** Commands reached through an option-like path (`--help`, `--version`): always candidates. */
const ROOT_FLAG_COMMANDS = ALL_COMMANDS.filter((command) =>
  (command.paths ?? []).some((path) => path[0]?.startsWith("-") === true),
);

function createCli(commands: readonly CommandClass<BaseContext>[], colored: boolean): Cli<BaseContext> {
  const cli = new Cli<BaseContext>({
    binaryLabel: "Karapace",
    binaryName: BINARY_NAME,
    binaryVersion: VERSION,
    enableColors: colored,
  });
  for (const command of commands) cli.register(command);
  return cli;
}

/**
 * clipanion compiles one state machine over every registered command on each
 * parse, which costs milliseconds per command. Parse with only the commands
 * the words of argv can name; fall back to all of them (for the error
 * message's suggestions) when none match.
 */
function candidateCommands(argv: readonly string[]): CommandClass<BaseContext>[] {
  const words = commandWords(argv);
  const named = ALL_COMMANDS.filter((command) =>
    (command.paths ?? []).some((path) => path.length > 0 && path.every((segment, i) => words[i] === segment)),
  );
  if (named.length === 0 && words.length > 0) return [...ALL_COMMANDS];
  return [...new Set([...named, ...ROOT_FLAG_COMMANDS])];
}

function commandNames(): string[] {
  return REGISTERED_COMMANDS.map((command) => (command.paths[0] ?? []).join(" "));
}

/**
 * Parse and run one command line. We do not use `Cli.run`: it prints errors
 * (with stack traces) to stdout, and we want every error to reach `main`'s
 * catch, which owns the error format and the exit code.
 */
async function dispatch(argv: readonly string[], context: BaseContext, colored: boolean): Promise<number> {
  const cli = createCli(candidateCommands(argv), colored);
  let command: Command<BaseContext>;
  try {
    command = cli.process([...argv], context);
  } catch (error) {
    throw toUsageError(error, argv, commandNames());
  }
  // `<command> --help` yields clipanion's own help command (or sets `help`); we render the help ourselves.
  if (command.help || !ALL_COMMANDS.some((klass) => command instanceof klass)) {
    await printCommandHelp(argv, context, colored, () => cli.usage(command, { colored, detailed: true }));
    return ExitCode.Success;
  }
  command.context = context;
  command.cli = miniCli(cli, context, colored);
  return await command.validateAndExecute();
}

/** What a running command sees as `this.cli`. */
function miniCli(cli: Cli<BaseContext>, context: BaseContext, colored: boolean): MiniCli {
  return {
    binaryLabel: cli.binaryLabel,
    binaryName: cli.binaryName,
    binaryVersion: cli.binaryVersion,
    enableCapture: false,
    enableColors: colored,
    definitions: () => createCli(ALL_COMMANDS, colored).definitions(),
    error: (error, options) => cli.error(error, { colored, ...options }),
    format: (forceColors) => cli.format(forceColors ?? colored),
    process: (input, subContext) => cli.process(input, { ...context, ...subContext }),
    run: (input, subContext) => dispatch(input, { ...context, ...subContext }, colored),
    usage: (command, options) => cli.usage(command, { colored, ...options }),
  };
}

async function printRootHelp(stream: BaseContext["stderr"], env: BaseContext["env"]): Promise<void> {
  const [{ describeCli }, { renderRootHelp }] = await Promise.all([import("./spec.ts"), import("./help-text.ts")]);
  stream.write(renderRootHelp(describeCli(REGISTERED_COMMANDS), makeStyle(colorEnabled(stream, env))));
}

async function printCommandHelp(
  argv: readonly string[],
  context: BaseContext,
  colored: boolean,
  fallback: () => string,
): Promise<void> {
  const [{ describeCli }, { commandNamedBy, renderCommandHelp }] = await Promise.all([
    import("./spec.ts"),
    import("./help-text.ts"),
  ]);
  const model = describeCli(REGISTERED_COMMANDS);
  const target = commandNamedBy(argv, model);
  if (target === undefined) context.stdout.write(fallback());
  else if (hasFlag(argv, "--json")) context.stdout.write(`${JSON.stringify(target, null, 2)}\n`);
  else context.stdout.write(renderCommandHelp(model, target, makeStyle(colored), colored));
}

/**
 * Runs karapace with `argv` (without the binary name) and returns the exit
 * code. Every error ends here: one `error:` line, an optional `hint:` line,
 * a stack trace only with --trace or KARAPACE_LOG=trace.
 */
export async function main(argv: readonly string[], io: Partial<BaseContext> = {}): Promise<number> {
  const context: BaseContext = { ...Cli.defaultContext, ...io };
  const colored = colorEnabled(context.stdout, context.env);
  context.colorDepth = colored ? 8 : 1;
  try {
    if (argv.length === 0) {
      // As clap does for a missing subcommand: the help, on stderr, as a usage error.
      await printRootHelp(context.stderr, context.env);
      return ExitCode.UsageError;
    }
    return await dispatch(argv, context, colored);
  } catch (error) {
    return reportFailure(error, argv, context.stderr, context.env);
  }
}
