/** bun bench/workers/hash-file.ts <path>: prints the file's BLAKE3 in hex, like `b3sum --no-names`. */
import { hashFile } from "../../wasm/index.ts";

const path = process.argv[2];
if (path === undefined) throw new Error("usage: hash-file.ts <path>");
console.log(await hashFile(path));
