import { type BaseContext, Command, Option } from "clipanion";
import type { CommandMeta } from "./command-meta.ts";
import { GLOBAL_OPTIONS, resolveStorePath } from "./global-options.ts";
import { makeOutput, type Output } from "./output.ts";

/**
 * Every karapace command extends this class, so every command accepts the
 * global options. Keep this file light: it is loaded on every start.
 */
export abstract class KarapaceCommand extends Command<BaseContext> {
  /** Argument documentation and value hints for help, man pages and completions. */
  static meta: CommandMeta = {};

  store = Option.String(GLOBAL_OPTIONS.store.names.join(","), {
    description: GLOBAL_OPTIONS.store.description,
  });
  json = Option.Boolean(GLOBAL_OPTIONS.json.names.join(","), false, {
    description: GLOBAL_OPTIONS.json.description,
  });
  verbose = Option.Boolean(GLOBAL_OPTIONS.verbose.names.join(","), false, {
    description: GLOBAL_OPTIONS.verbose.description,
  });
  trace = Option.Boolean(GLOBAL_OPTIONS.trace.names.join(","), false, {
    description: GLOBAL_OPTIONS.trace.description,
  });

  private outputCache: Output | undefined;

  /** Where the content store lives for this invocation. */
  protected get storeRoot(): string {
    return resolveStorePath(this.store, this.context.env);
  }

  /** Results on stdout, diagnostics on stderr, honouring --json and the log level. */
  protected get out(): Output {
    this.outputCache ??= makeOutput(
      { json: this.json, verbose: this.verbose, trace: this.trace },
      { stdout: this.context.stdout, stderr: this.context.stderr, env: this.context.env },
    );
    return this.outputCache;
  }
}
