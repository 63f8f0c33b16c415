/**
 * stdout and stderr as TextSinks that create the process's Node-style
 * streams only when something is written, and load node:tty only when asked
 * whether they are terminals. In a cold Bun process the first costs ~4 ms and
 * the second ~3 ms; `exec`, whose command writes to the inherited descriptors
 * itself, usually needs neither.
 */
import type { TextSink } from "./output.ts";

export function processSink(fd: 1 | 2): TextSink {
  let tty: boolean | undefined;
  return {
    write: (text) => (fd === 1 ? process.stdout : process.stderr).write(text),
    get isTTY() {
      tty ??= (require("node:tty") as typeof import("node:tty")).isatty(fd);
      return tty;
    },
  };
}
