import type { Engine } from "../engine/index.ts";
import { KarapaceCommand } from "./base-command.ts";

/**
 * The base of the commands that act on the store through the Engine. Only
 * types are imported statically: the Engine itself is loaded in execute(),
 * so `karapace --help` and `--version` never pay for it.
 */
export abstract class EngineCommand extends KarapaceCommand {
  /** An Engine on --store that logs through our logger and says when it waits for another writer. */
  protected async openEngine(command: string): Promise<Engine> {
    const { Engine, lockWaitMessage } = await import("../engine/index.ts");
    return new Engine({
      root: this.storeRoot,
      logger: this.out.log,
      command: `karapace ${command}`,
      onLockWait: (holder) => this.context.stderr.write(`${lockWaitMessage(holder)}\n`),
    });
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
