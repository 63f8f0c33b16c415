/**
 * `karapace exec ENV -- COMMAND...` with no options is what scripts, editors
 * and test loops run over and over, so its start-up counts. That one shape is
 * recognised here and run without loading the CLI framework: importing
 * clipanion creates the three standard streams (~5 ms in a cold Bun process)
 * and building its parser for `exec` costs ~3 ms more. Any other argv,
 * including any option, goes through clipanion; tests/cli/plain-exec.test.ts
 * checks that clipanion parses every shape accepted here the same way.
 */
import { mark } from "../timings.ts";
import { reportFailure } from "./failure.ts";
import { type Env, resolveStorePath } from "./global-options.ts";
import { openEngine } from "./open-engine.ts";
import { makeOutput, type Output, type TextSink } from "./output.ts";
import { processSink } from "./std-sinks.ts";

export interface PlainExec {
  env: string;
  command: string[];
}

/** The arguments of `exec ENV -- COMMAND...` when argv has exactly that shape. */
export function plainExecArgs(argv: readonly string[]): PlainExec | undefined {
  if (argv.length < 4 || argv[0] !== "exec" || argv[2] !== "--") return undefined;
  const env = argv[1] as string;
  if (env === "" || env.startsWith("-")) return undefined;
  return { env, command: argv.slice(3) };
}

/** exec's work, shared by the `exec` command and the plain path. */
export async function runExec(storeRoot: string, out: Output, stderr: TextSink, args: PlainExec): Promise<number> {
  const engine = await openEngine(storeRoot, "exec", out.log, stderr);
  try {
    return await engine.exec(args.env, args.command);
  } finally {
    engine.close();
  }
}

export async function runPlainExec(args: PlainExec, argv: readonly string[], env: Env): Promise<number> {
  mark("plain-exec");
  const stderr = processSink(2);
  try {
    const out = makeOutput({ json: false, verbose: false, trace: false }, { stdout: processSink(1), stderr, env });
    return await runExec(resolveStorePath(undefined, env), out, stderr, args);
  } catch (error) {
    return reportFailure(error, argv, stderr, env);
  }
}
