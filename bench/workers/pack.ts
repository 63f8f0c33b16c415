/**
 * bun bench/workers/pack.ts <dir> <out.tar>: packs the tree, prints a summary of packTree's result as JSON.
 * Each run writes a fresh file (`<out>.<pid>`): the store always packs to a new
 * name, and replacing last run's archive would time the unlink of 200 MB too.
 * The runner's work dir, and every archive in it, is removed afterwards.
 */
import { packTree } from "../../wasm/index.ts";

const [dir, out] = process.argv.slice(2);
if (dir === undefined || out === undefined) throw new Error("usage: pack.ts <dir> <out.tar>");
const { tarHash, bytes, entries, skipped } = await packTree(dir, `${out}.${process.pid}`);
console.log(JSON.stringify({ tarHash, bytes, entries, skipped: skipped.length }));
