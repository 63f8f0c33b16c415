import type { Engine } from "../engine/index.ts";
import { KarapaceCommand } from "./base-command.ts";
import { openEngine } from "./open-engine.ts";

/** The base of the commands that act on the store through the Engine (loaded on first use). */
export abstract class EngineCommand extends KarapaceCommand {
  /** An Engine on --store that logs through our logger and says when it waits for another writer. */
  protected openEngine(command: string): Promise<Engine> {
    return openEngine(this.storeRoot, command, this.out.log, this.context.stderr);
  }

  /**
   * Runs `fn` with SIGINT and SIGTERM turned into an AbortSignal, so the
   * operation stops at a safe point (and rolls back or reports) instead of
   * the process dying mid-write. A second signal is not caught.
   */
  protected async interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => {
      this.out.log.warn(`${signal}: stopping at the next safe point`);
      controller.abort();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      return await fn(controller.signal);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
}
