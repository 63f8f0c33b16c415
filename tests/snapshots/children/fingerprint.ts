/** Prints fingerprintTree(<dir>) as JSON; run inside the mount namespace that has the overlay mounted. */
import { fingerprintTree } from "../overlay.ts";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: fingerprint.ts <dir>");
process.stdout.write(JSON.stringify(fingerprintTree(dir)));
