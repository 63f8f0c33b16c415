/** bun open-store.ts <root> <n>: opens (creating if needed) the store and writes one metadata row; prints "ok <n>". */
import { blake3Hex } from "../../../wasm/index.ts";
import { openStore } from "../../../src/store/index.ts";

const [root, n] = process.argv.slice(2);
if (root === undefined || n === undefined) throw new Error("usage: open-store.ts <root> <n>");
const store = openStore(root, { create: true });
const id = blake3Hex(`concurrent ${n}`);
store.metadata.put({
  env_id: id,
  short_id: id.slice(0, 12),
  name: `env-${n}`,
  state: "Built",
  manifest_hash: "",
  base_layer: "",
  dependency_layers: [],
  policy_layer: null,
  created_at: "2025-01-01T00:00:00Z",
  updated_at: "2025-01-01T00:00:00Z",
  ref_count: 1,
});
store.close();
process.stdout.write(`ok ${n}\n`);
