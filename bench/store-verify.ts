/** bun bench/store-verify.ts <root>: verify-store on the store at <root>; prints {"objects", "bytes", "ok"}. */
import { openStore, verifyStore } from "../src/store/index.ts";

const root = process.argv[2];
if (root === undefined) throw new Error("usage: store-verify.ts <root>");
const store = openStore(root);
const report = await verifyStore(store);
store.close();
console.log(JSON.stringify({ objects: report.objects.checked, bytes: report.objects.bytes, ok: report.ok }));
