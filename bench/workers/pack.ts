/** bun bench/workers/pack.ts <dir> <out.tar>: packs the tree, prints a summary of packTree's result as JSON. */
import { packTree } from "../../wasm/index.ts";

const [dir, out] = process.argv.slice(2);
if (dir === undefined || out === undefined) throw new Error("usage: pack.ts <dir> <out.tar>");
const { tarHash, bytes, entries, skipped } = await packTree(dir, out);
console.log(JSON.stringify({ tarHash, bytes, entries, skipped: skipped.length }));
