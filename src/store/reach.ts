/** Which layers are reachable from environments; shared by gc (what to keep) and verify (what must exist). */
import type { LayerManifest } from "./layers.ts";

/**
 * The layers named by environments, plus every Snapshot layer whose parent is
 * reachable (repeated until nothing changes, so a chain of them stays whole).
 */
export function reachableLayers(named: Iterable<string>, manifests: ReadonlyMap<string, LayerManifest>): Set<string> {
  const live = new Set(named);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [hash, layer] of manifests) {
      if (!live.has(hash) && layer.kind === "Snapshot" && layer.parent !== null && live.has(layer.parent)) {
        live.add(hash);
        grew = true;
      }
    }
  }
  return live;
}
