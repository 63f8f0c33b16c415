/** bun bench/workers/digest.ts <dir>: digests the tree, prints digestTree's result as JSON. */
import { digestTree } from "../../wasm/index.ts";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: digest.ts <dir>");
console.log(JSON.stringify(await digestTree(dir)));
