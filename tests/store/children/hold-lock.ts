/**
 * bun hold-lock.ts <root> <command>: takes the store lock, prints "locked <pid>",
 * holds it until SIGTERM (then releases cleanly and exits 0) or SIGKILL.
 */
import { openStore } from "../../../src/store/index.ts";

const [root, command] = process.argv.slice(2);
if (root === undefined || command === undefined) throw new Error("usage: hold-lock.ts <root> <command>");
const store = openStore(root, { recover: false });
const handle = await store.lock.acquire({ command, wait: false });
process.on("SIGTERM", () => {
  handle.release();
  store.close();
  process.exit(0);
});
process.stdout.write(`locked ${process.pid}\n`);
setInterval(() => {}, 1 << 30);
