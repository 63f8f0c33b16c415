import type { Engine } from "../engine/index.ts";
import type { Logger, TextSink } from "./output.ts";

/**
 * An Engine on the store at `root` that logs through `log` and says on
 * `stderr` when it waits for another writer. The Engine is imported here, on
 * first use, so `karapace --help` and `--version` never load it.
 */
export async function openEngine(root: string, command: string, log: Logger, stderr: TextSink): Promise<Engine> {
  const { Engine, lockWaitMessage } = await import("../engine/index.ts");
  return new Engine({
    root,
    logger: log,
    command: `karapace ${command}`,
    onLockWait: (holder) => stderr.write(`${lockWaitMessage(holder)}\n`),
  });
}
