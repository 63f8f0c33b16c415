/**
 * `snapshot-unpack <store-root> <tar-hash> <dest> [--whiteouts=auto|device|files] [--xattrs=user|trusted]`:
 * a layer object from the store into a fresh directory, the object re-hashed
 * while it is read (see ../owner.ts for why it may run in a user namespace).
 */
import { RuntimeError } from "../../errors.ts";
import { StoreLayout } from "../../store/layout.ts";
import { ObjectStore } from "../../store/objects.ts";
import { unpackLayer, type UnpackOptions, type UnpackResult, type WhiteoutStyle } from "../unpack.ts";

export async function unpackStoreObject(storeRoot: string, tarHash: string, dest: string, options: UnpackOptions): Promise<UnpackResult> {
  const objects = new ObjectStore(new StoreLayout(storeRoot));
  return unpackLayer(objects.stream(tarHash), dest, options);
}

const STYLES: readonly WhiteoutStyle[] = ["auto", "device", "files"];

export async function run(args: readonly string[]): Promise<UnpackResult> {
  const positional = args.filter((a) => !a.startsWith("--"));
  const flags = new Map(args.filter((a) => a.startsWith("--")).map((a) => a.slice(2).split("=", 2) as [string, string]));
  const [root, hash, dest] = positional;
  const whiteouts = flags.get("whiteouts") ?? "auto";
  const xattrs = flags.get("xattrs") ?? "user";
  if (root === undefined || hash === undefined || dest === undefined || positional.length !== 3 || !STYLES.includes(whiteouts as WhiteoutStyle) || (xattrs !== "user" && xattrs !== "trusted")) {
    throw new RuntimeError("snapshot-unpack takes <store-root> <tar-hash> <dest> [--whiteouts=auto|device|files] [--xattrs=user|trusted]");
  }
  return unpackStoreObject(root, hash, dest, { whiteouts: whiteouts as WhiteoutStyle, overlayXattrs: xattrs });
}
