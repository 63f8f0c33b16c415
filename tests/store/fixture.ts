/**
 * A store with every case GC must get right, built through the store's own
 * API (objects, layers and metadata are real and verify clean).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { baseLayer, type LayerManifest, snapshotLayer, type Store } from "../../src/store/index.ts";
import { ownerTag, selfId } from "../../src/store/proc.ts";
import { envId, sampleMeta } from "./helpers.ts";

export interface GcFixture {
  live: { envs: string[]; layers: string[]; objects: string[]; envDirs: string[]; temps: string[] };
  dead: { envs: string[]; layers: string[]; objects: string[]; envDirs: string[]; temps: string[] };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export async function buildGcFixture(store: Store): Promise<GcFixture> {
  const f: GcFixture = {
    live: { envs: [], layers: [], objects: [], envDirs: [], temps: [] },
    dead: { envs: [], layers: [], objects: [], envDirs: [], temps: [] },
  };
  const obj = async (s: string, live: boolean): Promise<string> => {
    const { hash } = await store.objects.put(text(s.repeat(100)));
    (live ? f.live : f.dead).objects.push(hash);
    return hash;
  };
  const layer = (l: LayerManifest, live: boolean): string => {
    const name = store.layers.put(l);
    (live ? f.live : f.dead).layers.push(name);
    return name;
  };
  const env = async (label: string, state: "Built" | "Running" | "Archived" | "Frozen", refCount: number, live: boolean, extra: { deps?: string[]; policy?: string; base?: string } = {}): Promise<{ id: string; base: string }> => {
    const id = envId(`gc-${label}`);
    const tar = await obj(`tar of ${label}`, live);
    const base = extra.base ?? layer(baseLayer(tar), live);
    const manifest = await obj(`manifest of ${label}`, live);
    store.metadata.put(
      sampleMeta({ env_id: id, state, ref_count: refCount, base_layer: base, manifest_hash: manifest, dependency_layers: extra.deps ?? [], policy_layer: extra.policy ?? null }),
    );
    const dir = store.layout.envPath(id);
    mkdirSync(join(dir, "upper"), { recursive: true });
    writeFileSync(join(dir, "upper", "file"), `data of ${label}`.repeat(50));
    (live ? f.live : f.dead).envs.push(id);
    (live ? f.live : f.dead).envDirs.push(id);
    return { id, base };
  };

  // An object shared by a live layer (the dependency layer) and a dead one stays.
  const shared = await obj("shared tar", true);
  const depTar = await obj("dep tar", true);
  const depLayer = layer({ ...baseLayer(depTar), kind: "Dependency", object_refs: [depTar, shared] }, true);
  const policyLayer = layer({ ...baseLayer(await obj("policy tar", true)), kind: "Policy" }, true);
  const built = await env("built", "Built", 1, true, { deps: [depLayer], policy: policyLayer });
  await env("running-unreferenced", "Running", 0, true);
  await env("archived-unreferenced", "Archived", 0, true);
  const dead = await env("built-unreferenced", "Built", 0, false);
  await env("frozen-unreferenced", "Frozen", 0, false);

  // A snapshot of a live base is kept (with its tar); one of a dead base goes.
  layer(snapshotLayer(built.id, built.base, await obj("snapshot tar of built", true)), true);
  layer(snapshotLayer(dead.id, dead.base, await obj("snapshot tar of dead", false)), false);

  layer({ ...baseLayer(await obj("other tar", false)), object_refs: [shared, f.dead.objects[f.dead.objects.length - 1] as string] }, false);

  // Unreferenced layer and object.
  layer(baseLayer(await obj("tar of an unreferenced layer", false)), false);
  await obj("orphan object", false);

  // An env dir with no metadata row.
  const orphanDir = envId("gc-orphan-dir");
  mkdirSync(join(store.layout.envPath(orphanDir), "upper"), { recursive: true });
  writeFileSync(join(store.layout.envPath(orphanDir), "upper", "junk"), "junk");
  f.dead.envDirs.push(orphanDir);

  // Temp files: a dead writer's, a live writer's (ours), and reference-style debris.
  const deadTemp = join(store.objects.dir, ".tmp-put-p999999999.5-dead");
  const liveTemp = join(store.objects.dir, `.tmp-put-${ownerTag(selfId())}-live`);
  const refTemp = join(store.layers.dir, ".tmpAbC123");
  const staleStaging = join(store.layout.stagingDir, `restore-${built.id}`);
  for (const p of [deadTemp, liveTemp, refTemp]) writeFileSync(p, "partial");
  mkdirSync(join(staleStaging, "etc"), { recursive: true });
  writeFileSync(join(staleStaging, "etc", "x"), "partial restore");
  f.dead.temps.push(deadTemp, refTemp, staleStaging);
  f.live.temps.push(liveTemp);
  return f;
}
