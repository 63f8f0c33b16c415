/**
 * bun wal-inflight.ts <root> <env_id> <other_env_id>
 * Starts a Build of <env_id> the way an Engine would -- WAL entry and steps
 * first, then each side effect -- prints "ready", and waits to be killed
 * before it can commit. <other_env_id> (existing, Built) is set Running with
 * a ResetState step, as `enter` does.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../../src/store/index.ts";

const [root, env, other] = process.argv.slice(2);
if (root === undefined || env === undefined || other === undefined) throw new Error("usage: wal-inflight.ts <root> <env_id> <other_env_id>");
const store = openStore(root);
const lock = store.lock.tryAcquire("wal-inflight test");
if (lock === undefined) throw new Error("lock busy");
const envDir = store.layout.envPath(env);
const staged = join(store.layout.stagingDir, "pack-p1.1-x.tar");
const otherDir = store.layout.envPath(other);
const aside = join(store.layout.stagingDir, "aside-p1.1-x");

const op = store.wal.begin("Build", env, [{ RemoveDir: envDir }]);
mkdirSync(join(envDir, "upper", "etc"), { recursive: true });
writeFileSync(join(envDir, "upper", "etc", "hello"), "half built");
store.wal.addStep(op, { RemoveFile: staged });
writeFileSync(staged, "half a tar");
store.wal.addStep(op, { RemoveMetadata: { env_id: env } });
store.metadata.put({
  env_id: env,
  short_id: env.slice(0, 12),
  name: "half-built",
  state: "Built",
  manifest_hash: "",
  base_layer: "",
  dependency_layers: [],
  policy_layer: null,
  created_at: "2025-01-01T00:00:00Z",
  updated_at: "2025-01-01T00:00:00Z",
  ref_count: 1,
});
// Move the other env's dir aside, as a rebuild would before replacing it.
store.wal.addStep(op, { RestoreRename: { from: aside, to: otherDir } });
renameSync(otherDir, aside);
mkdirSync(otherDir);
writeFileSync(join(otherDir, "replacement"), "new");

const enter = store.wal.begin("Enter", other, [{ ResetState: { env_id: other, target_state: "Built" } }]);
store.metadata.setState(other, "Running");
process.stdout.write(`ready ${op} ${enter}\n`);
await new Promise(() => {});
