/**
 * bun crash-worker.ts <root> <seed>: takes the store lock and does store
 * operations in a loop until it is killed (the crash-injection test SIGKILLs
 * it at a random moment). Each operation prints "op <name>" when it starts.
 * Multi-step operations follow the WAL discipline an Engine must follow:
 * record the rollback step, then make the change; the final metadata write
 * goes into the WAL commit.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { baseLayer, NameError, openStore, type Store } from "../../../src/store/index.ts";
import { removeTree } from "../../../src/store/fsx.ts";

const [root, seedArg] = process.argv.slice(2);
if (root === undefined || seedArg === undefined) throw new Error("usage: crash-worker.ts <root> <seed>");

let state = Number(seedArg) >>> 0 || 1;
function random(): number {
  // mulberry32
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;

function bytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  const words = new Uint32Array(out.buffer, 0, n >> 2);
  for (let i = 0; i < words.length; i++) words[i] = (random() * 4294967296) >>> 0;
  return out;
}

const store: Store = openStore(root, { create: true });
const handle = await store.lock.acquire({ command: `crash-worker ${seedArg}` });
store.recover(handle);
const say = (what: string): void => void process.stdout.write(`op ${what}\n`);

async function build(): Promise<void> {
  const envId = Bun.hash.wyhash(`${seedArg}-${random()}`).toString(16).padStart(16, "0").repeat(4);
  const dir = store.layout.envPath(envId);
  const op = store.wal.begin("Build", envId, [{ RemoveDir: dir }]);
  mkdirSync(join(dir, "upper", "etc"), { recursive: true });
  for (let i = 0; i < 1 + Math.floor(random() * 20); i++) writeFileSync(join(dir, "upper", "etc", `f${i}`), bytes(Math.floor(random() * 20000)));
  const tar = await store.objects.put([bytes(Math.floor(random() * 300000)), bytes(1000)]);
  const manifest = store.objects.putBytes(new TextEncoder().encode(`{"env":"${envId}"}`));
  const layer = store.layers.put(baseLayer(tar.hash));
  writeFileSync(join(dir, "complete"), "yes");
  store.wal.commit(op, () =>
    store.metadata.put({
      env_id: envId,
      short_id: envId.slice(0, 12),
      name: null,
      state: "Built",
      manifest_hash: manifest.hash,
      base_layer: layer,
      dependency_layers: [],
      policy_layer: null,
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
      ref_count: 1,
    }),
  );
}

function destroy(): void {
  const envs = store.metadata.list();
  if (envs.length === 0) return;
  const victim = pick(envs);
  const dir = store.layout.envPath(victim.env_id);
  // Destroy rolls forward: whatever the crash left, recovery finishes the removal.
  const op = store.wal.begin("Destroy", victim.env_id, [{ RemoveMetadata: { env_id: victim.env_id } }, { RemoveDir: dir }]);
  removeTree(dir);
  store.wal.commit(op, () => store.metadata.remove(victim.env_id));
}

const ops: Record<string, () => Promise<void> | void> = {
  "put-bytes": () => void store.objects.putBytes(bytes(Math.floor(random() * 2_000_000))),
  "put-stream": async () => {
    const chunks = Array.from({ length: 1 + Math.floor(random() * 8) }, () => bytes(Math.floor(random() * 600_000)));
    await store.objects.put(chunks);
  },
  "put-file": () => {
    const staged = store.layout.stagingPath("pack");
    writeFileSync(staged, bytes(Math.floor(random() * 1_500_000)));
    store.objects.putFile(staged);
  },
  layer: () => void store.layers.put(baseLayer(Bun.hash.wyhash(String(random())).toString(16).padStart(16, "0").repeat(4))),
  build,
  destroy: () => (store.metadata.count() > 0 ? destroy() : build()),
  rename: () => {
    const envs = store.metadata.list();
    if (envs.length === 0) return;
    try {
      store.metadata.rename(pick(envs).env_id, pick(["alpha", "beta", "gamma", null]));
    } catch (error) {
      if (!(error instanceof NameError)) throw error;
    }
  },
  state: () => {
    const envs = store.metadata.list();
    if (envs.length === 0) return;
    const env = pick(envs);
    const next = pick(["Built", "Frozen", "Archived"] as const);
    if (env.state === next || (env.state === "Archived" && next !== "Built") || (env.state === "Frozen" && next === "Frozen")) return;
    store.metadata.setState(env.env_id, next);
  },
};
const names = Object.keys(ops);

process.stdout.write("ready\n");
for (;;) {
  const name = store.metadata.count() > 8 ? "destroy" : pick(names);
  say(name);
  await (ops[name] as () => Promise<void> | void)();
}
