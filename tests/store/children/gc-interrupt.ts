/**
 * bun gc-interrupt.ts <root> <stop_after>: runs GC holding the lock; after
 * <stop_after> deletions it sends itself SIGINT, whose handler aborts the GC
 * the way the CLI's handler will. Prints the report as JSON.
 */
import { collectGarbage, openStore } from "../../../src/store/index.ts";

const [root, stopAfter] = process.argv.slice(2);
if (root === undefined || stopAfter === undefined) throw new Error("usage: gc-interrupt.ts <root> <stop_after>");
const store = openStore(root);
const abort = new AbortController();
process.on("SIGINT", () => abort.abort());
let sent = false;
const report = await store.withWriteLock(
  (handle) =>
    collectGarbage(store, handle, {
      signal: abort.signal,
      onProgress: (done) => {
        if (!sent && done >= Number(stopAfter)) {
          sent = true;
          process.kill(process.pid, "SIGINT");
        }
      },
    }),
  { command: "gc test" },
);
process.stdout.write(`${JSON.stringify(report)}\n`);
store.close();
