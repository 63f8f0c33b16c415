/** bun bump-ref.ts <root> <env_id> <times>: increments ref_count <times> times, without the store lock. */
import { openStore } from "../../../src/store/index.ts";

const [root, env, times] = process.argv.slice(2);
if (root === undefined || env === undefined || times === undefined) throw new Error("usage: bump-ref.ts <root> <env_id> <times>");
const store = openStore(root, { recover: false });
for (let i = 0; i < Number(times); i++) store.metadata.incrementRef(env);
store.close();
