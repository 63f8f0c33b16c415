/**
 * Hashes `total` bytes held in memory with one streaming hasher, `runs` times.
 *   bun bench/workers/blake3-memory.ts <ours|hash-wasm> <totalBytes> <chunkBytes> <runs>
 * Prints {"ms": [per-run milliseconds], "digest": hex}; input generation is not timed.
 */
import { createBLAKE3 } from "hash-wasm";
import { Blake3Hasher } from "../../wasm/index.ts";
import { chunksOf, pseudoRandom } from "../lib.ts";

const [impl, totalArg, chunkArg, runsArg] = process.argv.slice(2);
const total = Number(totalArg);
const block = pseudoRandom(Number(chunkArg));
const runs = Number(runsArg);

async function hashOnce(): Promise<string> {
  if (impl === "ours") {
    const hasher = Blake3Hasher.create();
    try {
      for (const chunk of chunksOf(block, total)) hasher.update(chunk);
      return hasher.digestHex();
    } finally {
      hasher.dispose();
    }
  }
  if (impl === "hash-wasm") {
    const hasher = await createBLAKE3();
    hasher.init();
    for (const chunk of chunksOf(block, total)) hasher.update(chunk);
    return hasher.digest("hex");
  }
  throw new Error(`unknown implementation '${impl}' (ours | hash-wasm)`);
}

const ms: number[] = [];
let digest = "";
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  digest = await hashOnce();
  ms.push(performance.now() - start);
}
console.log(JSON.stringify({ ms, digest }));
