/**
 * bun bench/store-hashwasm.ts <objects-dir>: the single-threaded baseline for
 * verify-store. Reads every object and hashes it with hash-wasm's BLAKE3 on
 * one thread, comparing each digest with the file name.
 * Prints {"objects", "bytes", "bad"}.
 */
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { createBLAKE3 } from "hash-wasm";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: store-hashwasm.ts <objects-dir>");
const hasher = await createBLAKE3();
const buf = Buffer.allocUnsafe(1 << 20);
let objects = 0;
let bytes = 0;
let bad = 0;
for (const name of readdirSync(dir)) {
  if (name.startsWith(".")) continue;
  hasher.init();
  const fd = openSync(join(dir, name), "r");
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hasher.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  if (hasher.digest("hex") !== name) bad++;
  objects++;
}
console.log(JSON.stringify({ objects, bytes, bad }));
