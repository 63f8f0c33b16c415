/** `bun bench/workers/image-prepare.ts <store> <image>`: one prepareImage, as a build runs it (for bench/images.ts). */
import { prepareImage } from "../../src/images/index.ts";

const [store, image] = process.argv.slice(2);
if (store === undefined || image === undefined) throw new Error("usage: image-prepare.ts <store> <image>");
const img = await prepareImage(image, { storeRoot: store, offline: false, progress: null });
process.stdout.write(`${img.digest}\n`);
