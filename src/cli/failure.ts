import { wantsStackTraces } from "./argv.ts";
import { formatError } from "./error-report.ts";
import { exitCodeFor } from "./exit-codes.ts";
import type { Env } from "./global-options.ts";
import { colorEnabled, makeStyle, type TextSink } from "./output.ts";

/** Every failure ends here: one `error:` line (a `hint:` line, a trace on request) and the exit code. */
export function reportFailure(error: unknown, argv: readonly string[], stderr: TextSink, env: Env): number {
  const style = makeStyle(colorEnabled(stderr, env));
  stderr.write(formatError(error, { trace: wantsStackTraces(argv, env), style }));
  return exitCodeFor(error);
}
