/**
 * Runs one snapshot operation through the Engine for the crash tests:
 *   snapshot-op.ts <store> commit <env>
 *   snapshot-op.ts <store> restore <env> <snapshot>
 * Prints "ready" once everything is loaded (so a kill lands in the operation,
 * not in module loading), "step <what>" at the Engine's debug points, then
 * "done" when the operation returned.
 */
import { Engine } from "../../../src/engine/index.ts";

const [root, op, env, snapshot] = process.argv.slice(2);
if (root === undefined || env === undefined || (op !== "commit" && op !== "restore")) throw new Error("usage: snapshot-op.ts <store> commit|restore <env> [<snapshot>]");
await Promise.all([
  import("../../../src/engine/snapshots.ts"),
  import("../../../src/snapshots/owner.ts"),
  import("../../../src/snapshots/unpack.ts"),
  import("../../../src/snapshots/tasks/unpack.ts"),
  import("../../../wasm/pack.ts"),
  import("../../../src/runtime/userns.ts"),
]);
const out = (line: string): void => void process.stdout.write(`${line}\n`);
const engine = new Engine({ root, logger: { warn: (m) => process.stderr.write(`${m}\n`), info: () => {}, debug: (m) => out(`step ${m}`) } });
engine.store();
out("ready");
if (op === "commit") await engine.commit(env);
else await engine.restore(env, snapshot ?? "");
out("done");
engine.close();
