/** The normalized manifest an environment was built from, as stored (an object, verified on read). */
import type { NormalizedManifest } from "../schema/types.ts";
import type { EnvMetadata } from "../store/metadata.ts";
import type { Store } from "../store/store.ts";

export function readManifest(store: Store, meta: EnvMetadata): NormalizedManifest {
  const bytes = store.objects.get(meta.manifest_hash);
  return JSON.parse(new TextDecoder().decode(bytes)) as NormalizedManifest;
}
