/**
 * Run as the rootless test user: makes a tree holding a 0700 directory owned
 * by a subordinate uid (what apt leaves behind), shows it cannot be read or
 * removed from outside, then packs and removes it through the user-namespace
 * tasks. Prints one JSON line with what happened.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packTreeAsOwner, removeTreeAsOwner } from "../../../src/runtime/namespace/subid-tree.ts";
import { detectMapping, runInUserns } from "../../../src/runtime/userns.ts";

const work = process.argv[2];
if (work === undefined) throw new Error("usage: subid-tree.ts <work-dir>");
const tree = join(work, "tree");
mkdirSync(join(tree, "secret"), { recursive: true });
writeFileSync(join(tree, "secret", "partial"), "apt's file\n");
writeFileSync(join(tree, "public"), "hello\n");
const setup = await runInUserns(["sh", "-c", 'chown -R 100:100 "$1/secret" && chmod 0700 "$1/secret" && stat -c %u "$1/secret"', "sh", tree]);

let outsideError = "";
try {
  readdirSync(join(tree, "secret"));
} catch (error) {
  outsideError = (error as NodeJS.ErrnoException).code ?? "?";
}
const pack = await packTreeAsOwner(tree, join(work, "tree.tar"));
await removeTreeAsOwner(tree);
console.log(JSON.stringify({ mapping: detectMapping().kind, setup, outsideError, pack, treeGone: !existsSync(tree), tarExists: existsSync(join(work, "tree.tar")) }));
