/** `bun bench/workers/decompress.ts <archive> <default|tool>`: reads the whole decompressed stream (for bench/images.ts). */
import { detectFileCompression, type Engine, openDecompressed } from "../../src/images/decompress.ts";

const [archive, engine] = process.argv.slice(2);
if (archive === undefined) throw new Error("usage: decompress.ts <archive> [default|tool]");
const d = openDecompressed(archive, detectFileCompression(archive), (engine ?? "default") as Engine);
let bytes = 0;
for await (const chunk of d.stream) bytes += chunk.length;
await d.finished;
process.stdout.write(`${bytes}\n`);
