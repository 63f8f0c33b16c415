/**
 * bun enospc.ts <root>: run inside a private mount namespace with a small
 * tmpfs at <root>. Fills the disk through the store and around it, and
 * reports (as JSON) what each write did and what was left behind.
 */
import { closeSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StoreError } from "../../../src/errors.ts";
import { baseLayer, openStore, verifyStore } from "../../../src/store/index.ts";

const root = process.argv[2];
if (root === undefined) throw new Error("usage: enospc.ts <root>");
const store = openStore(join(root, "k"), { create: true });
const outcome = (fn: () => unknown): string => {
  try {
    fn();
    return "ok";
  } catch (error) {
    return error instanceof StoreError ? `StoreError: ${error.message}` : `OTHER ${(error as Error).name}: ${(error as Error).message}`;
  }
};
function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues fills at most 64 KiB per call.
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

const kept = store.objects.putBytes(random(1000)).hash;
const meta = store.metadata.put({
  env_id: "e".repeat(64), short_id: "eeeeeeeeeeee", name: null, state: "Built", manifest_hash: kept, base_layer: store.layers.put(baseLayer(kept)),
  dependency_layers: [], policy_layer: null, created_at: "2025-01-01T00:00:00Z", updated_at: "2025-01-01T00:00:00Z", ref_count: 1,
});

const results: Record<string, string> = {};
// An object bigger than the whole filesystem, as bytes and as a stream.
results.bigBytes = outcome(() => store.objects.putBytes(random(12 << 20)));
results.bigStream = await store.objects.put([random(4 << 20), random(4 << 20), random(4 << 20)]).then(() => "ok", (e: Error) => (e instanceof StoreError ? `StoreError: ${e.message}` : `OTHER ${e.message}`));

// Now fill the disk from outside the store, then write through every part of it.
const filler = openSync(join(root, "filler"), "w");
try {
  const block = random(65536);
  for (;;) writeSync(filler, block);
} catch {
  // ENOSPC: full
} finally {
  closeSync(filler);
}
results.smallObject = outcome(() => store.objects.putBytes(random(200_000)));
results.layer = outcome(() => store.layers.put(baseLayer("f".repeat(64))));
let metadataResult = "ok";
for (let i = 0; i < 200 && metadataResult === "ok"; i++) {
  metadataResult = outcome(() => store.metadata.rename(meta.env_id, `name-${i}-${"x".repeat(50)}`));
}
results.metadata = metadataResult;
rmSync(join(root, "filler"));

const temps = [store.objects.dir, store.layers.dir, store.layout.storeDir].flatMap((d) => readdirSync(d).filter((n) => n.startsWith(".tmp")));
const verify = await verifyStore(store);
process.stdout.write(
  `${JSON.stringify({ results, temps, staging: readdirSync(store.layout.stagingDir), objects: store.objects.list(), ok: verify.ok, failed: verify.failed, missing: verify.missing, env: store.metadata.get(meta.env_id).env_id })}\n`,
);
store.close();
